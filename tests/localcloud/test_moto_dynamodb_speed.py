"""The DynamoDB fast paths of ``localcloud.moto_internals`` give exactly what moto's own code gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.core.serialize import JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model

from localcloud import moto_internals

from .conftest import EchoCloud

ITEM: dict[str, Any] = {
    "pk": {"S": "item"},
    "sk": {"S": "1"},
    "text": {"S": 'héllo "quoted" \u2603'},
    "empty": {"S": ""},
    "number": {"N": "42"},
    "decimal": {"N": "-1.5E+3"},
    "binary": {"B": b"\x00\xff\x10binary"},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "binaries": {"BS": [b"x", b"\x00y"]},
    "map": {"M": {"inner": {"S": "x"}, "deep": {"L": [{"N": "1"}, {"NULL": True}, {"B": b"z"}]}}},
    "list": {"L": [{"S": "a"}, {"M": {}}, {"L": []}, {"BOOL": False}]},
    "nothing": {"NULL": True},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
}
RESULTS: dict[str, Any] = {
    "GetItem": {"Item": ITEM, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}},
    "PutItem": {"Attributes": ITEM},
    "UpdateItem": {"Attributes": ITEM},
    "DeleteItem": {},
    "Scan": {"Items": [ITEM, ITEM], "Count": 2, "ScannedCount": 2, "LastEvaluatedKey": {"pk": {"S": "x"}}},
    "Query": {"Items": [], "Count": 0, "ScannedCount": 0},
    "BatchGetItem": {"Responses": {"t": [ITEM]}, "UnprocessedKeys": {}},
    "TransactGetItems": {"Responses": [{"Item": ITEM}, {}]},
}


def serialize(serializer: type[JSONSerializer], operation: str, result: Any) -> Any:
    operation_model = get_service_model("dynamodb").operation_model(operation)
    instance = serializer(
        operation_model=operation_model,
        pretty_print=False,
        value_picker=XFormedAttributePicker(response_transformers=None),
    )
    return instance.serialize(result)


@pytest.mark.parametrize("operation", sorted(RESULTS))
def test_fast_serializer_writes_what_moto_writes(operation: str) -> None:
    moto_output = serialize(JSONSerializer, operation, RESULTS[operation])
    fast_output = serialize(moto_internals._DynamoDBJSONSerializer, operation, RESULTS[operation])
    assert fast_output["status_code"] == moto_output["status_code"]
    assert fast_output["headers"] == moto_output["headers"]
    assert json.loads(fast_output["body"]) == json.loads(moto_output["body"])


def test_the_fast_paths_are_installed_by_the_backend() -> None:
    moto_internals.install_fast_dynamodb()
    from moto.core import serialize as moto_serialize
    from moto.dynamodb import models, responses

    assert moto_serialize.get_serializer_class("dynamodb", "json") is moto_internals._DynamoDBJSONSerializer
    assert moto_serialize.get_serializer_class("stepfunctions", "json") is moto_serialize.JSONSerializer
    assert models.UpdateExpressionParser is moto_internals._CachedUpdateExpressionParser
    assert responses.UpdateExpressionParser is moto_internals._CachedUpdateExpressionParser


def test_items_round_trip_through_the_local_backend(echo_cloud: EchoCloud) -> None:
    """Every attribute type, through boto3 and moto's server with the fast paths on."""
    dynamodb = echo_cloud.client("dynamodb")
    table = echo_cloud.cloud.stack.physical["EchoTable"].ref  # type: ignore[union-attr]
    item = {**ITEM, "pk": {"S": "speed"}, "sk": {"S": "all-types"}}
    dynamodb.put_item(TableName=table, Item=item)
    key = {"pk": item["pk"], "sk": item["sk"]}
    assert dynamodb.get_item(TableName=table, Key=key)["Item"] == item
    scanned = dynamodb.scan(TableName=table)["Items"]
    assert item in scanned
    # the same expression twice (its parse is cached), with different values each time
    for count in (1, 2):
        updated = dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #n = :n, #t = :t",
            ExpressionAttributeNames={"#n": "number", "#t": "text"},
            ExpressionAttributeValues={":n": {"N": str(count)}, ":t": {"S": f"v{count}"}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        assert updated["number"] == {"N": str(count)} and updated["text"] == {"S": f"v{count}"}
        assert updated["binary"] == item["binary"] and updated["map"] == item["map"]
