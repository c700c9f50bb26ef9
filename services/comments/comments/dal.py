"""DynamoDB implementations of ``logic.CommentTable``, ``logic.AuthorNames`` and ``logic.CommentCleaner``."""

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from store_common.dynamo import (
    dynamodb_client,
    from_item,
    insert_about_pet,
    is_condition_failure,
    query_newest_first,
    to_item,
)

from comments.logic import DeleteOutcome

BATCH_SIZE = 25
"""BatchWriteItem's limit of requests per call."""
BATCH_ATTEMPTS = 8
"""Calls per batch, retrying what DynamoDB left unprocessed (throttling), before giving up."""


class DynamoCommentTable:
    """The comments table; a comment's pet is checked in the pets table (owned by the pets service)."""

    def __init__(self, table_name: str, pets_table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self.pets_table_name = pets_table_name
        self.client = client or dynamodb_client()

    def insert(self, item: dict[str, Any]) -> None:
        """One transaction: the pet ``{"id": pageId}`` exists, and the comment is new."""
        insert_about_pet(self.client, self.table_name, item, "sortKey", self.pets_table_name, item["pageId"])

    def newest_first(
        self, page_id: str, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        return query_newest_first(self.client, self.table_name, ("pageId", page_id), limit, start_key)

    def find(self, page_id: str, comment_id: str) -> dict[str, Any] | None:
        """The page's comments are few: a Query of the page, filtered, until the comment is found."""
        kwargs: dict[str, Any] = {}
        while True:
            response = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="pageId = :page",
                FilterExpression="commentId = :comment",
                ProjectionExpression="sortKey, authorId",
                ExpressionAttributeValues=to_item({":page": page_id, ":comment": comment_id}),
                ConsistentRead=True,
                **kwargs,
            )
            if response.get("Items"):
                return from_item(response["Items"][0])
            if not response.get("LastEvaluatedKey"):
                return None
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def delete(self, page_id: str, sort_key: str, author_id: str | None) -> DeleteOutcome:
        kwargs: dict[str, Any] = {"ConditionExpression": "attribute_exists(sortKey)"}
        if author_id is not None:  # a missing item fails this condition too
            kwargs = {
                "ConditionExpression": "authorId = :author",
                "ExpressionAttributeValues": to_item({":author": author_id}),
            }
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=to_item({"pageId": page_id, "sortKey": sort_key}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **kwargs,
            )
        except ClientError as error:
            if is_condition_failure(error):
                return "refused" if error.response.get("Item") else "absent"
            raise
        return "deleted"


class DynamoAuthorNames:
    """Display names from the profiles table (read-only: the profiles service owns it)."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self.client = client or dynamodb_client()

    def display_name(self, user_id: str) -> str | None:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=to_item({"userId": user_id}),
            ProjectionExpression="displayName",
        )
        name = from_item(response.get("Item") or {}).get("displayName")
        return str(name) if name else None


class UnprocessedDeletes(RuntimeError):
    """DynamoDB still refused some deletes after every attempt: the invocation fails and is retried."""


class DynamoCommentCleaner:
    """Deletes a range of a page's comments: Query pages of keys, BatchWriteItem them 25 at a time."""

    def __init__(
        self, table_name: str, client: Any | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.table_name = table_name
        self.client = client or dynamodb_client()
        self.sleep = sleep

    def delete_up_to(self, page_id: str, last_sort_key: str) -> int:
        deleted = 0
        kwargs: dict[str, Any] = {}
        while True:
            response = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="pageId = :page AND sortKey <= :last",
                ProjectionExpression="pageId, sortKey",
                ExpressionAttributeValues=to_item({":page": page_id, ":last": last_sort_key}),
                ConsistentRead=True,
                **kwargs,
            )
            keys = response.get("Items", [])
            for start in range(0, len(keys), BATCH_SIZE):
                self._delete_batch(keys[start : start + BATCH_SIZE])
            deleted += len(keys)
            if not response.get("LastEvaluatedKey"):
                return deleted
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _delete_batch(self, keys: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self.table_name: [{"DeleteRequest": {"Key": key}} for key in keys]}
        for attempt in range(BATCH_ATTEMPTS):
            if attempt:
                self.sleep(min(0.05 * 2**attempt, 1.0))  # DynamoDB's advice: back off exponentially
            pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                return
        left = len(pending.get(self.table_name, []))
        raise UnprocessedDeletes(f"{left} comment deletes left unprocessed after {BATCH_ATTEMPTS} attempts")
