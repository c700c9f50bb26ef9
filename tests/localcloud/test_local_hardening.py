"""The local endpoints serve this machine's pages only, and answer malformed requests as AWS does.

Over raw sockets (``http.client``'s response parser on a socket we write to ourselves), because
``requests`` would normalise exactly what these tests send: a foreign ``Host``, two
``Content-Length`` headers, a 70 KB request line, 101 headers.

* ``Host``: the API, edge, web and AWS endpoint servers answer only their own address (and
  ``localhost`` on 127.0.0.1; the API also its own AWS domain name, which the edge sends), with 403
  otherwise -- DNS rebinding. Internal callers keep working: the edge forwarding to the API, a
  handler calling the AWS endpoint, moto's Step Functions executor (``localhost:$MOTO_PORT``), a
  presigned URL.
* ``Origin``: the AWS endpoint answers browsers from the local web client's origins only (Cognito
  preflights and calls, an S3 form upload as the bucket's CORS rules allow); any other origin is
  refused with 403 and no CORS headers, preflight or not.
* Errors: 414 and 431 as JSON ``{"message"}`` on the API and edge; conflicting ``Content-Length``
  refused with 400 and the connection closed; no ``Server`` header anywhere.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from localcloud.cloudfront import Behavior, CustomOrigin, DistributionSpec, Origin
from localcloud.edge import EdgeRequestHandler, EdgeServer, LocalOrigins
from localcloud.servers import ServerThread, bind, host_is_local, local_origins

from .conftest import EchoCloud

TIMEOUT = 10
ALL_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "OPTIONS", "DELETE", "PATCH"})
EVIL = "http://evil.example"
COGNITO = "AWSCognitoIdentityProviderService."


# ---------------------------------------------------------------------- raw HTTP
@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lowercase names
    body: bytes
    closed: bool

    def json(self) -> Any:
        return json.loads(self.body)


def request_bytes(
    method: str, target: str, host: str | None, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(port: int, data: bytes, method: str = "GET", expect_close: bool = False) -> Answer:
    """Sends ``data`` as it is on a new connection; the answer, and whether the server closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        closed = False
        if expect_close:
            try:
                closed = sock.recv(1) == b""
            except ConnectionResetError:
                closed = True
        return Answer(response.status, headers, body, closed)


def get(port: int, target: str, host: str, *headers: tuple[str, str]) -> Answer:
    return exchange(port, request_bytes("GET", target, host, list(headers)))


def port_of(url: str) -> int:
    return int(urlsplit(url).port or 80)


# ---------------------------------------------------------------------- fixtures
@dataclass
class Endpoints:
    echo: EchoCloud
    api_port: int
    api_domain: str
    aws_port: int
    web_port: int
    web_origin: str
    edge_port: int
    #: an edge whose origin request policy is AllViewer: the API receives the viewer's Host
    all_viewer_edge_port: int


def _edge(echo: EchoCloud, api_domain: str, forward_host: bool) -> ServerThread:
    origin = Origin("Api", api_domain, custom=CustomOrigin(protocol_policy="https-only"))
    behavior = Behavior("*", "Api", ALL_METHODS, forward_host=forward_host)
    sock = bind("127.0.0.1", 0, "--edge-port")
    spec = DistributionSpec("Edge", "E1HARDENING", "127.0.0.1:0", {"Api": origin}, (behavior,))
    assert echo.cloud.runtime is not None
    api = echo.cloud.api_servers["EchoApi"]
    edge = EdgeServer(
        spec, echo.cloud.runtime, LocalOrigins({api_domain: (api.host, api.port)}), lambda _: None
    )
    return ServerThread("test-edge", sock, edge, EdgeRequestHandler).start()


@pytest.fixture(scope="module")
def endpoints(echo_cloud: EchoCloud) -> Iterator[Endpoints]:
    stack = echo_cloud.cloud.stack
    assert stack is not None
    api_domain = f"{stack.apis['EchoApi'].api_id}.execute-api.us-east-1.amazonaws.com"
    edges = [_edge(echo_cloud, api_domain, forward_host) for forward_host in (False, True)]
    try:
        yield Endpoints(
            echo=echo_cloud,
            api_port=port_of(echo_cloud.config["apis"]["EchoApi"]),
            api_domain=api_domain,
            aws_port=port_of(echo_cloud.config["awsEndpointUrl"]),
            web_port=port_of(echo_cloud.cloud.web_url),
            web_origin=echo_cloud.cloud.web_url,
            edge_port=edges[0].port,
            all_viewer_edge_port=edges[1].port,
        )
    finally:
        for edge in edges:
            edge.stop()


def servers(endpoints: Endpoints) -> dict[str, tuple[int, str]]:
    """name -> (port, a path it serves with 200)."""
    return {
        "api": (endpoints.api_port, "/echo/simple"),
        "edge": (endpoints.edge_port, "/echo/simple"),
        "web": (endpoints.web_port, "/config.json"),
        # the user pool's keys: what the API's JWT authorizer reads from the endpoint
        "aws": (
            endpoints.aws_port,
            f"/{endpoints.echo.config['cognito']['userPoolId']}/.well-known/jwks.json",
        ),
    }


SERVERS = ("api", "edge", "web", "aws")


# ---------------------------------------------------------------------- the Host rule
def test_the_host_rule() -> None:
    assert host_is_local("127.0.0.1:3001", "127.0.0.1", 3001)
    assert host_is_local("LOCALHOST:3001", "127.0.0.1", 3001)
    assert not host_is_local("localhost:3002", "127.0.0.1", 3001)
    assert not host_is_local("evil.example:3001", "127.0.0.1", 3001)
    assert not host_is_local("127.0.0.1", "127.0.0.1", 3001)  # no port: 80
    assert host_is_local("127.0.0.1", "127.0.0.1", 80)
    assert not host_is_local("10.0.0.5:3001", "127.0.0.1", 3001)
    assert host_is_local("10.0.0.5:3001", "10.0.0.5", 3001)
    assert not host_is_local("localhost:3001", "10.0.0.5", 3001)  # it does not listen there
    # on every address: loopback names and IP addresses (not rebindable), never a DNS name
    assert host_is_local("192.168.1.9:3001", "0.0.0.0", 3001)  # noqa: S104
    assert host_is_local("localhost:3001", "0.0.0.0", 3001)  # noqa: S104
    assert not host_is_local("evil.example:3001", "0.0.0.0", 3001)  # noqa: S104
    assert host_is_local(
        "abc.execute-api.us-east-1.amazonaws.com",
        "127.0.0.1",
        3001,
        {"abc.execute-api.us-east-1.amazonaws.com"},
    )
    assert local_origins("127.0.0.1", 3000) == {"http://127.0.0.1:3000", "http://localhost:3000"}
    assert local_origins("10.0.0.5", 3000) == {"http://10.0.0.5:3000"}


@pytest.mark.parametrize("name", SERVERS)
def test_own_address_and_localhost_are_served(endpoints: Endpoints, name: str) -> None:
    port, path = servers(endpoints)[name]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        answer = get(port, path, host)
        assert answer.status == 200, (host, answer.body[:300])


@pytest.mark.parametrize("name", SERVERS)
@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1:1", "localhost"])
def test_any_other_host_is_refused_with_403(endpoints: Endpoints, name: str, host: str) -> None:
    port, path = servers(endpoints)[name]
    answer = get(port, path, host.format(port=port))
    assert answer.status == 403
    assert answer.headers["content-type"] == "application/json"
    assert "DNS rebinding" in answer.json()["message"]
    assert not any(header.startswith("access-control-") for header in answer.headers)


@pytest.mark.parametrize("name", SERVERS)
def test_no_host_two_hosts_or_an_absolute_target_elsewhere_are_refused(
    endpoints: Endpoints, name: str
) -> None:
    port, path = servers(endpoints)[name]
    assert exchange(port, request_bytes("GET", path, None)).status == 400
    two = request_bytes("GET", path, f"127.0.0.1:{port}", [("Host", "evil.example")])
    assert exchange(port, two).status == 400
    absolute = request_bytes("GET", f"http://evil.example{path}", f"127.0.0.1:{port}")
    assert exchange(port, absolute).status == 403


def test_the_refusal_carries_the_servers_own_headers(endpoints: Endpoints) -> None:
    api = get(endpoints.api_port, "/echo/simple", "evil.example")
    assert api.json()["message"].startswith("Forbidden") and api.headers["apigw-requestid"]
    edge = get(endpoints.edge_port, "/echo/simple", "evil.example")
    assert edge.headers["x-cache"] == "Error from cloudfront"


def test_the_api_accepts_its_own_aws_domain_name_which_the_edge_sends(endpoints: Endpoints) -> None:
    direct = get(endpoints.api_port, "/echo/simple", endpoints.api_domain)
    assert direct.status == 200 and direct.json() == {"hello": "world"}
    assert get(endpoints.api_port, "/echo/simple", f"{endpoints.api_domain}:443").status == 200
    # through the edge: AllViewerExceptHostHeader, so the API receives its own domain as Host
    through_edge = get(endpoints.edge_port, "/echo/simple", f"127.0.0.1:{endpoints.edge_port}")
    assert through_edge.status == 200 and through_edge.json() == {"hello": "world"}
    assert through_edge.headers["x-cache"] == "Miss from cloudfront"


def test_with_all_viewer_the_api_refuses_the_edges_host_as_api_gateway_does(endpoints: Endpoints) -> None:
    port = endpoints.all_viewer_edge_port
    answer = get(port, "/echo/simple", f"127.0.0.1:{port}")
    assert answer.status == 403 and answer.headers["x-cache"] == "Error from cloudfront"


# ---------------------------------------------------------------------- internal callers
def test_a_handler_reaches_the_aws_endpoint_through_aws_endpoint_url(endpoints: Endpoints) -> None:
    answer = requests.get(f"{endpoints.echo.config['apis']['EchoApi']}/echo/dynamo", timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    assert answer.json()["pk"] == "k"


def test_aws_clients_at_localhost_work_as_moto_step_functions_executor_calls(endpoints: Endpoints) -> None:
    import boto3

    client = boto3.client(
        "stepfunctions",
        endpoint_url=f"http://localhost:{endpoints.aws_port}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    stack = endpoints.echo.cloud.stack
    assert stack is not None
    # the executor calls Lambda at http://localhost:$MOTO_PORT for the Task state
    arn = client.start_execution(
        stateMachineArn=stack.physical["EchoMachine"].ref, name=uuid.uuid4().hex, input="{}"
    )["executionArn"]
    deadline = time.monotonic() + 20
    execution = client.describe_execution(executionArn=arn)
    while execution["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
        execution = client.describe_execution(executionArn=arn)
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["answer"] == {"hello": "world"}


def test_presigned_urls_name_the_endpoints_own_address(endpoints: Endpoints) -> None:
    s3 = endpoints.echo.client("s3")
    bucket = f"hardening-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a.txt"}, ExpiresIn=60)
    assert urlsplit(url).netloc == f"127.0.0.1:{endpoints.aws_port}"
    answer = requests.get(url, timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.content == b"presigned"


# ---------------------------------------------------------------------- Origin at the AWS endpoint
def cognito_call(port: int, operation: str, body: dict[str, Any], origin: str | None) -> Answer:
    payload = json.dumps(body).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", COGNITO + operation),
        ("Content-Length", str(len(payload))),
    ]
    if origin is not None:
        headers.append(("Origin", origin))
    return exchange(port, request_bytes("POST", "/", f"127.0.0.1:{port}", headers, payload), "POST")


def preflight(port: int, path: str, origin: str, method: str, headers: str = "") -> Answer:
    sent = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if headers:
        sent.append(("Access-Control-Request-Headers", headers))
    return exchange(port, request_bytes("OPTIONS", path, f"127.0.0.1:{port}", sent), "OPTIONS")


def test_the_web_clients_origins_are_the_pages_and_its_localhost_twin(endpoints: Endpoints) -> None:
    assert endpoints.web_origin.startswith("http://127.0.0.1:")
    twin = endpoints.web_origin.replace("127.0.0.1", "localhost")
    for origin in (endpoints.web_origin, twin):
        answer = preflight(endpoints.aws_port, "/", origin, "POST", "content-type,x-amz-target")
        assert answer.status == 200
        assert answer.headers["access-control-allow-origin"] == origin
        assert "x-amz-target" in answer.headers["access-control-allow-headers"]
        assert "POST" in answer.headers["access-control-allow-methods"]


def test_cognito_answers_the_web_client_with_its_origin(endpoints: Endpoints) -> None:
    client_id = endpoints.echo.config["cognito"]["userPoolClientId"]
    body = {
        "ClientId": client_id,
        "Username": f"cors-{uuid.uuid4().hex[:8]}@example.com",
        "Password": "Echo-passw0rd",
    }
    answer = cognito_call(endpoints.aws_port, "SignUp", body, endpoints.web_origin)
    assert answer.status == 200, answer.body
    assert answer.headers["access-control-allow-origin"] == endpoints.web_origin
    assert "origin" in answer.headers.get("vary", "").lower()


@pytest.mark.parametrize("origin", [EVIL, "null", "http://127.0.0.1:1"])
def test_any_other_origin_is_refused_with_403_and_no_cors_headers(endpoints: Endpoints, origin: str) -> None:
    flight = preflight(endpoints.aws_port, "/", origin, "POST", "content-type,x-amz-target")
    assert flight.status == 403
    assert not any(header.startswith("access-control-") for header in flight.headers)
    client_id = endpoints.echo.config["cognito"]["userPoolClientId"]
    email = f"evil-{uuid.uuid4().hex[:8]}@example.com"
    body = {"ClientId": client_id, "Username": email, "Password": "Echo-passw0rd"}
    call = cognito_call(endpoints.aws_port, "SignUp", body, origin)
    assert call.status == 403 and "Origin" in call.json()["message"]
    assert not any(header.startswith("access-control-") for header in call.headers)
    pool = endpoints.echo.config["cognito"]["userPoolId"]
    users = endpoints.echo.client("cognito-idp").list_users(UserPoolId=pool)["Users"]
    assert email not in {user["Username"] for user in users} | {
        attribute["Value"] for user in users for attribute in user["Attributes"]
    }


def test_without_an_origin_nothing_carries_cors_headers(endpoints: Endpoints) -> None:
    client_id = endpoints.echo.config["cognito"]["userPoolClientId"]
    answer = cognito_call(endpoints.aws_port, "InitiateAuth", {"ClientId": client_id}, None)
    assert not any(header.startswith("access-control-") for header in answer.headers)


def _upload_bucket(endpoints: Endpoints, origins: list[str]) -> str:
    s3 = endpoints.echo.client("s3")
    bucket = f"hardening-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["POST"],
                    "AllowedOrigins": origins,
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 60,
                }
            ]
        },
    )
    return bucket


def _post_form(endpoints: Endpoints, bucket: str, key: str, origin: str) -> requests.Response:
    form = endpoints.echo.client("s3").generate_presigned_post(bucket, key, ExpiresIn=60)
    return requests.post(
        form["url"],
        data=form["fields"],
        files={"file": ("photo.jpg", b"jpeg")},
        headers={"Origin": origin},
        timeout=TIMEOUT,
    )


def test_an_s3_form_upload_from_the_web_client_is_answered_as_the_buckets_cors_rules_say(
    endpoints: Endpoints,
) -> None:
    bucket = _upload_bucket(endpoints, [endpoints.web_origin])
    flight = preflight(endpoints.aws_port, f"/{bucket}", endpoints.web_origin, "POST", "content-type")
    assert flight.status == 200
    assert flight.headers["access-control-allow-origin"] == endpoints.web_origin
    assert flight.headers["access-control-max-age"] == "60"
    upload = _post_form(endpoints, bucket, "uploads/a.jpg", endpoints.web_origin)
    assert upload.status_code == 204, upload.text
    assert upload.headers["access-control-allow-origin"] == endpoints.web_origin
    assert (
        endpoints.echo.client("s3").get_object(Bucket=bucket, Key="uploads/a.jpg")["Body"].read() == b"jpeg"
    )
    # the page's localhost twin is the web client too, but this bucket's rules do not name it
    twin = endpoints.web_origin.replace("127.0.0.1", "localhost")
    refused = preflight(endpoints.aws_port, f"/{bucket}", twin, "POST")
    assert refused.status == 403 and b"CORSResponse" in refused.body
    assert "access-control-allow-origin" not in refused.headers
    stored = _post_form(endpoints, bucket, "uploads/b.jpg", twin)  # S3 stores it; the page cannot read it
    assert "access-control-allow-origin" not in stored.headers


def test_an_s3_form_upload_from_another_origin_is_refused_and_not_stored(endpoints: Endpoints) -> None:
    bucket = _upload_bucket(endpoints, ["*"])
    upload = _post_form(endpoints, bucket, "uploads/evil.jpg", EVIL)
    assert upload.status_code == 403
    assert "access-control-allow-origin" not in upload.headers
    listed = endpoints.echo.client("s3").list_objects_v2(Bucket=bucket)
    assert listed.get("KeyCount", 0) == 0


# ---------------------------------------------------------------------- errors as AWS gives them
@pytest.mark.parametrize(("name", "own_header"), [("api", "apigw-requestid"), ("edge", "x-cache")])
def test_a_too_long_uri_is_414_json(endpoints: Endpoints, name: str, own_header: str) -> None:
    port, _ = servers(endpoints)[name]
    answer = exchange(
        port, request_bytes("GET", "/echo/" + "a" * 70_000, f"127.0.0.1:{port}"), expect_close=True
    )
    assert answer.status == 414
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"message": "Request-URI Too Long"}
    assert own_header in answer.headers and "server" not in answer.headers
    assert answer.closed


@pytest.mark.parametrize("name", ["api", "edge"])
@pytest.mark.parametrize("case", ["many", "long"])
def test_too_many_or_too_long_headers_are_431_json(endpoints: Endpoints, name: str, case: str) -> None:
    port, path = servers(endpoints)[name]
    headers = [(f"X-Header-{i}", "v") for i in range(101)] if case == "many" else [("X-Long", "v" * 70_000)]
    answer = exchange(port, request_bytes("GET", path, f"127.0.0.1:{port}", headers), expect_close=True)
    assert answer.status == 431
    assert answer.json() == {"message": "Request Header Fields Too Large"}
    assert "server" not in answer.headers and answer.closed


@pytest.mark.parametrize("name", SERVERS)
@pytest.mark.parametrize(
    "lengths", [[("Content-Length", "5"), ("Content-Length", "6")], [("Content-Length", "5, 6")]]
)
def test_conflicting_content_lengths_are_refused_and_the_connection_closed(
    endpoints: Endpoints, name: str, lengths: list[tuple[str, str]]
) -> None:
    port, path = servers(endpoints)[name]
    data = request_bytes("POST", path, f"127.0.0.1:{port}", lengths, b"hello!GET / HTTP/1.1\r\n\r\n")
    answer = exchange(port, data, "POST", expect_close=True)
    assert answer.status == 400
    assert answer.closed
    if name in ("api", "edge"):
        assert answer.json() == {"message": "Bad Request"}


@pytest.mark.parametrize("name", SERVERS)
def test_no_server_header_anywhere(endpoints: Endpoints, name: str) -> None:
    port, path = servers(endpoints)[name]
    for data in (
        request_bytes("GET", path, f"127.0.0.1:{port}"),  # keep-alive path where the server has it
        b"GET " + path.encode() + b" HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n" % port,  # werkzeug's own path
        request_bytes("GET", "/" + "a" * 70_000, f"127.0.0.1:{port}"),  # http.server's error path
    ):
        answer = exchange(port, data)
        assert "server" not in answer.headers, (name, answer.status, answer.headers)
        assert answer.headers.get("date")
    assert "server" not in requests.get(f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT).headers
