"""DynamoDB persistence helpers on the low-level client.

The low-level client with boto3's type (de)serialisers is used instead of the resource API:
it imports faster (cold start) and makes every request explicit.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from store_common.errors import Conflict, ItemExists, NotFound, PreconditionFailed

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

AnyVersion = "*"
"""``If-Match: *``: the item must exist, whatever its version."""

Expected = int | str | None
"""What a write expects of the stored item, checked atomically by a condition expression:
a version (it must have exactly that one), ``AnyVersion`` (it must exist) or None (it must NOT
exist: a write without a precondition may only create, so it can never overwrite an update it
did not see)."""


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: _deserializer.deserialize(v) for k, v in item.items()}
    # DynamoDB numbers come back as Decimal; every number this project stores is an integer.
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def dynamodb_client() -> Any:
    """One client per process; boto3 reads the region and ``AWS_ENDPOINT_URL`` from the environment."""
    return boto3.client("dynamodb")


def query_newest_first(
    client: Any,
    table_name: str,
    partition: tuple[str, str],
    limit: int,
    start_key: dict[str, str] | None,
    index_name: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """One page of a partition in descending sort-key order: one Query, never a Scan."""
    name, value = partition
    kwargs: dict[str, Any] = {"IndexName": index_name} if index_name else {}
    if start_key:
        kwargs["ExclusiveStartKey"] = to_item(start_key)
    response = client.query(
        TableName=table_name,
        KeyConditionExpression="#partition = :partition",
        ExpressionAttributeNames={"#partition": name},
        ExpressionAttributeValues=to_item({":partition": value}),
        ScanIndexForward=False,
        Limit=limit,
        **kwargs,
    )
    items = [from_item(i) for i in response.get("Items", [])]
    last = response.get("LastEvaluatedKey")
    return items, (from_item(last) if last else None)


def insert_about_pet(
    client: Any,
    table_name: str,
    item: Mapping[str, Any],
    key_attribute: str,
    pets_table_name: str,
    pet_id: str,
) -> None:
    """Writes a new ``item`` (none with its ``key_attribute`` yet) in one transaction with a check
    that the pet ``pet_id`` exists in the pets service's table: nothing is ever recorded about a pet
    that does not exist or is being deleted, and no separate read is made.

    NotFound when the pet does not exist; Conflict when the pet was being written at that very
    moment (DynamoDB cancels the transaction: a retry will do).
    """
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": pets_table_name,
                        "Key": to_item({"id": pet_id}),
                        "ConditionExpression": "attribute_exists(id)",
                    }
                },
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": to_item(item),
                        "ConditionExpression": f"attribute_not_exists({key_attribute})",
                    }
                },
            ]
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
        if reasons[:1] == ["ConditionalCheckFailed"]:
            raise NotFound(f"pet {pet_id!r} not found") from None
        if "TransactionConflict" in reasons:
            raise Conflict(f"pet {pet_id!r} was being changed at the same moment: retry") from None
        raise


class VersionedItemTable:
    """A table keyed by ``id`` whose items carry ``version``, ``createdAt`` and ``updatedAt``.

    ``replace`` is one atomic UpdateItem: it replaces the item's attributes, increments the
    version (1 on creation), and checks what the caller expects (``Expected``) with a condition
    expression, so no other write can come between the check and the write.
    """

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self.client = client or dynamodb_client()

    def get(self, item_id: str) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.table_name, Key=to_item({"id": item_id}))
        item = response.get("Item")
        return from_item(item) if item else None

    def page(
        self, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Limit": limit}
        if start_key:
            kwargs["ExclusiveStartKey"] = to_item(start_key)
        response = self.client.scan(**kwargs)
        items = [from_item(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, (from_item(last) if last else None)

    def replace(
        self,
        item_id: str,
        attributes: Mapping[str, Any],
        removed: set[str],
        now: str,
        expected_version: Expected = None,
    ) -> dict[str, Any]:
        """Write ``attributes`` (dropping ``removed``), return the new item.

        Raises ``ItemExists`` when ``expected_version`` is None and the item exists, and
        ``PreconditionFailed`` when it is a version or ``AnyVersion`` that the item does not meet.
        """
        names: dict[str, str] = {"#version": "version", "#createdAt": "createdAt", "#updatedAt": "updatedAt"}
        values: dict[str, Any] = {":zero": 0, ":one": 1, ":now": now}
        sets = [
            "#version = if_not_exists(#version, :zero) + :one",
            "#createdAt = if_not_exists(#createdAt, :now)",
            "#updatedAt = :now",
        ]
        for index, (name, value) in enumerate(sorted(attributes.items())):
            names[f"#a{index}"] = name
            values[f":a{index}"] = value
            sets.append(f"#a{index} = :a{index}")
        expression = "SET " + ", ".join(sets)
        if removed:
            for index, name in enumerate(sorted(removed)):
                names[f"#r{index}"] = name
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removed)))
        kwargs: dict[str, Any] = {}
        if expected_version is None:
            kwargs["ConditionExpression"] = "attribute_not_exists(id)"
        elif expected_version == AnyVersion:
            kwargs["ConditionExpression"] = "attribute_exists(id)"
        else:
            kwargs["ConditionExpression"] = "#version = :expected"
            values[":expected"] = expected_version
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=to_item({"id": item_id}),
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **kwargs,
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise _precondition_failed(error, expected_version) from None
            raise
        return from_item(response["Attributes"])

    def delete(self, item_id: str, expected_version: Expected = None) -> dict[str, Any]:
        """Delete the item and return it; raise NotFound when absent, PreconditionFailed on a mismatch.

        With ``expected_version`` None the condition is that the item does not exist: an absent
        item is then a NotFound, and an existing one an ``ItemExists`` (deleted only with a version
        or ``AnyVersion``), decided atomically by DynamoDB, not by a read before the delete.
        """
        kwargs: dict[str, Any] = {}
        if expected_version is None:
            kwargs["ConditionExpression"] = "attribute_not_exists(id)"
        elif expected_version == AnyVersion:
            kwargs["ConditionExpression"] = "attribute_exists(id)"
        else:
            kwargs["ConditionExpression"] = "version = :expected"
            kwargs["ExpressionAttributeValues"] = to_item({":expected": expected_version})
        try:
            response = self.client.delete_item(
                TableName=self.table_name,
                Key=to_item({"id": item_id}),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **kwargs,
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise _precondition_failed(error, expected_version) from None
            raise
        if "Attributes" not in response:
            raise NotFound(f"no item with id {item_id!r}")
        return from_item(response["Attributes"])


def _precondition_failed(error: ClientError, expected: Expected) -> PreconditionFailed:
    """The error of a failed condition, from the item as it was (``ALL_OLD`` on failure)."""
    current: Any = error.response.get("Item")
    version = from_item(current).get("version") if current else None
    if expected is None:  # only an existing item fails attribute_not_exists
        return ItemExists(f"the item exists (version {version})", version)
    if not current:
        return PreconditionFailed(f"If-Match {expected} does not match: the item does not exist")
    return PreconditionFailed(f"If-Match {expected} does not match the current version {version}")
