"""The local CloudFront edge, piece by piece: the events it builds, what it does with a function's
answer, and what it sends to the origin (a real HTTP server on 127.0.0.1) and back to the viewer.

The functions here are fakes that record the event and answer as a Lambda@Edge function would; the
real versioning function runs through the edge in ``test_edge_e2e.py``.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from localcloud.cloudfront import (
    Association,
    Behavior,
    CustomOrigin,
    DistributionSpec,
    Origin,
    served_distributions,
)
from localcloud.edge import (
    EdgeServer,
    LambdaValidationError,
    LocalOrigins,
    ViewerRequest,
    body_field,
    cf_headers,
    function_result,
    origin_request,
    viewer_request,
)
from localcloud.functions import InvocationResult
from localcloud.servers import ServerThread, bind
from localcloud.template import load_template

from .conftest import REPO

API_DOMAIN = "abc123defg.execute-api.us-east-1.amazonaws.com"
ORIGIN = Origin(
    origin_id="Api",
    domain_name=API_DOMAIN,
    path="",
    custom_headers=(("x-version-table", "the-table"),),
    custom=CustomOrigin(protocol_policy="https-only", ssl_protocols=("TLSv1.2",)),
)


def viewer(method: str = "GET", uri: str = "/pets", body: bytes = b"", **headers: str) -> ViewerRequest:
    pairs = [
        ("host", "127.0.0.1:3002"),
        *((name.replace("_", "-"), value) for name, value in headers.items()),
    ]
    return ViewerRequest(method, uri, "limit=2", pairs, body, "127.0.0.9")


def distribution(*behaviors: Behavior, origins: tuple[Origin, ...] = (ORIGIN,)) -> DistributionSpec:
    return DistributionSpec(
        logical_id="Edge",
        distribution_id="E1234567890ABC",
        domain_name="127.0.0.1:3002",
        origins={origin.origin_id: origin for origin in origins},
        behaviors=behaviors
        or (
            Behavior(
                "*",
                "Api",
                frozenset({"GET", "HEAD", "PUT", "POST", "OPTIONS", "DELETE", "PATCH"}),
                associations={"origin-request": Association("origin-request", "EdgeFunction", True)},
            ),
        ),
    )


class FakeFunctions:
    """Records each event; answers with ``answer(event)`` (or fails, as the runtime reports it)."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any], error: dict[str, Any] | None = None) -> None:
        self.answer = answer
        self.error = error
        self.events: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, logical_id: str, event: Any, request_id: str | None = None) -> InvocationResult:
        self.events.append((logical_id, json.loads(json.dumps(event))))  # what a worker would receive
        if self.error is not None:
            return InvocationResult(False, error=self.error, duration_ms=1.0)
        return InvocationResult(True, self.answer(event["Records"][0]["cf"]["request"]), duration_ms=1.0)


def route_to(
    domain: str, port: int, path: str = "", host: str | None = None
) -> Callable[[dict[str, Any]], Any]:
    """An origin-request function that sends the request to another origin, as the versioning one does."""

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        request["origin"]["custom"].update(domainName=domain, port=port, protocol="http", path=path)
        request["headers"]["host"] = [{"key": "Host", "value": host or domain}]
        return request

    return answer


# ---------------------------------------------------------------------- a real origin
class RecordingOrigin:
    """A tiny origin server: records what it receives, answers JSON with a hop-by-hop header."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        self.received.append(
            {
                "method": environ["REQUEST_METHOD"],
                "path": environ.get("RAW_URI") or environ["PATH_INFO"],
                "headers": headers,
                "body": environ["wsgi.input"].read(length) if length else b"",
            }
        )
        start_response(
            "201 Created",
            [("Content-Type", "application/json"), ("Keep-Alive", "timeout=5"), ("Set-Cookie", "a=1")],
        )
        return [b'{"stored": true}']


@pytest.fixture
def origin() -> Iterator[tuple[RecordingOrigin, int]]:
    app = RecordingOrigin()
    server = ServerThread("test-origin", bind("127.0.0.1", 0, "--test"), app).start()
    try:
        yield app, server.port
    finally:
        server.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------- the template
def test_the_distribution_with_a_custom_origin_is_served_and_the_s3_one_is_not() -> None:
    template = load_template(REPO / "template.yaml", {"DeployEdge": "true"})
    assert served_distributions(template) == ["EdgeDistribution"]
    assert served_distributions(load_template(REPO / "template.yaml", {"DeployEdge": "false"})) == []


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*", "/anything", True),
        ("/images/*.jpg", "/images/a/b.jpg", True),
        ("images/*", "/images/x", True),
        ("/images/*.jpg", "/images/a.png", False),
        ("/v?/pets", "/v1/pets", True),
        ("/Pets", "/pets", False),
        ("/a.b", "/axb", False),
    ],
)
def test_path_patterns_as_cloudfront_matches_them(pattern: str, path: str, matches: bool) -> None:
    assert Behavior(pattern, "Api").matches(path) is matches


def test_the_first_matching_cache_behaviour_wins() -> None:
    special = Behavior("/config.json", "Api")
    default = Behavior("*", "Api")
    spec = distribution(special, default)
    assert spec.behavior_for("/config.json") is special
    assert spec.behavior_for("/pets") is default


# ---------------------------------------------------------------------- events
def test_headers_are_lowercase_names_with_key_and_value_lists() -> None:
    assert cf_headers([("accept", "a"), ("x-api-ver", "v1"), ("accept", "b")]) == {
        "accept": [{"key": "Accept", "value": "a"}, {"key": "Accept", "value": "b"}],
        "x-api-ver": [{"key": "X-Api-Ver", "value": "v1"}],
    }


def test_the_origin_request_event_is_what_cloudfront_sends() -> None:
    request = viewer(accept="application/vnd.petstore.v1+json", x_forwarded_for="10.0.0.1")
    made = origin_request(
        viewer_request(request, "/pets"), distribution().behaviors[0], ORIGIN, "1.1 x (CloudFront)"
    )
    assert made["clientIp"] == "127.0.0.9"
    assert made["method"] == "GET" and made["uri"] == "/pets" and made["querystring"] == "limit=2"
    headers = made["headers"]
    assert headers["host"] == [{"key": "Host", "value": API_DOMAIN}]  # AllViewerExceptHostHeader
    assert headers["accept"] == [{"key": "Accept", "value": "application/vnd.petstore.v1+json"}]
    assert headers["x-forwarded-for"][0]["value"] == "10.0.0.1, 127.0.0.9"
    assert headers["via"][0]["value"] == "1.1 x (CloudFront)"
    assert made["origin"] == {
        "custom": {
            "customHeaders": {"x-version-table": [{"key": "X-Version-Table", "value": "the-table"}]},
            "domainName": API_DOMAIN,
            "keepaliveTimeout": 5,
            "path": "",
            "port": 443,
            "protocol": "https",
            "readTimeout": 30,
            "sslProtocols": ["TLSv1.2"],
        }
    }


def test_all_viewer_policy_forwards_the_viewers_host() -> None:
    behavior = Behavior("*", "Api", forward_host=True)
    made = origin_request(viewer_request(viewer(), "/pets"), behavior, ORIGIN, "via")
    assert made["headers"]["host"][0]["value"] == "127.0.0.1:3002"


def test_include_body_is_base64_and_cut_at_the_limit() -> None:
    assert body_field(b"hello", 1024) == {
        "action": "read-only",
        "data": base64.b64encode(b"hello").decode(),
        "encoding": "base64",
        "inputTruncated": False,
    }
    cut = body_field(b"x" * 10, 4)
    assert base64.b64decode(cut["data"]) == b"xxxx" and cut["inputTruncated"] is True


def test_the_function_receives_the_event_with_config_and_body(origin: tuple[RecordingOrigin, int]) -> None:
    _, port = origin
    functions = FakeFunctions(route_to("127.0.0.1", port))
    edge = EdgeServer(distribution(), functions, LocalOrigins({}))
    edge.handle(viewer("PUT", body=b'{"a": 1}', content_type="application/json"), "req-1")
    ((function, event),) = functions.events
    assert function == "EdgeFunction"
    config = event["Records"][0]["cf"]["config"]
    assert config == {
        "distributionDomainName": "127.0.0.1:3002",
        "distributionId": "E1234567890ABC",
        "eventType": "origin-request",
        "requestId": "req-1",
    }
    body = event["Records"][0]["cf"]["request"]["body"]
    assert base64.b64decode(body["data"]) == b'{"a": 1}' and body["action"] == "read-only"


# ---------------------------------------------------------------------- function results
def test_a_generated_response_goes_to_the_viewer() -> None:
    functions = FakeFunctions(
        lambda request: {
            "status": "403",
            "statusDescription": "Forbidden",
            "headers": {"content-type": [{"key": "Content-Type", "value": "application/json"}]},
            "bodyEncoding": "base64",
            "body": base64.b64encode(b'{"message": "no"}').decode(),
        }
    )
    response = EdgeServer(distribution(), functions, LocalOrigins({})).handle(viewer(), "r")
    assert (response.status, response.reason, response.body) == (403, "Forbidden", b'{"message": "no"}')
    assert ("Content-Type", "application/json") in response.headers
    assert ("X-Cache", "LambdaGeneratedResponse from cloudfront") in response.headers


def test_a_returned_request_with_a_replaced_body() -> None:
    sent = viewer_request(viewer(), "/pets")
    returned = {**sent, "body": {"action": "replace", "encoding": "text", "data": "new"}}
    request, body = function_result(returned, "viewer-request", sent, b"old")  # type: ignore[misc]
    assert body == b"new" and "body" not in request


@pytest.mark.parametrize(
    "answer",
    [
        None,
        "a string",
        {"status": "99"},
        {"status": "200", "headers": {"x": "not a list"}},
        {"status": "200", "bodyEncoding": "base64", "body": "***"},
        {"status": "200", "bodyEncoding": "gzip", "body": ""},
        {"status": "200", "body": "x" * (1024 * 1024 + 1)},
        {"uri": "no-slash", "headers": {}},
        {"uri": "/pets"},
        {"uri": "/pets", "headers": {"accept": [{"key": "Accept"}]}},
        {"uri": "/pets", "headers": {}, "method": "DELETE"},
    ],
)
def test_answers_cloudfront_cannot_use_are_validation_errors(answer: Any) -> None:
    sent = origin_request(viewer_request(viewer(), "/pets"), distribution().behaviors[0], ORIGIN, "via")
    with pytest.raises(LambdaValidationError):
        function_result(answer, "origin-request", sent, b"")


def test_an_invalid_answer_is_a_502_lambda_validation_error() -> None:
    response = EdgeServer(distribution(), FakeFunctions(lambda request: ["nope"]), LocalOrigins({})).handle(
        viewer(), "r"
    )
    assert response.status == 502
    assert ("X-Cache", "LambdaValidationError from cloudfront") in response.headers
    assert "invalid response" in json.loads(response.body)["message"]


@pytest.mark.parametrize(
    ("error_type", "x_cache"),
    [
        ("ValueError", "LambdaExecutionError"),
        ("Sandbox.Timedout", "LambdaExecutionError"),
        ("TooManyRequestsException", "LambdaLimitExceeded"),
    ],
)
def test_a_failed_function_is_a_503(error_type: str, x_cache: str) -> None:
    functions = FakeFunctions(
        lambda request: request, error={"errorType": error_type, "errorMessage": "boom"}
    )
    response = EdgeServer(distribution(), functions, LocalOrigins({})).handle(viewer(), "r")
    assert response.status == 503
    assert ("X-Cache", f"{x_cache} from cloudfront") in response.headers
    assert "boom" not in response.body.decode()  # the function's error stays in the console


def test_a_method_the_behaviour_does_not_allow_is_a_403_before_any_function() -> None:
    functions = FakeFunctions(lambda request: request)
    spec = distribution(
        Behavior(
            "*",
            "Api",
            frozenset({"GET", "HEAD"}),
            associations={"origin-request": Association("origin-request", "EdgeFunction")},
        )
    )
    response = EdgeServer(spec, functions, LocalOrigins({})).handle(viewer("POST"), "r")
    assert response.status == 403 and functions.events == []


def test_a_viewer_request_function_runs_first_and_can_answer_alone() -> None:
    calls: list[str] = []

    def answer(request: dict[str, Any]) -> Any:
        calls.append("origin" if "origin" in request else "viewer")
        if "origin" not in request:
            request["headers"]["x-from-viewer"] = [{"key": "X-From-Viewer", "value": "yes"}]
            return request
        assert request["headers"]["x-from-viewer"][0]["value"] == "yes"
        return {"status": "204"}

    both = Behavior(
        "*",
        "Api",
        associations={
            "viewer-request": Association("viewer-request", "ViewerFunction"),
            "origin-request": Association("origin-request", "OriginFunction"),
        },
    )
    response = EdgeServer(distribution(both), FakeFunctions(answer), LocalOrigins({})).handle(viewer(), "r")
    assert response.status == 204 and calls == ["viewer", "origin"]


# ---------------------------------------------------------------------- forwarding
def test_a_returned_request_is_sent_to_its_origin_and_the_answer_relayed(
    origin: tuple[RecordingOrigin, int],
) -> None:
    app, port = origin
    functions = FakeFunctions(route_to("localhost", port, path="/v1", host=API_DOMAIN))
    edge = EdgeServer(distribution(), functions, LocalOrigins({}))
    request = viewer(
        "PUT", "/pets/rex", b'{"name": "Rex"}', authorization="Bearer abc", connection="keep-alive"
    )
    response = edge.handle(request, "r")
    assert response.status == 201 and response.body == b'{"stored": true}'
    (received,) = app.received
    assert received["method"] == "PUT" and received["path"] == "/v1/pets/rex?limit=2"
    assert received["body"] == b'{"name": "Rex"}'
    headers = received["headers"]
    assert headers["host"] == API_DOMAIN  # as the function set it
    assert headers["authorization"] == "Bearer abc"
    assert headers["x-version-table"] == "the-table"  # the origin's custom header
    assert headers["via"] == edge.via and headers["x-forwarded-for"] == "127.0.0.9"
    assert "keep-alive" not in headers.get("connection", "")  # hop-by-hop headers stop here
    names = [name.lower() for name, _ in response.headers]
    assert "keep-alive" not in names and "set-cookie" in names
    assert ("X-Cache", "Miss from cloudfront") in response.headers


def test_an_api_domain_goes_to_that_apis_local_server(origin: tuple[RecordingOrigin, int]) -> None:
    app, port = origin
    origins = LocalOrigins({API_DOMAIN: ("127.0.0.1", port)})
    assert origins(API_DOMAIN.upper(), 443) == ("127.0.0.1", port)
    assert origins("localhost", 8080) == ("127.0.0.1", 8080)
    assert origins("example.com", 443) is None
    edge = EdgeServer(distribution(), FakeFunctions(lambda request: request), origins)  # forwards unchanged
    assert edge.handle(viewer(), "r").status == 201
    assert app.received[0]["path"] == "/pets?limit=2"


def test_any_other_host_is_refused_without_a_network_call() -> None:
    functions = FakeFunctions(route_to("api.example.com", 443))
    response = EdgeServer(distribution(), functions, LocalOrigins({})).handle(viewer(), "r")
    assert response.status == 502
    assert "api.example.com" in json.loads(response.body)["message"]


def test_an_origin_that_is_down_is_a_502() -> None:
    functions = FakeFunctions(route_to("127.0.0.1", closed_port()))
    response = EdgeServer(distribution(), functions, LocalOrigins({})).handle(viewer(), "r")
    assert response.status == 502 and ("X-Cache", "Error from cloudfront") in response.headers


def test_s3_origins_are_not_served() -> None:
    s3 = Origin("Site", "bucket.s3.us-east-1.amazonaws.com")
    spec = distribution(Behavior("*", "Site"), origins=(s3,))
    response = EdgeServer(spec, FakeFunctions(lambda request: request), LocalOrigins({})).handle(
        viewer(), "r"
    )
    assert response.status == 502 and "S3" in json.loads(response.body)["message"]


def test_the_wsgi_server_answers_with_cloudfronts_headers(origin: tuple[RecordingOrigin, int]) -> None:
    import requests

    _, port = origin
    edge = EdgeServer(
        distribution(), FakeFunctions(route_to("127.0.0.1", port)), LocalOrigins({}), lambda line: None
    )
    server = ServerThread("test-edge", bind("127.0.0.1", 0, "--edge-port"), edge).start()
    try:
        response = requests.post(f"{server.url}/pets", json={"a": 1}, timeout=10)
    finally:
        server.stop()
    assert response.status_code == 201 and response.json() == {"stored": True}
    assert response.headers["via"] == edge.via
    assert len(response.headers["x-amz-cf-id"]) == 56
