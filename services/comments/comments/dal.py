"""DynamoDB implementation of ``logic.CommentTable``."""

from typing import Any

from store_common.dynamo import dynamodb_client, from_item, to_item


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
        kwargs: dict[str, Any] = {}
        if start_key:
            kwargs["ExclusiveStartKey"] = to_item(start_key)
        response = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pageId = :page",
            ExpressionAttributeValues=to_item({":page": page_id}),
            ScanIndexForward=False,
            Limit=limit,
            **kwargs,
        )
        items = [from_item(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, (from_item(last) if last else None)
