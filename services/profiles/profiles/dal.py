"""DynamoDB implementation of ``logic.ProfileTable``."""

from typing import Any

from store_common.dynamo import dynamodb_client, from_item, to_item


class DynamoProfileTable:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self.client = client or dynamodb_client()

    def get(self, user_id: str) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.table_name, Key=to_item({"userId": user_id}))
        item = response.get("Item")
        return from_item(item) if item else None

    def put(self, item: dict[str, Any]) -> None:
        self.client.put_item(TableName=self.table_name, Item=to_item(item))
