"""The local API Gateway over HTTP, in front of the echo function of the test template."""

import base64
import json
import time
from typing import Any

import boto3
import pytest
import requests

from localcloud.gateway import MAX_PAYLOAD_BYTES

from .conftest import EchoCloud, echo_user_tokens


def echoed(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_public_route_gets_a_v2_event(echo_cloud: EchoCloud) -> None:
    body = echoed(requests.get(f"{echo_cloud.api}/echo/hello?x=1&x=2", headers={"Cookie": "a=1"}, timeout=10))
    event = body["event"]
    assert event["routeKey"] == "ANY /echo/{action}"
    assert event["pathParameters"] == {"action": "hello"}
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["cookies"] == ["a=1"]
    assert event["stageVariables"] == {"flavour": "vanilla"}
    assert event["requestContext"]["apiId"] == echo_cloud.cloud.stack.apis["EchoApi"].api_id  # type: ignore[union-attr]
    assert "authorizer" not in event["requestContext"]
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"


def test_literal_route_beats_variable(echo_cloud: EchoCloud) -> None:
    assert (
        echoed(requests.get(f"{echo_cloud.api}/echo/fixed", timeout=10))["event"]["routeKey"]
        == "GET /echo/fixed"
    )


def test_greedy_path(echo_cloud: EchoCloud) -> None:
    event = echoed(requests.get(f"{echo_cloud.api}/files/a/b/c.txt", timeout=10))["event"]
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_named_stage(echo_cloud: EchoCloud) -> None:
    assert echo_cloud.config["apis"]["EchoApi/beta"] == echo_cloud.api + "/beta"
    event = echoed(requests.get(f"{echo_cloud.api}/beta/echo/x", timeout=10))["event"]
    assert event["requestContext"]["stage"] == "beta"
    assert event["rawPath"] == "/beta/echo/x"
    assert event["stageVariables"] == {"flavour": "beta"}


def test_implicit_api_default_route(echo_cloud: EchoCloud) -> None:
    url = echo_cloud.config["apis"]["ServerlessHttpApi"]
    response = requests.post(f"{url}/any/thing", data=b"\x00\x01", timeout=10)
    event = echoed(response)["event"]
    assert event["routeKey"] == "$default"
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\x00\x01"


@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("DELETE", "/private/x"), ("GET", "/")])
def test_not_found(echo_cloud: EchoCloud, method: str, path: str) -> None:
    response = requests.request(method, echo_cloud.api + path, timeout=10)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
    assert response.headers["apigw-requestid"]


def test_private_route_needs_a_token(echo_cloud: EchoCloud) -> None:
    response = requests.get(f"{echo_cloud.api}/private/x", timeout=10)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert response.headers["www-authenticate"] == "Bearer"
    before = echo_cloud.console.text().count("echo handler: action=never")
    garbled = requests.get(
        f"{echo_cloud.api}/private/never", headers={"Authorization": "Bearer a.b.c"}, timeout=10
    )
    assert garbled.status_code == 401
    assert 'error="invalid_token"' in garbled.headers["www-authenticate"]
    assert echo_cloud.console.text().count("echo handler: action=never") == before  # no function ran


def test_private_route_with_cognito_tokens(echo_cloud: EchoCloud) -> None:
    tokens = echo_user_tokens(echo_cloud)
    for kind in ("AccessToken", "IdToken"):
        headers = {"Authorization": f"Bearer {tokens[kind]}"}
        event = echoed(requests.get(f"{echo_cloud.api}/private/x", headers=headers, timeout=10))["event"]
        jwt = event["requestContext"]["authorizer"]["jwt"]
        assert jwt["claims"]["iss"].endswith(echo_cloud.config["cognito"]["userPoolId"])
        assert jwt["claims"]["token_use"] == ("access" if kind == "AccessToken" else "id")


def test_scoped_route(echo_cloud: EchoCloud) -> None:
    token = echo_user_tokens(echo_cloud)["AccessToken"]
    response = requests.get(f"{echo_cloud.api}/scoped", headers={"Authorization": token}, timeout=10)
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


@pytest.mark.parametrize(
    ("action", "status", "content_type", "body"),
    [
        ("simple", 200, "application/json", b'{"hello": "world"}'),
        ("string", 200, "application/json", b"plain text"),
        ("raise", 500, "application/json", b'{"message": "Internal Server Error"}'),
        ("unserializable", 500, "application/json", b'{"message": "Internal Server Error"}'),
        ("malformed", 500, "application/json", b'{"message": "Internal Server Error"}'),
        ("binary", 200, "application/octet-stream", bytes(range(256))),
    ],
)
def test_response_mapping(
    echo_cloud: EchoCloud, action: str, status: int, content_type: str, body: bytes
) -> None:
    response = requests.get(f"{echo_cloud.api}/echo/{action}", timeout=10)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert response.content == body


def test_cookies_and_multi_value_headers(echo_cloud: EchoCloud) -> None:
    response = requests.get(f"{echo_cloud.api}/echo/cookies", timeout=10)
    assert response.status_code == 202
    assert response.raw.headers.getlist("set-cookie") == ["a=1", "b=2; Path=/"]
    assert response.raw.headers.getlist("x-multi") == ["1", "2"]


def test_payload_limit(echo_cloud: EchoCloud) -> None:
    response = requests.post(f"{echo_cloud.api}/echo/big", data=b"x" * (MAX_PAYLOAD_BYTES + 1), timeout=30)
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}


PREFLIGHT = {
    "Access-Control-Request-Method": "PUT",
    "Access-Control-Request-Headers": "authorization,content-type",
}


def test_cors_preflight_allowed_without_function_or_authorizer(echo_cloud: EchoCloud) -> None:
    headers = {"Origin": "http://allowed.example", **PREFLIGHT}
    response = requests.options(f"{echo_cloud.api}/private/preflight", headers=headers, timeout=10)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://allowed.example"
    assert response.headers["access-control-allow-methods"] == "GET,PUT,POST"
    assert response.headers["access-control-allow-headers"] == "authorization,content-type"
    assert response.headers["access-control-max-age"] == "300"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "action=preflight" not in echo_cloud.console.text()


def test_cors_preflight_refused(echo_cloud: EchoCloud) -> None:
    headers = {"Origin": "http://evil.example", **PREFLIGHT}
    response = requests.options(f"{echo_cloud.api}/echo/x", headers=headers, timeout=10)
    assert response.status_code == 204
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


def test_cors_on_actual_responses(echo_cloud: EchoCloud) -> None:
    allowed = requests.get(
        f"{echo_cloud.api}/echo/cors", headers={"Origin": "https://app.wild.example"}, timeout=10
    )
    assert (
        allowed.headers["access-control-allow-origin"] == "https://app.wild.example"
    )  # not the function's "*"
    assert allowed.headers["access-control-expose-headers"] == "etag"
    refused = requests.get(
        f"{echo_cloud.api}/echo/cors", headers={"Origin": "http://evil.example"}, timeout=10
    )
    assert "access-control-allow-origin" not in refused.headers
    unauthorized = requests.get(
        f"{echo_cloud.api}/private/x", headers={"Origin": "http://allowed.example"}, timeout=10
    )
    assert unauthorized.headers["access-control-allow-origin"] == "http://allowed.example"


def test_handler_reaches_the_backend_through_aws_endpoint_url(echo_cloud: EchoCloud) -> None:
    response = requests.get(f"{echo_cloud.api}/echo/dynamo", timeout=10)
    assert response.json() == {"pk": "k", "sk": "s", "value": "/echo/dynamo"}


def test_web_server_serves_config_json(echo_cloud: EchoCloud) -> None:
    assert echo_cloud.cloud.web_server is not None
    config = requests.get(f"{echo_cloud.cloud.web_url}/config.json", timeout=10).json()
    assert config == echo_cloud.config
    deployed_keys = {"region", "apiUrl", "apis", "edgeUrl", "cognito", "awsEndpointUrl"}
    assert set(config) == deployed_keys | {"localConfirmUrl"}  # the local-only confirm action
    assert set(config["cognito"]) == {"region", "userPoolId", "userPoolClientId", "endpointUrl"}
    assert config["cognito"]["userPoolId"] == echo_cloud.cloud.stack.physical["Users"].ref  # type: ignore[union-attr]
    assert requests.get(f"{echo_cloud.cloud.web_url}/", timeout=10).status_code == 200
    assert requests.get(f"{echo_cloud.cloud.web_url}/nope", timeout=10).status_code == 404


def _aws(echo_cloud: EchoCloud, service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]  # boto3-stubs knows services by literal name only
        service,
        endpoint_url=echo_cloud.config["awsEndpointUrl"],
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def test_lambda_invoke_through_the_aws_api_runs_the_worker(echo_cloud: EchoCloud) -> None:
    response = _aws(echo_cloud, "lambda").invoke(
        FunctionName="echo-test-EchoFunction", Payload=json.dumps({"action": "simple"})
    )
    assert json.loads(response["Payload"].read()) == {"hello": "world"}
    failed = _aws(echo_cloud, "lambda").invoke(
        FunctionName="echo-test-EchoFunction", Payload=json.dumps({"action": "raise"})
    )
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "ValueError"


def test_s3_upload_runs_the_state_machine_through_eventbridge(echo_cloud: EchoCloud) -> None:
    physical = echo_cloud.cloud.stack.physical  # type: ignore[union-attr]
    _aws(echo_cloud, "s3").put_object(Bucket=physical["EchoBucket"].ref, Key="photo.jpg", Body=b"x")
    sfn = _aws(echo_cloud, "stepfunctions")
    deadline = time.monotonic() + 20
    executions: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        executions = sfn.list_executions(stateMachineArn=physical["EchoMachine"].ref)["executions"]
        if executions and all(e["status"] != "RUNNING" for e in executions):
            break
        time.sleep(0.2)
    assert executions and executions[0]["status"] == "SUCCEEDED"
    execution = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(execution["input"])["detail"]["object"]["key"] == "photo.jpg"
    assert json.loads(execution["output"]) == {
        "answer": {"hello": "world"},
        "greeting": "hello from echo-test",
    }
