"""Persistent connections of ``localcloud.servers.KeepAliveMixin`` (what the AWS backend serves with)."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localcloud import servers
from localcloud.servers import KeepAliveRequestHandler, ServerThread, bind

App = Callable[[dict[str, Any], Callable[..., Any]], Any]


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Answers with the client's port (the connection) and what it read of the body."""
    path = environ["PATH_INFO"]
    if path == "/fail":
        raise RuntimeError("boom")
    if path == "/no-content":
        start_response("204 No Content", [])
        return []
    stream = environ["wsgi.input"]
    if path == "/ignore-body":
        read = b""
    elif environ.get("wsgi.input_terminated"):  # a chunked body: read to its end
        read = stream.read()
    else:
        read = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
    body = f"{environ['REMOTE_PORT']} {len(read)}".encode()
    headers = [("Content-Type", "text/plain")]
    if path == "/close":
        headers.append(("Connection", "close"))
    if path != "/no-length":
        headers.append(("Content-Length", str(len(body))))
    start_response("200 OK", headers)
    return [body]


@pytest.fixture
def server() -> Iterator[ServerThread]:
    thread = ServerThread("keep-alive-test", bind("127.0.0.1", 0, "--port"), echo, KeepAliveRequestHandler)
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


def ask(connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None) -> Any:
    connection.request(method, path, body=body)
    response = connection.getresponse()
    return response, response.read()


def test_one_connection_serves_many_requests(server: ServerThread) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    ports = set()
    for body in (None, b"x" * 10, b"y" * 100_000):
        response, data = ask(connection, "POST" if body else "GET", "/", body)
        assert response.status == 200 and response.getheader("connection") is None
        port, read = data.decode().split()
        assert int(read) == len(body or b"")
        ports.add(port)
    assert len(ports) == 1


def test_an_unread_body_does_not_leak_into_the_next_request(server: ServerThread) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    response, _ = ask(connection, "POST", "/ignore-body", b"GET /evil HTTP/1.1\r\n\r\n")
    assert response.status == 200
    response, data = ask(connection, "GET", "/")
    assert response.status == 200 and data.endswith(b" 0")


def test_a_response_without_length_gets_one_and_204_gets_none(server: ServerThread) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    response, data = ask(connection, "GET", "/no-length")
    assert response.getheader("content-length") == str(len(data))
    response, data = ask(connection, "DELETE", "/no-content")
    assert response.status == 204 and data == b"" and response.getheader("content-length") is None
    response, data = ask(connection, "HEAD", "/")
    assert response.status == 200 and data == b""
    response, _ = ask(connection, "GET", "/")
    assert response.status == 200


@pytest.mark.parametrize("path", ["/close", "/fail"])
def test_the_application_or_a_failure_closes_the_connection(server: ServerThread, path: str) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    response, _ = ask(connection, "GET", path)
    assert response.status == (500 if path == "/fail" else 200)
    assert response.getheader("connection") == "close"


def raw(server: ServerThread, request: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):  # the server closes: read to the end
            chunks.append(chunk)
    return b"".join(chunks)


def test_what_it_cannot_buffer_goes_through_werkzeug_which_closes(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    http10 = raw(server, b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    assert http10.startswith(b"HTTP/1.0 200") or http10.startswith(b"HTTP/1.1 200")
    chunked = raw(
        server,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    )
    assert b" 200 " in chunked.split(b"\r\n", 1)[0] and b"Connection: close" in chunked
    assert chunked.endswith(b" 3")
    monkeypatch.setattr(servers, "MAX_BUFFERED_BODY_BYTES", 4)
    large = raw(server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    assert b"Connection: close" in large and large.endswith(b" 5")


def test_expect_continue_is_answered_before_the_body(server: ServerThread) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"abc")
        assert sock.recv(1000).endswith(b" 3")
