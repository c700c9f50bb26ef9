"""HTTP proxy integrations through a VPC link: parameter mapping as API Gateway applies it, what
API Gateway refuses to deploy, and the answers when no task can take the request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from moto import mock_aws

from localcloud.events_v2 import HttpRequest
from localcloud.http_integration import Target, forward, map_request
from localcloud.routes import Integration, Route, RouteMatch, Stage
from localcloud.stack import deploy_in_memory

REQUEST = HttpRequest(
    method="PUT",
    raw_path="/v1/pets/rex",
    raw_query="a=1&a=2&keep=yes",
    headers={"x-client": "c", "x-gone": "g", "x-list": "one"},
    body=b"{}",
    source_ip="203.0.113.9",
)


def mapped(*parameters: tuple[str, str]) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
    integration = Integration(invoked_arn="arn:aws:servicediscovery:x", request_parameters=parameters)
    route = Route("PUT /pets/{petId}", "PUT", "/pets/{petId}", integration)
    context = {"requestId": "rid", "authorizer.claims.sub": "user-1"}
    return map_request(
        REQUEST,
        integration,
        Stage("v1", {"apiVersion": "v1"}),
        "/pets/rex",
        RouteMatch(route, {"petId": "rex"}),
        context,
    )


def test_without_mapping_the_request_goes_on_as_sent_stage_included() -> None:
    path, query, headers = mapped()
    assert path == "/v1/pets/rex"
    assert query == [("a", "1"), ("a", "2"), ("keep", "yes")]
    assert headers == dict(REQUEST.headers)


def test_each_kind_of_key_and_value() -> None:
    path, query, headers = mapped(
        ("overwrite:path", "$request.path"),
        ("overwrite:header.x-sub", "$context.authorizer.claims.sub"),
        ("overwrite:header.x-client", "${request.header.x-client}-and-${request.path.petId}"),
        ("append:header.x-list", "two"),
        ("remove:header.x-gone", "''"),
        ("overwrite:header.x-version", "$stageVariables.apiVersion"),
        ("overwrite:header.x-missing", "$context.authorizer.claims.cognito_groups"),
        ("overwrite:querystring.a", "$request.querystring.a"),
        ("remove:querystring.keep", "''"),
        ("append:querystring.rid", "$context.requestId"),
    )
    assert path == "/pets/rex"  # $request.path: without the stage
    assert headers["x-sub"] == "user-1" and headers["x-version"] == "v1"
    assert headers["x-client"] == "c-and-rex"
    assert headers["x-list"] == "one,two"
    assert "x-gone" not in headers
    assert "x-missing" not in headers  # a value that maps to nothing is not sent
    assert query == [("a", "1,2"), ("rid", "rid")]


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(1.0)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def slow_task() -> Iterator[Target]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Target("127.0.0.1", server.server_address[1], "Slow/1")
    finally:
        server.shutdown()
        server.server_close()


def test_a_task_slower_than_the_integration_timeout_is_a_504(slow_task: Target) -> None:
    response, note = forward(slow_task, "GET", "/", [], {}, b"", timeout_ms=200)
    assert response.status == 504 and response.body == b'{"message": "Gateway Timeout"}'
    assert "timed out" in note


def test_a_task_that_refuses_the_connection_is_a_502() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed at once: nothing listens there
    response, _ = forward(Target("127.0.0.1", port, "Gone/1"), "GET", "/", [], {}, b"", timeout_ms=2000)
    assert response.status == 502


def test_no_task_is_a_503() -> None:
    response, _ = forward(None, "GET", "/", [], {}, b"", timeout_ms=2000)
    assert response.status == 503 and response.body == b'{"message": "Service Unavailable"}'


TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {{Name: x, ProtocolType: HTTP}}
  Registry:
    Type: AWS::ServiceDiscovery::Service
    Properties: {{Name: app}}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      ConnectionType: VPC_LINK
      ConnectionId: link
      IntegrationUri: !GetAtt Registry.Arn
      PayloadFormatVersion: "1.0"
      RequestParameters: {{"{key}": "{value}"}}
"""


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        (
            "overwrite:header.x-groups",
            "$context.authorizer.claims.cognito:groups",
            "invalid mapping expression",
        ),
        ("overwrite:header.authorization", "x", "reserved header"),
        ("overwrite:header.x-amzn-trace-id", "x", "reserved header"),
        ("overwrite:body", "x", "not a valid parameter mapping key"),
    ],
)
def test_what_api_gateway_refuses_to_deploy_is_refused_here(
    tmp_path: Path, key: str, value: str, why: str
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.format(key=key, value=value))
    with mock_aws():
        stack = deploy_in_memory(template)
    assert any(why in warning and "Integration" in warning for warning in stack.warnings), stack.warnings
    assert not [i for i in stack.apis["Api"].integrations.values() if i is not None]
