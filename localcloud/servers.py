"""Threaded HTTP servers on sockets we bind ourselves.

werkzeug's ``make_server`` exits the process (``sys.exit(1)``) when its port is taken; binding
the socket first turns that into :class:`PortInUseError`, which the CLI reports as one line with
exit code 2. Port 0 picks a free port; :attr:`ServerThread.port` tells which.

werkzeug also closes the connection after every response. :class:`KeepAliveMixin` keeps it open
where that is safe; the AWS backend uses it, so a handler's boto3 client reuses its connections
instead of paying a TCP connection and a new server thread for every AWS call.
"""

from __future__ import annotations

import errno
import io
import socket
import threading
import traceback
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

__all__ = [
    "BodyTooLargeError",
    "KeepAliveMixin",
    "KeepAliveRequestHandler",
    "MalformedRequestError",
    "PortInUseError",
    "QuietRequestHandler",
    "RawRequest",
    "ServerThread",
    "bind",
    "read_request",
]

#: request bodies up to this size are read whole before the application runs (see KeepAliveMixin)
MAX_BUFFERED_BODY_BYTES = 16 * 1024 * 1024
#: a kept-alive connection with no request for this long is closed
IDLE_TIMEOUT_SECONDS = 30.0


class MalformedRequestError(ValueError):
    """The request cannot be read as HTTP (a bad Content-Length): answer 400 and close."""


class BodyTooLargeError(ValueError):
    """The body is over the server's limit and was not read: answer 413 and close."""


@dataclass
class RawRequest:
    """A request as it came off the wire, before any AWS service's view of it."""

    method: str
    #: the path as received (still percent-encoded) and the query string
    raw_path: str
    raw_query: str
    #: (lowercase name, value), in the order received
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str


def read_request(environ: dict[str, Any], max_body_bytes: int) -> RawRequest:
    """Read a WSGI request whole; raises :class:`MalformedRequestError` or :class:`BodyTooLargeError`."""
    headers = [
        (key[5:].replace("_", "-").lower(), str(value))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers.append((key.replace("_", "-").lower(), str(environ[key])))
    declared = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not declared.isdigit():  # "abc", "-5": not a length (found by probing the gateway)
        raise MalformedRequestError(f"Content-Length {declared!r}")
    length = int(declared)
    if length > max_body_bytes:
        raise BodyTooLargeError(f"Content-Length {length}")
    stream = environ["wsgi.input"]
    if length:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        body = stream.read(max_body_bytes + 1)
        if len(body) > max_body_bytes:
            raise BodyTooLargeError("chunked body")
    else:
        body = b""
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
    raw_path, _, raw_query = str(raw_uri).partition("?")
    return RawRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        raw_path=raw_path or "/",
        raw_query=raw_query or str(environ.get("QUERY_STRING", "")),
        headers=headers,
        body=body,
        source_ip=str(environ.get("REMOTE_ADDR", "127.0.0.1")),
        protocol=str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
    )


class PortInUseError(OSError):
    """The port is taken (or cannot be bound); the message says which and what to do."""


class QuietRequestHandler(WSGIRequestHandler):
    """No access log from werkzeug: the gateway writes its own one line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class KeepAliveMixin(WSGIRequestHandler):
    """HTTP/1.1 persistent connections for werkzeug's request handler.

    werkzeug ends every response with ``Connection: close`` because ``http.server`` cannot skip a
    request body the application left unread. Here a request with a ``Content-Length`` of at most
    ``MAX_BUFFERED_BODY_BYTES`` is read whole before the application runs (it gets the body from
    memory), so the connection is at the next request whatever the application read; the response
    is sent with a ``Content-Length`` in one write and the connection stays open. Everything else
    -- HTTP/1.0, a chunked or larger body, a client or application asking to close -- goes through
    werkzeug's own path, which closes. An idle connection is closed after ``IDLE_TIMEOUT_SECONDS``;
    a failing application gets a 500 and the connection is closed.
    """

    timeout = IDLE_TIMEOUT_SECONDS

    def run_wsgi(self) -> None:
        length_header = self.headers.get("Content-Length")
        try:
            length = int(length_header) if length_header is not None else 0
        except ValueError:
            length = -1
        if (
            self.close_connection
            or self.request_version != "HTTP/1.1"
            or "Transfer-Encoding" in self.headers
            or not 0 <= length <= MAX_BUFFERED_BODY_BYTES
        ):
            super().run_wsgi()  # werkzeug's path: it closes the connection
            self.close_connection = True
            return
        # ``Expect: 100-continue`` was answered by http.server's parse_request already
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away in the middle of its body
            self.close_connection = True
            return
        self.environ = environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        self._respond(*self._call_application(environ))

    def _call_application(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if started and not exc_info:
                raise AssertionError("Headers already set")
            started[:] = [status, headers]
            return chunks.append

        try:
            iterable = self.server.app(environ, start_response)
            try:
                chunks.extend(iterable)
            finally:
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()
            if not started:
                raise AssertionError("the application did not call start_response")
        except Exception:
            if self.server.passthrough_errors:
                raise
            self.server.log("error", f"Error on request:\n{traceback.format_exc()}")
            self.close_connection = True
            message = b"Internal Server Error"
            return "500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain; charset=utf-8")], message
        return started[0], started[1], b"".join(chunks)

    def _respond(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        lines = [f"{self.protocol_version} {code} {reason}".rstrip()]
        names = set()
        for name, value in headers:
            lowered = name.lower()
            if lowered == "connection":
                if value.strip().lower() == "close":
                    self.close_connection = True
                continue
            names.add(lowered)
            lines.append(f"{name}: {value}")
        has_body = code >= 200 and code not in (204, 304)
        if "content-length" not in names and has_body and self.command != "HEAD":
            lines.append(f"Content-Length: {len(payload)}")
        if "server" not in names:
            lines.append(f"Server: {self.version_string()}")
        if "date" not in names:
            lines.append(f"Date: {self.date_time_string()}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + payload if has_body and self.command != "HEAD" else head)
        self.log_request(code, len(payload))

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):  # an idle kept-alive connection: nothing wrong
            return
        super().log_error(format, *args)


class KeepAliveRequestHandler(KeepAliveMixin, QuietRequestHandler):
    """Quiet, with persistent connections."""


def bind(host: str, port: int, option: str) -> socket.socket:
    """A listening socket on host:port; ``option`` names the CLI flag for the error message."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"{host}:{port} is already in use: stop what uses it or pass {option} PORT"
            ) from None
        raise PortInUseError(
            f"cannot listen on {host}:{port} ({error.strerror}); try another {option}"
        ) from None
    return sock


class ServerThread:
    """A werkzeug threaded WSGI server running in a daemon thread."""

    def __init__(
        self,
        name: str,
        sock: socket.socket,
        app: Any,
        request_handler: type[WSGIRequestHandler] | None = None,
    ) -> None:
        host, port = sock.getsockname()[:2]
        self.name = name
        self.host = str(host)
        self.port = int(port)
        self._server: BaseWSGIServer = make_server(
            self.host,
            self.port,
            app,
            threaded=True,
            request_handler=request_handler or QuietRequestHandler,
            fd=sock.fileno(),
        )
        sock.close()  # make_server works on a duplicate of the descriptor
        # a short poll interval: stopping takes at most 0.1 s instead of werkzeug's 0.5 s
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name=name, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
