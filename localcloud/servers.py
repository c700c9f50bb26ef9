"""Threaded HTTP servers on sockets we bind ourselves.

werkzeug's ``make_server`` exits the process (``sys.exit(1)``) when its port is taken; binding
the socket first turns that into :class:`PortInUseError`, which the CLI reports as one line with
exit code 2. Port 0 picks a free port; :attr:`ServerThread.port` tells which.

werkzeug also closes the connection after every response. :class:`KeepAliveMixin` keeps it open
where that is safe; the AWS backend uses it, so a handler's boto3 client reuses its connections
instead of paying a TCP connection and a new server thread for every AWS call.

Every request handler here derives from :class:`HardenedRequestHandler`: no ``Server`` header (API
Gateway sends none; werkzeug's names its version and Python's), a request with conflicting
``Content-Length`` headers refused, and -- for the servers a browser can reach (API, edge, web,
AWS endpoint) -- a ``Host`` that is not the address the server listens on refused (DNS rebinding).
"""

from __future__ import annotations

import errno
import io
import ipaddress
import json
import select
import socket
import threading
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

__all__ = [
    "BodyTooLargeError",
    "HardenedRequestHandler",
    "KeepAliveMixin",
    "KeepAliveRequestHandler",
    "MalformedRequestError",
    "PortInUseError",
    "QuietRequestHandler",
    "RawRequest",
    "ServerThread",
    "bind",
    "host_is_local",
    "local_origins",
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


_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost"})
_WILDCARD_HOSTS = frozenset({"0.0.0.0", ""})  # noqa: S104 - names, compared, never bound here
#: after an error answer, how much of what the client is still sending is read (so that closing the
#: socket does not reset the connection before the client has read the answer)
_DRAIN_BYTES = 1 << 20


def _split_host(value: str) -> tuple[str, str]:
    """``name:port`` -> (name, port); ``[v6]:port`` keeps its brackets out; no port -> ""."""
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else ""
    name, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    return name, port


def host_is_local(value: str, listen_host: str, port: int, extra: Iterable[str] = ()) -> bool:
    """Whether a request's ``Host`` names the server listening on ``listen_host:port``.

    Why: DNS rebinding. A web page on ``http://evil.example`` can make its own name resolve to
    127.0.0.1 and then call a local server "same-origin", with ``Host: evil.example``. Only the
    browser's Host tells such a request from the local web client's, so every server a browser can
    reach accepts only its own address: ``<listen host>:<port>``; ``localhost:<port>`` as well when
    it listens on 127.0.0.1 (nobody can rebind ``localhost``); on 0.0.0.0, ``localhost`` and any IP
    address (an IP address is not a DNS name, so it cannot be rebound). The port may be left out
    only when it is 80. ``extra`` holds further accepted values as sent (``name`` or ``name:port``).
    """
    value = value.strip().lower()
    if value in {name.lower() for name in extra}:
        return True
    name, port_text = _split_host(value)
    if port_text != str(port) and not (port_text == "" and port == 80):
        return False
    if name == listen_host:
        return True
    loopback_listener = listen_host in _LOOPBACK_NAMES or listen_host in _WILDCARD_HOSTS
    if loopback_listener and name in _LOOPBACK_NAMES:
        return True
    if listen_host in _WILDCARD_HOSTS:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True
    return False


def local_origins(listen_host: str, port: int) -> frozenset[str]:
    """The browser origins of the page served on ``listen_host:port`` (the local web client):
    ``http://<host>:<port>``, and the same with ``localhost`` (and 127.0.0.1) for a loopback or
    wildcard address -- the same names :func:`host_is_local` accepts."""
    names = {listen_host}
    if listen_host in _LOOPBACK_NAMES or listen_host in _WILDCARD_HOSTS:
        names |= _LOOPBACK_NAMES
    suffix = "" if port == 80 else f":{port}"
    return frozenset(f"http://{name}{suffix}" for name in names if name)


class HardenedRequestHandler(WSGIRequestHandler):
    """What every local server does before (and instead of) its application, whatever it serves.

    * No ``Server`` header on any response: werkzeug's says ``Werkzeug/<version> Python/<version>``,
      API Gateway sends none. (``send_response`` is http.server's without it; werkzeug's own
      response path and :class:`KeepAliveMixin` both go through it or write no ``Server``.)
    * A request with two ``Content-Length`` values that differ is refused with 400 and the
      connection closed: http.server would read the body by the first one and werkzeug's environ
      holds the last one -- one request could be read as two (request smuggling).
    * ``check_host`` (the API, edge, web and AWS endpoint servers): a request whose ``Host`` is not
      this server's own address (:func:`host_is_local`, plus ``extra_hosts``) is refused with 403
      before the application sees it; so is one without a ``Host``, or with two.
    * ``json_errors`` (the API and edge servers): the errors http.server answers itself -- 414 for
      a request line over 64 KiB, 431 for a header line over 64 KiB or over 100 headers, 400 for a
      malformed request -- are JSON ``{"message": ...}`` as API Gateway's and the edge's own
      errors are, instead of http.server's HTML page; :meth:`error_headers` adds the server's own
      headers to them (``apigw-requestid``, CloudFront's ``X-Cache``).

    A 403 is JSON ``{"message": ...}`` on every server (saying why); a 400 is answered as that
    server's other malformed requests are (JSON ``{"message": "Bad Request"}`` with
    ``json_errors``, http.server's page otherwise). Either closes the connection.
    """

    check_host: ClassVar[bool] = False
    extra_hosts: ClassVar[frozenset[str]] = frozenset()
    json_errors: ClassVar[bool] = False

    # ------------------------------------------------------------------ no Server header
    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    # ------------------------------------------------------------------ refusals
    def parse_request(self) -> bool:
        self._checked = False
        if not super().parse_request():
            return False
        return self._check()

    def handle_expect_100(self) -> bool:
        """Checked before ``100 Continue``: a refused client must not start sending its body."""
        return self._check() and bool(super().handle_expect_100())

    def _check(self) -> bool:
        if getattr(self, "_checked", False):
            return True
        self._checked = True
        problem = self.refusal()
        if problem is None:
            return True
        status, message = problem
        if status == 400:  # a malformed request: answered as http.server's own 400s are
            self.send_error(400, None, message)
            return False
        self.log_error("refused: %s", message)
        self.refuse(status, message)
        return False

    def refusal(self) -> tuple[int, str] | None:
        """Why this request (its headers, parsed) is refused, as (status, message); None: served."""
        lengths = {
            part.strip()
            for value in self.headers.get_all("Content-Length") or []
            for part in value.split(",")
        }
        if len(lengths) > 1:
            return 400, "Bad Request: conflicting Content-Length headers"
        if self.check_host:
            return self.host_refusal()
        return None

    def host_refusal(self) -> tuple[int, str] | None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            return 400, "Bad Request: a request needs exactly one Host header"
        host, port = str(self.server.server_address[0]), int(self.server.server_address[1])
        values = [hosts[0]]
        target = urlsplit(self.path)
        if target.scheme and target.netloc:  # an absolute request target overrides Host (werkzeug)
            values.append(target.netloc)
        for value in values:
            if not host_is_local(value, host, port, self.extra_hosts):
                return 403, (
                    f"Forbidden: Host {value.strip()!r} is not this local server; it answers only "
                    f"requests for its own address (here {host}:{port}), so that no web page can "
                    "reach it under another name (DNS rebinding)"
                )
        return None

    def error_headers(self) -> list[tuple[str, str]]:
        """Headers of this server's own error answers (refusals, JSON errors)."""
        return []

    def refuse(self, status: int, message: str) -> None:
        """Answers ``{"message": ...}`` with ``status`` and closes the connection."""
        self.close_connection = True
        body = json.dumps({"message": message}).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in self.error_headers():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", "") != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:  # the client went away: nothing to answer
            return
        self._drain()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if not self.json_errors:
            super().send_error(code, message, explain)
            self._drain()
            return
        self.log_error("code %d, message %s", code, message or explain)
        phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Error"
        self.refuse(code, phrase)

    def _drain(self) -> None:
        """Reads what the client is still sending (briefly, bounded): closing a socket with unread
        data resets the connection, and the client could lose the answer."""
        read = 0
        try:
            while read < _DRAIN_BYTES and select.select([self.rfile], [], [], 0.01)[0]:
                chunk = self.rfile.read1(65536)
                if not chunk:
                    return
                read += len(chunk)
        except (OSError, ValueError):
            return


class QuietRequestHandler(HardenedRequestHandler):
    """No access log from werkzeug: the gateway writes its own one line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class KeepAliveMixin(HardenedRequestHandler):
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
        if "date" not in names:  # and no Server header (HardenedRequestHandler)
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
