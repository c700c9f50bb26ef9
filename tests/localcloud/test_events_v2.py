"""The payload format 2.0 event, and how the function's answer becomes HTTP."""

import base64
import json

import pytest

from localcloud.events_v2 import HttpRequest, MalformedResponseError, build_event, map_response
from localcloud.routes import ApiSpec, Integration, Route, RouteMatch, Stage

API = ApiSpec("Api", "abc123", stages=[Stage("$default", {"apiVersion": "v2"})])
MATCH = RouteMatch(Route("GET /pets/{petId}", "GET", "/pets/{petId}", Integration("Fn")), {"petId": "rex"})


def request(**changes: object) -> HttpRequest:
    fields: dict[str, object] = {
        "method": "GET",
        "raw_path": "/pets/rex",
        "raw_query": "a=1&a=2&b=&c=%20x",
        "headers": {"host": "api.example:3001", "user-agent": "ua", "cookie": "k=v; z=1", "x-multi": "1,2"},
        "body": b"",
        "source_ip": "127.0.0.1",
    }
    fields.update(changes)
    return HttpRequest(**fields)  # type: ignore[arg-type]


def event(req: HttpRequest | None = None, **kwargs: object) -> dict[str, object]:
    options: dict[str, object] = {
        "account_id": "123456789012",
        "request_id": "rid",
        "domain_name": "api.example",
        "now": 1_700_000_000.5,
    }
    options.update(kwargs)
    return build_event(req or request(), API, API.stages[0], MATCH, **options)  # type: ignore[arg-type]


def test_event_shape() -> None:
    built = event()
    assert built["version"] == "2.0"
    assert built["routeKey"] == "GET /pets/{petId}"
    assert built["rawPath"] == "/pets/rex"
    assert built["rawQueryString"] == "a=1&a=2&b=&c=%20x"
    assert built["cookies"] == ["k=v", "z=1"]
    assert "cookie" not in built["headers"]  # type: ignore[operator]
    assert built["headers"]["x-multi"] == "1,2"  # type: ignore[index]
    assert built["queryStringParameters"] == {"a": "1,2", "b": "", "c": " x"}
    assert built["pathParameters"] == {"petId": "rex"}
    assert built["stageVariables"] == {"apiVersion": "v2"}
    assert built["isBase64Encoded"] is False
    assert "body" not in built
    context = built["requestContext"]
    assert context == {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "api.example",
        "domainPrefix": "api",
        "http": {
            "method": "GET",
            "path": "/pets/rex",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "ua",
        },
        "requestId": "rid",
        "routeKey": "GET /pets/{petId}",
        "stage": "$default",
        "time": "14/Nov/2023:22:13:20 +0000",
        "timeEpoch": 1_700_000_000_500,
    }


def test_keys_with_nothing_to_say_are_left_out() -> None:
    built = build_event(
        request(raw_query="", headers={}),
        ApiSpec("Api", "abc"),
        Stage("$default"),
        RouteMatch(Route("GET /pets", "GET", "/pets", Integration("Fn")), {}),
        account_id="1",
        request_id="r",
        domain_name="d",
    )
    for key in ("cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"):
        assert key not in built


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("text/plain", True),
        ("application/vnd.api+json", True),
        ("application/xml", True),
        ("application/octet-stream", False),
        ("image/png", False),
        ("application/x-www-form-urlencoded", False),
        (None, False),
    ],
)
def test_body_is_text_or_base64(content_type: str | None, text: bool) -> None:
    headers = {"content-type": content_type} if content_type else {}
    built = event(request(method="PUT", body=b'{"a":1}', headers=headers))
    assert built["isBase64Encoded"] is (not text)
    assert built["body"] == ('{"a":1}' if text else base64.b64encode(b'{"a":1}').decode())


def test_jwt_claims_are_strings_as_api_gateway_passes_them() -> None:
    claims = {"sub": "u1", "exp": 1700000000, "cognito:groups": ["a", "b"], "email_verified": True}
    built = event(jwt_claims=claims, jwt_scopes=["aws.cognito.signin.user.admin"])
    assert built["requestContext"]["authorizer"] == {  # type: ignore[index]
        "jwt": {
            "claims": {"sub": "u1", "exp": "1700000000", "cognito:groups": "[a b]", "email_verified": "true"},
            "scopes": ["aws.cognito.signin.user.admin"],
        }
    }
    assert "authorizer" not in event()["requestContext"]  # type: ignore[operator]


def test_named_stage_in_event() -> None:
    api = ApiSpec("Api", "abc", stages=[Stage("$default"), Stage("v1", {"apiVersion": "v1"})])
    built = build_event(
        request(raw_path="/v1/pets/rex"),
        api,
        api.stages[1],
        MATCH,
        account_id="1",
        request_id="r",
        domain_name="d",
    )
    assert built["requestContext"]["stage"] == "v1"
    assert built["rawPath"] == "/v1/pets/rex"
    assert built["stageVariables"] == {"apiVersion": "v1"}


# ---------------------------------------------------------------------- responses
def test_proxy_response() -> None:
    response = map_response(
        {
            "statusCode": 201,
            "headers": {"ETag": '"1"', "x-flag": True},
            "multiValueHeaders": {"x-multi": ["a", "b"]},
            "cookies": ["a=1", "b=2"],
            "body": '{"id":"rex"}',
        }
    )
    assert response.status == 201
    assert response.headers == [
        ("ETag", '"1"'),
        ("x-flag", "true"),
        ("x-multi", "a"),
        ("x-multi", "b"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ]
    assert response.body == b'{"id":"rex"}'


def test_base64_body_is_decoded() -> None:
    response = map_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\xff").decode(), "isBase64Encoded": True}
    )
    assert response.body == b"\x00\xff"


def test_no_body() -> None:
    assert map_response({"statusCode": 204}).body == b""


@pytest.mark.parametrize(
    ("result", "body"),
    [
        ({"message": "hi"}, {"message": "hi"}),
        ([1, 2], [1, 2]),
        (3, 3),
        (True, True),
        (None, None),
    ],
)
def test_simple_response_inference(result: object, body: object) -> None:
    response = map_response(result)
    assert response.status == 200
    assert response.headers == [("content-type", "application/json")]
    assert json.loads(response.body) == body


def test_simple_response_string_is_the_body() -> None:
    assert map_response("Hello from Lambda!").body == b"Hello from Lambda!"


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 99},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "headers": {"x": {"nested": 1}}},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
    ],
)
def test_malformed_responses(result: object) -> None:
    with pytest.raises(MalformedResponseError):
        map_response(result)
