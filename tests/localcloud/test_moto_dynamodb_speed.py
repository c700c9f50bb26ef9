"""The DynamoDB fast paths of ``localcloud.moto_internals`` give exactly what moto's own code gives."""

from __future__ import annotations

import io
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


# ---------------------------------------------------------------------- the dispatch fast path
def _environ(target: str, body: dict[str, Any], service: str = "dynamodb", **extra: str) -> dict[str, Any]:
    """A WSGI environ of a request signed as botocore signs it."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        "POST",
        "http://127.0.0.1:4566/",
        data=json.dumps(body).encode(),
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
    )
    SigV4Auth(Credentials("localcloud", "localcloud"), service, "us-east-1").add_auth(request)
    data = request.body if isinstance(request.body, bytes) else str(request.body).encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "4566",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "CONTENT_LENGTH": str(len(data)),
        "CONTENT_TYPE": "application/x-amz-json-1.0",
        "HTTP_HOST": "127.0.0.1:4566",
    }
    for name, value in request.headers.items():
        if name.lower() != "content-type":
            environ["HTTP_" + name.upper().replace("-", "_")] = str(value)
    environ.update(extra)
    return environ


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = status, headers

    body = b"".join(app(environ, start_response))
    headers = {name.lower(): value for name, value in answer["headers"] if name.lower() != "x-amzn-requestid"}
    return answer["status"], headers, body


TABLE = "dispatch-fast-path"
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "one"}}}),
    ("GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "missing"}}}),
    ("GetItem", {"TableName": "no-such-table", "Key": {"pk": {"S": "one"}}}),
    ("GetItem", {"TableName": TABLE, "Key": {"wrong": {"S": "one"}}}),
    ("Scan", {"TableName": TABLE}),
    (
        "Query",
        {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "one"}},
        },
    ),
    ("DescribeTable", {"TableName": TABLE}),
    # fails in both paths (the item exists), so both see the same state
    (
        "PutItem",
        {"TableName": TABLE, "Item": {"pk": {"S": "one"}}, "ConditionExpression": "attribute_not_exists(pk)"},
    ),
]


@pytest.mark.parametrize(("operation", "body"), CALLS, ids=[f"{op}-{i}" for i, (op, _) in enumerate(CALLS)])
def test_dynamodb_dispatch_answers_as_moto_flask_app(operation: str, body: dict[str, Any]) -> None:
    app = moto_internals.wsgi_app()
    assert isinstance(app, moto_internals._DynamoDBDispatch)
    target = "DynamoDB_20120810."
    if _call(app.dispatcher, _environ(target + "DescribeTable", {"TableName": TABLE}))[0].startswith("400"):
        _call(
            app,
            _environ(
                target + "CreateTable",
                {
                    "TableName": TABLE,
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "BillingMode": "PAY_PER_REQUEST",
                },
            ),
        )
        status = _call(
            app,
            _environ(target + "PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "one"}, "n": {"N": "1"}}}),
        )[0]
        assert status == "200 OK"
    fast = _call(app, _environ(target + operation, body))
    flask = _call(app.dispatcher, _environ(target + operation, body))
    assert fast == flask


def test_only_signed_dynamodb_calls_without_origin_take_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = moto_internals.wsgi_app()
    fast: list[dict[str, Any]] = []
    monkeypatch.setattr(moto_internals, "_dynamodb_response", lambda environ: fast.append(environ))
    monkeypatch.setattr(app, "dispatcher", lambda environ, start_response: [b"moto"])
    body = {"TableName": TABLE}
    browser = _environ("DynamoDB_20120810.DescribeTable", body, HTTP_ORIGIN="http://localhost:3000")
    other_service = _environ("DynamoDB_20120810.DescribeTable", body, service="cognito-idp")
    streams = _environ("DynamoDBStreams_20120810.ListStreams", {})
    unsigned = _environ("DynamoDB_20120810.DescribeTable", body)
    del unsigned["HTTP_AUTHORIZATION"]
    for environ in (
        browser,
        other_service,
        streams,
        unsigned,
        {**_environ("DynamoDB_20120810.X", {}), "PATH_INFO": "/x"},
    ):
        assert app(environ, lambda *args: None) == [b"moto"]
    assert fast == []
    with pytest.raises(TypeError):  # the stub returns None: it was called
        app(_environ("DynamoDB_20120810.DescribeTable", body), lambda *args: None)
    assert len(fast) == 1
