"""The container adapter (store_common.container): the pets handler through HTTP, as on ECS.

The WSGI application runs in-process under werkzeug's test client, against the real pets handler
(with the template's environment) and moto's tables; what the HTTP API's integration would add --
the verified token's sub, the stage variable, the request id -- comes as the headers its parameter
mapping sets, beside the client's own bearer token. What the handler answers must be what it answers through API Gateway's Lambda
integration: the same statuses and JSON bodies, headers mapped as API Gateway maps them.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from store_common.auth import STAFF_ONLY_MESSAGE
from store_common.container import (
    HEALTH_PATH,
    MAX_PAYLOAD_BYTES,
    REQUEST_ID_HEADER,
    SOURCE_IP_HEADER,
    STAGE_VARIABLE_HEADERS,
    VERIFIED_SUB_HEADER,
    ContainerApp,
)
from store_common.http import NOT_UTF8
from store_common.proxy_event import map_response
from werkzeug.test import Client, TestResponse, create_environ

from tests.support import lambda_handler, set_function_environment

PET = {"name": "Rex", "species": "dog", "priceCents": 45000}
SCOPE = "aws.cognito.signin.user.admin"


def token(sub: str, **claims: Any) -> str:
    """A JWT as a client sends it, unsigned: the adapter reads the token API Gateway verified, and
    the signature is API Gateway's to check (tests/localcloud/test_e2e_fargate.py, through it)."""

    def part(document: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part({'sub': sub, 'scope': SCOPE, **claims})}.c2ln"


def signed_in(sub: str, **claims: Any) -> dict[str, str]:
    """What a signed-in route's integration sends: the client's token, and its sub as API Gateway verified it."""
    return {"Authorization": f"Bearer {token(sub, **claims)}", VERIFIED_SUB_HEADER: sub}


STAFF = signed_in("user-1", **{"cognito:groups": ["staff"]})
CUSTOMER = signed_in("user-2")
V1 = {STAGE_VARIABLE_HEADERS["apiVersion"]: "v1"}


@pytest.fixture
def pets(aws: None, monkeypatch: pytest.MonkeyPatch) -> Client:
    """The pets service's container, in-process: its handler with the template's environment."""
    set_function_environment("PetsFunction", monkeypatch)
    return Client(ContainerApp(lambda_handler("PetsFunction"), function_name="pets"))


def json_of(response: TestResponse) -> Any:
    assert response.headers["Content-Type"] == "application/json"
    assert b"Traceback" not in response.data
    return json.loads(response.data)


def put_pet(client: Client, pet_id: str, headers: dict[str, str], **extra: str) -> TestResponse:
    return client.put(f"/pets/{pet_id}", json=PET, headers={**headers, **extra})


# ----------------------------------------------------------------- the pets service over HTTP


def test_put_get_list_delete_through_http(pets: Client) -> None:
    created = put_pet(pets, "rex", STAFF)
    assert created.status_code == 201
    assert created.headers["ETag"] == '"1"'
    pet = json_of(created)
    assert pet["id"] == "rex" and pet["version"] == 1

    fetched = pets.get("/pets/rex")
    assert fetched.status_code == 200 and json_of(fetched) == pet

    listed = json_of(pets.get("/pets?limit=10"))
    assert listed["items"] == [pet] and "nextToken" in listed

    assert put_pet(pets, "rex", STAFF, **{"If-Match": '"9"'}).status_code == 412
    deleted = pets.delete("/pets/rex", headers={**STAFF, "If-Match": '"1"'})
    assert deleted.status_code == 204 and deleted.data == b""
    missing = pets.get("/pets/rex")
    assert missing.status_code == 404 and json_of(missing) == {"message": "pet 'rex' not found"}


def test_writes_need_the_claims_as_through_api_gateway(pets: Client) -> None:
    """No claims: 401 as the handler answers a request without an authorizer's verdict (through
    API Gateway such a request never reaches it: the authorizer's own 401 has the same body);
    a customer: 403 from the staff guard; staff: the write."""
    anonymous = put_pet(pets, "rex", {})
    assert anonymous.status_code == 401 and json_of(anonymous) == {"message": "Unauthorized"}
    customer = put_pet(pets, "rex", CUSTOMER)
    assert customer.status_code == 403 and json_of(customer) == {"message": STAFF_ONLY_MESSAGE}
    assert pets.delete("/pets/rex", headers=CUSTOMER).status_code == 403
    assert pets.get("/pets/rex").status_code == 404  # the refused writes stored nothing
    assert put_pet(pets, "rex", STAFF).status_code == 201


def test_a_token_api_gateway_did_not_verify_gives_no_claims(pets: Client) -> None:
    """A public route's integration removes the sub header: a token there says nothing, whatever it
    claims; so does a token whose sub is not the one API Gateway verified."""
    forged = {"Authorization": STAFF["Authorization"]}
    assert put_pet(pets, "rex", forged).status_code == 401
    swapped = {**STAFF, VERIFIED_SUB_HEADER: "someone-else"}
    assert put_pet(pets, "rex", swapped).status_code == 401
    for broken in ("Bearer not-a-jwt", "Bearer a.!!!.c", f"Bearer {token('user-1')[:-5]}.x.y"):
        response = put_pet(pets, "rex", {"Authorization": broken, VERIFIED_SUB_HEADER: "user-1"})
        assert response.status_code == 401, broken
    assert pets.get("/pets/rex").status_code == 404  # the refused writes stored nothing


def test_the_token_without_bearer_prefix_is_read_too(pets: Client) -> None:
    headers = {"Authorization": STAFF["Authorization"].removeprefix("Bearer "), VERIFIED_SUB_HEADER: "user-1"}
    assert put_pet(pets, "rex", headers).status_code == 201


def test_v1_stage_variable_header_gives_the_bare_array(pets: Client) -> None:
    assert put_pet(pets, "rex", STAFF).status_code == 201
    assert put_pet(pets, "tom", STAFF).status_code == 201
    v1 = json_of(pets.get("/pets?limit=10", headers=V1))
    assert isinstance(v1, list) and sorted(pet["id"] for pet in v1) == ["rex", "tom"]
    v2 = json_of(pets.get("/pets?limit=1"))
    assert len(v2["items"]) == 1 and v2["nextToken"]
    too_many = pets.get("/pets?limit=1", headers=V1)
    assert too_many.status_code == 400 and "API v1" in json_of(too_many)["message"]


def test_non_utf8_body_is_a_400(pets: Client) -> None:
    response = pets.put(
        "/pets/rex", data=b'{"name": "R\xffx"}', headers={**STAFF, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert json_of(response)["errors"] == [{"field": "body", "problem": NOT_UTF8}]


def test_strict_input_still_applies(pets: Client) -> None:
    form = pets.put("/pets/rex", data="name=Rex", headers={**STAFF, "Content-Type": "text/plain"})
    assert form.status_code == 415
    invalid = pets.put("/pets/rex", data="{", headers={**STAFF, "Content-Type": "application/json"})
    assert invalid.status_code == 400 and json_of(invalid)["message"]


def test_unknown_route_is_a_json_404(pets: Client) -> None:
    response = pets.get("/nowhere")
    assert response.status_code == 404 and json_of(response) == {"message": "Not found"}


# ----------------------------------------------------------------- the adapter itself


class Recorder:
    """A handler that keeps the event and context it got and answers ``result``."""

    def __init__(self, result: Any = None) -> None:
        self.result = {"statusCode": 200, "body": "{}"} if result is None else result
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def client_for(handler: Callable[[dict[str, Any], Any], Any]) -> Client:
    return Client(ContainerApp(handler, function_name="pets"), use_cookies=False)


def test_the_event_is_the_payload_2_0_event_api_gateway_sends() -> None:
    recorder = Recorder()
    response = client_for(recorder).post(
        "/pets/rex?a=1&a=2&b=",
        data=b"\x00\x01",
        headers={
            "Content-Type": "application/octet-stream",
            "Cookie": "k=v; z=1",
            "User-Agent": "ua",
            "Host": "api.example.com",
            REQUEST_ID_HEADER: "Xyz0AbCdIAMEVxQ=",
            SOURCE_IP_HEADER: "203.0.113.10",
            **signed_in("user-1", **{"cognito:groups": ["staff", "other"], "auth_time": 1700000000}),
            **V1,
            "x-apigw-anything-else": "dropped too",
        },
    )
    assert response.status_code == 200
    (event,) = recorder.events
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/pets/rex"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["cookies"] == ["k=v", "z=1"]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\x00\x01"
    assert event["stageVariables"] == {"apiVersion": "v1"}
    assert not [name for name in event["headers"] if name.startswith("x-apigw-")]
    assert "cookie" not in event["headers"]
    assert event["headers"]["content-type"] == "application/octet-stream"
    assert event["headers"]["user-agent"] == "ua"
    context = event["requestContext"]
    assert context["stage"] == "$default" and context["routeKey"] == "$default"
    assert context["requestId"] == "Xyz0AbCdIAMEVxQ="
    assert context["domainName"] == "api.example.com"
    assert context["http"] == {
        "method": "POST",
        "path": "/pets/rex",
        "protocol": "HTTP/1.1",
        "sourceIp": "203.0.113.10",
        "userAgent": "ua",
    }
    assert context["authorizer"] == {
        "jwt": {
            "claims": {
                "sub": "user-1",
                "scope": SCOPE,
                "cognito:groups": "[staff other]",
                "auth_time": "1700000000",
            },
            "scopes": ["aws.cognito.signin.user.admin"],
        }
    }
    (lambda_context,) = recorder.contexts
    assert lambda_context.function_name == "pets"
    assert lambda_context.aws_request_id == "Xyz0AbCdIAMEVxQ="
    assert 0 < lambda_context.get_remaining_time_in_millis() <= 30_000


def test_a_public_request_has_no_authorizer_and_a_request_id_of_its_own() -> None:
    recorder = Recorder()
    client_for(recorder).get("/pets", headers={REQUEST_ID_HEADER: "not a request id!"})
    (event,) = recorder.events
    assert "authorizer" not in event["requestContext"]
    assert "stageVariables" not in event and "body" not in event and event["isBase64Encoded"] is False
    request_id = event["requestContext"]["requestId"]
    assert request_id != "not a request id!" and len(base64.b64decode(request_id)) == 10


def test_a_json_body_is_text() -> None:
    recorder = Recorder()
    client_for(recorder).put("/pets/rex", json={"name": "Rëx"})
    (event,) = recorder.events
    assert event["isBase64Encoded"] is False and json.loads(event["body"]) == {"name": "Rëx"}


@pytest.mark.parametrize(
    "result",
    [
        {
            "statusCode": 201,
            "headers": {"ETag": '"1"', "x-flag": True, "Content-Type": "application/json"},
            "multiValueHeaders": {"x-multi": ["a", "b"]},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": '{"id":"rex"}',
        },
        {"statusCode": 200, "body": base64.b64encode(b"\x00\xff").decode(), "isBase64Encoded": True},
        {"statusCode": 204},
        {"message": "a simple response"},
        "Hello from Lambda!",
        {"statusCode": 418, "body": "short and stout"},
    ],
    ids=["proxy", "base64", "no-body", "simple-object", "simple-string", "unknown-phrase"],
)
def test_the_answer_is_mapped_as_api_gateway_maps_it(result: Any) -> None:
    response = client_for(Recorder(result)).get("/pets")
    expected = map_response(result)
    assert response.status_code == expected.status
    assert response.data == expected.body
    sent = [(name.lower(), value) for name, value in response.headers.items()]
    assert sent == [(name.lower(), value) for name, value in expected.headers] + [
        ("content-length", str(len(expected.body)))
    ]


def test_hop_by_hop_and_length_headers_of_the_handler_are_not_passed_on() -> None:
    result = {"statusCode": 200, "headers": {"Connection": "close", "Content-Length": "999"}, "body": "ok"}
    response = client_for(Recorder(result)).get("/pets")
    assert response.status_code == 200 and response.data == b"ok"
    assert "Connection" not in response.headers and response.headers["Content-Length"] == "2"


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": {"x-bad": "line\r\nbreak"}},
        {"statusCode": 200, "headers": {"bad name": "x"}},
        RuntimeError("the handler raised"),
    ],
    ids=["status", "body", "header-value", "header-name", "raised"],
)
def test_a_malformed_answer_or_a_failure_is_a_json_500(result: Any) -> None:
    response = client_for(Recorder(result)).get("/pets")
    assert response.status_code == 500
    assert json_of(response) == {"message": "Internal Server Error"}


def test_health_is_answered_by_the_adapter() -> None:
    recorder = Recorder(RuntimeError("not called"))
    response = client_for(recorder).get(HEALTH_PATH)
    assert response.status_code == 200 and json_of(response) == {"status": "ok"}
    assert client_for(recorder).head(HEALTH_PATH).status_code == 200
    assert recorder.events == []


def test_a_body_over_the_http_api_limit_is_a_json_413() -> None:
    recorder = Recorder()
    client = client_for(recorder)
    at_limit = client.put("/pets/rex", data=b"x" * MAX_PAYLOAD_BYTES)
    assert at_limit.status_code == 200
    over = client.put("/pets/rex", data=b"x" * (MAX_PAYLOAD_BYTES + 1))
    assert over.status_code == 413 and json_of(over) == {"message": "Request Entity Too Large"}
    assert len(recorder.events) == 1


def call(app: ContainerApp, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer.update(status=status, headers=dict(headers))

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


def test_a_chunked_body_is_read_and_bounded() -> None:
    recorder = Recorder()
    app = ContainerApp(recorder, function_name="pets")
    environ = create_environ("/pets/rex", method="PUT", content_type="application/json")
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BytesIO(b'{"a":1}'), "wsgi.input_terminated": True})
    status, _, _ = call(app, environ)
    assert status == "200 OK" and recorder.events[0]["body"] == '{"a":1}'
    environ.update({"wsgi.input": io.BytesIO(b"x" * (MAX_PAYLOAD_BYTES + 1))})
    status, headers, body = call(app, environ)
    assert status == "413 Request Entity Too Large"
    assert json.loads(body) == {"message": "Request Entity Too Large"}
    assert headers["content-type"] == "application/json"


class BrokenStream:
    def read(self, size: int = -1) -> bytes:
        raise OSError("connection reset")


@pytest.mark.parametrize(
    "changes",
    [
        {"CONTENT_LENGTH": "abc"},
        {"CONTENT_LENGTH": "-5"},
        {"CONTENT_LENGTH": "10", "wsgi.input": io.BytesIO(b"short")},
        {"CONTENT_LENGTH": "10", "wsgi.input": BrokenStream()},
    ],
    ids=["not-a-number", "negative", "short-body", "unreadable"],
)
def test_a_malformed_request_is_a_json_400(changes: dict[str, Any]) -> None:
    recorder = Recorder()
    environ = create_environ("/pets/rex", method="PUT")
    environ.update(changes)
    status, headers, body = call(ContainerApp(recorder, function_name="pets"), environ)
    assert status == "400 Bad Request" and headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": "Bad Request"}
    assert recorder.events == []


def test_the_path_as_sent_even_in_absolute_form() -> None:
    recorder = Recorder()
    environ = create_environ("/pets/a%2Fb", query_string="x=%20")
    environ["RAW_URI"] = "http://api.example.com/pets/a%2Fb?x=%20"
    call(ContainerApp(recorder, function_name="pets"), environ)
    (event,) = recorder.events
    assert event["rawPath"] == "/pets/a%2Fb" and event["rawQueryString"] == "x=%20"


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A handler that answers its event and its context's function name."""
    return {"statusCode": 200, "body": json.dumps({"event": event, "function": context.function_name})}


def test_the_handler_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDLER", f"{__name__}.echo")
    monkeypatch.setenv("SERVICE_NAME", "pets")
    status, _, body = call(ContainerApp.from_environment(), create_environ("/pets"))
    assert status == "200 OK"
    assert json.loads(body)["event"]["rawPath"] == "/pets" and json.loads(body)["function"] == "pets"
    for bad in ("", "nodots", "json.no_such_function"):
        monkeypatch.setenv("HANDLER", bad)
        with pytest.raises((RuntimeError, ValueError)):
            ContainerApp.from_environment()
