"""DynamoDB implementation of ``logic.CommentTable``."""

from typing import Any

from store_common.dynamo import dynamodb_client, query_newest_first, to_item


class DynamoCommentTable:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self.client = client or dynamodb_client()

    def insert(self, item: dict[str, Any]) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(sortKey)",
        )

    def newest_first(
        self, page_id: str, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        return query_newest_first(self.client, self.table_name, ("pageId", page_id), limit, start_key)
