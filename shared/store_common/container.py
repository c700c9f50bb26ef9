"""A service's Lambda handler as a WSGI application: the same code on ECS Fargate, behind gunicorn.

With ``StoreCompute=fargate`` the HTTP API reaches the pets and foods services through a VPC link
and Cloud Map instead of invoking their functions. This adapter stands where API Gateway's Lambda
integration stood: it reads the HTTP request, builds the payload 2.0 event with the same code the
local gateway uses (:mod:`store_common.proxy_event`), calls the handler named by ``HANDLER`` (the
function's ``Handler``, e.g. ``pets.handler.lambda_handler``, imported once when the worker
starts) and answers what API Gateway would have made of the handler's result.

What the event cannot take from the request itself comes in headers that the integration's
parameter mapping sets (names below, defined here only): the stage variable ``apiVersion`` (API
v1's bare arrays), API Gateway's request id, the caller's address, and ``x-apigw-claim-sub``, the
``sub`` claim of the token API Gateway's JWT authorizer verified. They become ``stageVariables``,
``requestContext.requestId`` and ``requestContext.http.sourceIp``, and every ``x-apigw-*`` header
is removed from the headers the handler sees. They are trusted without any check of their own
because the service's security group admits the VPC link alone: no one but API Gateway can send a
request here, and the integration overwrites or removes these headers on every route, so a
client's own ``x-apigw-*`` headers never arrive.

The claims themselves come from the token: an HTTP proxy integration passes the request's
``Authorization`` header on, and on a signed-in route that is the very token the authorizer
verified (its identity source). Its claims become ``requestContext.authorizer.jwt`` -- all of them,
as API Gateway puts them in a Lambda's event -- when its ``sub`` is the one API Gateway vouches for
in ``x-apigw-claim-sub``; without that header (a public route) a token is ignored, whatever it says.
Why not a header per claim: parameter mapping refuses a claim name with a colon
(``$context.authorizer.claims.cognito:groups``), and the groups claim is the one the staff routes need.

Also: ``GET /_health`` is answered here (200 ``{"status":"ok"}``, once the handler is imported;
the handler is not called); bodies over the HTTP API's 10 MB are a 413; a request that cannot be
read is a 400; anything that goes wrong is a JSON 500 -- never a stack trace.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlsplit

from store_common.proxy_event import (
    GatewayResponse,
    HttpRequest,
    MalformedResponseError,
    build_event,
    claims_for_event,
    map_response,
)

__all__ = [
    "HEALTH_PATH",
    "MAX_PAYLOAD_BYTES",
    "REQUEST_ID_HEADER",
    "SOURCE_IP_HEADER",
    "STAGE_VARIABLE_HEADERS",
    "VERIFIED_SUB_HEADER",
    "ContainerApp",
    "InvocationContext",
    "load_handler",
]

#: every header the integration sets starts with this; all of them are removed before the handler
TRUSTED_HEADER_PREFIX = "x-apigw-"
#: the ``sub`` claim of the token API Gateway's authorizer verified (``$context.authorizer.claims.sub``)
VERIFIED_SUB_HEADER = "x-apigw-claim-sub"
#: stage variable -> its header (``$stageVariables.apiVersion``)
STAGE_VARIABLE_HEADERS: Mapping[str, str] = {"apiVersion": "x-apigw-stage-api-version"}
#: ``$context.requestId``: the request id of API Gateway's access log and ``apigw-requestid``
REQUEST_ID_HEADER = "x-apigw-request-id"
#: ``$context.identity.sourceIp``: the caller (the TCP peer here is the VPC link)
SOURCE_IP_HEADER = "x-apigw-source-ip"

HEALTH_PATH = "/_health"
#: the HTTP API's payload limit
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
#: API Gateway gives up on an integration after this long (the context's remaining time)
INTEGRATION_TIMEOUT_MS = 30_000
ROUTE_KEY = "$default"
STAGE = "$default"

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers"}
    | {"transfer-encoding", "upgrade", "content-length"}  # content-length: the adapter sets its own
)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_REQUEST_ID = re.compile(r"[A-Za-z0-9+/=_.-]{1,128}")

Handler = Callable[[dict[str, Any], Any], Any]
logger = logging.getLogger(__name__)


class BadRequestError(ValueError):
    """The request cannot be read (400)."""


class PayloadTooLargeError(ValueError):
    """The body is over MAX_PAYLOAD_BYTES (413)."""


class InvocationContext:
    """What handlers and Powertools read of Lambda's context object."""

    function_version = "$LATEST"
    invoked_function_arn = ""
    memory_limit_in_mb: int | None = None
    log_group_name: str | None = None
    log_stream_name: str | None = None
    identity = None
    client_context = None
    tenant_id = None

    def __init__(self, function_name: str, request_id: str, timeout_ms: int = INTEGRATION_TIMEOUT_MS) -> None:
        self.function_name = function_name
        self.aws_request_id = request_id
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def load_handler(path: str) -> Handler:
    """``package.module.function`` -> the function, as Lambda resolves a ``Handler``."""
    module_name, _, name = path.strip().rpartition(".")
    if not module_name or not name:
        raise ValueError(
            f"HANDLER must be module.function (such as pets.handler.lambda_handler), not {path!r}"
        )
    handler = getattr(importlib.import_module(module_name), name, None)
    if not callable(handler):
        raise ValueError(f"HANDLER {path!r}: {module_name} has no function {name!r}")
    return handler


def new_request_id() -> str:
    """Shaped like API Gateway's (``Xyz0AbCdIAMEVxQ=``), for a request that came without one."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


class ContainerApp:
    """The WSGI application around one Lambda handler."""

    def __init__(self, handler: Handler, function_name: str) -> None:
        self._handler = handler
        self._function_name = function_name
        # Lambda runs one event at a time per execution environment, and the handlers rely on it:
        # Powertools' resolver keeps the current event and context on the class. gunicorn's threads
        # take turns here; the processes (workers) give the concurrency.
        self._invocation = threading.Lock()

    @classmethod
    def from_environment(cls) -> ContainerApp:
        path = os.environ.get("HANDLER", "")
        if not path:
            raise RuntimeError("HANDLER is not set: the handler to run, such as pets.handler.lambda_handler")
        name = os.environ.get("SERVICE_NAME") or os.environ.get("POWERTOOLS_SERVICE_NAME") or path
        return cls(load_handler(path), function_name=name)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        try:
            response = self._respond(environ, method)
        except Exception:  # the answer stays JSON whatever happened; the trace goes to the log
            logger.exception("container adapter error")
            response = GatewayResponse.message(500, "Internal Server Error")
        status = response.status
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Unknown"
        start_response(f"{status} {phrase}", [*response.headers, ("content-length", str(len(response.body)))])
        return [] if method == "HEAD" else [response.body]

    def _respond(self, environ: dict[str, Any], method: str) -> GatewayResponse:
        if method in ("GET", "HEAD") and environ.get("PATH_INFO") == HEALTH_PATH:
            return GatewayResponse(200, [("content-type", "application/json")], b'{"status":"ok"}')
        try:
            request = read_request(environ)
        except PayloadTooLargeError:
            return GatewayResponse.message(413, "Request Entity Too Large")
        except BadRequestError as error:
            logger.warning("bad request: %s", error)
            return GatewayResponse.message(400, "Bad Request")
        headers = request.headers
        request_id = headers.get(REQUEST_ID_HEADER, "")
        if not _REQUEST_ID.fullmatch(request_id):
            request_id = new_request_id()
        claims = verified_claims(headers)
        scopes = claims["scope"].split() if claims and claims.get("scope") else None
        stage_variables = {
            variable: headers[name] for variable, name in STAGE_VARIABLE_HEADERS.items() if headers.get(name)
        }
        forwarded = HttpRequest(
            method=request.method,
            raw_path=request.raw_path,
            raw_query=request.raw_query,
            headers={
                name: value for name, value in headers.items() if not name.startswith(TRUSTED_HEADER_PREFIX)
            },
            body=request.body,
            source_ip=headers.get(SOURCE_IP_HEADER) or request.source_ip,
            protocol=request.protocol,
        )
        event = build_event(
            forwarded,
            route_key=ROUTE_KEY,
            stage=STAGE,
            api_id="",
            domain_name=headers.get("host", "localhost").rsplit(":", 1)[0],
            request_id=request_id,
            account_id="",
            stage_variables=stage_variables,
            jwt_claims=claims,
            jwt_scopes=scopes,
        )
        context = InvocationContext(self._function_name, request_id)
        with self._invocation:
            try:
                result = self._handler(event, context)
            except Exception:  # as API Gateway answers a function error
                logger.exception("the handler raised")
                return GatewayResponse.message(500, "Internal Server Error")
        try:
            return _checked(map_response(result))
        except MalformedResponseError as malformed:
            logger.error("malformed Lambda proxy response: %s", malformed)
            return GatewayResponse.message(500, "Internal Server Error")


def verified_claims(headers: Mapping[str, str]) -> dict[str, str] | None:
    """The claims of the bearer token, as API Gateway puts them in the event (strings; a list as
    ``[a b]``), when API Gateway verified it: its ``sub`` is the one in ``x-apigw-claim-sub``.
    None otherwise (a public route: no authorizer ran)."""
    verified_sub = headers.get(VERIFIED_SUB_HEADER, "")
    if not verified_sub:
        return None
    claims = _token_claims(headers.get("authorization", ""))
    if claims is None or claims.get("sub") != verified_sub:
        logger.warning("the bearer token is not the one API Gateway verified; no claims")
        return None
    return claims_for_event(claims)


def _token_claims(authorization: str) -> dict[str, Any] | None:
    """The payload of a JWT (``Bearer <token>`` or the token alone), unverified: API Gateway verified it."""
    token = authorization.strip().removeprefix("Bearer ").strip()
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def read_request(environ: dict[str, Any], max_body_bytes: int = MAX_PAYLOAD_BYTES) -> HttpRequest:
    """The request as the WSGI server received it: lower-cased headers, the raw path and query, the
    body read whole (at most ``max_body_bytes``). Raises BadRequestError or PayloadTooLargeError."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if declared and not declared.isdigit():
        raise BadRequestError(f"Content-Length {declared[:20]!r}")
    stream = environ.get("wsgi.input")
    try:
        if declared:
            length = int(declared)
            if length > max_body_bytes:
                raise PayloadTooLargeError(f"Content-Length {length}")
            body = _read_exactly(stream, length) if length else b""
        elif environ.get("wsgi.input_terminated") and stream is not None:  # chunked
            body = _read_at_most(stream, max_body_bytes + 1)
            if len(body) > max_body_bytes:
                raise PayloadTooLargeError("chunked body")
        else:
            body = b""
    except (BadRequestError, PayloadTooLargeError):
        raise
    except Exception as error:  # the server's body reader: a broken chunk, a connection gone
        raise BadRequestError(f"body unreadable: {type(error).__name__}") from None
    raw_path, raw_query = _raw_target(environ)
    return HttpRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        raw_path=raw_path,
        raw_query=raw_query,
        headers=headers,
        body=body,
        source_ip=str(environ.get("REMOTE_ADDR") or "127.0.0.1"),
        protocol=str(environ.get("SERVER_PROTOCOL") or "HTTP/1.1"),
    )


def _read_exactly(stream: Any, length: int) -> bytes:
    if stream is None:
        raise BadRequestError("no body stream")
    body = _read_at_most(stream, length)
    if len(body) != length:
        raise BadRequestError(f"body shorter than its Content-Length ({len(body)} of {length} bytes)")
    return body


def _read_at_most(stream: Any, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = stream.read(min(limit - size, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _raw_target(environ: Mapping[str, Any]) -> tuple[str, str]:
    """The path and query as sent (gunicorn's ``RAW_URI``; werkzeug's ``REQUEST_URI``)."""
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if raw_uri and not raw_uri.startswith("/"):  # absolute form: http://host/path?query
        parts = urlsplit(raw_uri)
        raw_uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not raw_uri:
        raw_uri = quote(str(environ.get("PATH_INFO") or "/"))
        if environ.get("QUERY_STRING"):
            raw_uri += f"?{environ['QUERY_STRING']}"
    raw_path, _, raw_query = raw_uri.partition("?")
    return raw_path or "/", raw_query


def _checked(response: GatewayResponse) -> GatewayResponse:
    """The mapped answer, without what WSGI forbids an application to send (hop-by-hop headers) and
    with every header fit to be sent: a name and value HTTP cannot carry make the answer malformed."""
    headers: list[tuple[str, str]] = []
    for name, value in response.headers:
        if not _TOKEN.fullmatch(name) or not _FIELD_VALUE.fullmatch(value):
            raise MalformedResponseError(f"header {name[:40]!r} cannot be sent over HTTP")
        if name.lower() not in _HOP_BY_HOP:
            headers.append((name, value))
    response.headers = headers
    return response


_app: ContainerApp | None = None
_app_lock = threading.Lock()


def __getattr__(name: str) -> ContainerApp:
    """``app``, the WSGI callable gunicorn serves (``store_common.container:app``): built from the
    environment when first asked for -- in each gunicorn worker, before it serves -- so that
    importing this module (tests, tools) needs no ``HANDLER``."""
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _app_lock:
        if _app is None:
            _app = ContainerApp.from_environment()
        return _app
