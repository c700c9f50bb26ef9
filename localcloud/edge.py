"""The local CloudFront edge: one HTTP server per served distribution, running its Lambda@Edge code.

Why: a Lambda@Edge function is tested for real only when a real HTTP request goes through it and
on to the origin it chose. Each request goes through CloudFront's steps, in CloudFront's order:

1. the cache behaviour whose path pattern matches (``AllowedMethods``: 403 otherwise);
2. the ``viewer-request`` function, if any, on the viewer's request;
3. (nothing is cached locally) the origin request: headers as the origin request policy says
   (``Host`` becomes the origin's domain unless the policy is AllViewer), ``Via`` and
   ``X-Forwarded-For`` added, the origin (domain, path, port, protocol, custom headers) attached;
4. the ``origin-request`` function, if any, on that request, in the event CloudFront sends:
   ``Records[0].cf`` with ``config`` and ``request`` (headers as lowercase name -> ``[{key, value}]``,
   ``body`` when ``IncludeBody``);
5. a response returned by a function (it has a ``status``) goes to the viewer as is; a request is
   sent to ``protocol://domainName:port`` + origin path + uri + querystring with its headers, the
   origin's custom headers and the body, and the origin's answer is relayed.

Functions run through the local :class:`~localcloud.functions.FunctionRuntime`, in the same warm
workers as every other function of the template. A function error is a 503 (``LambdaExecutionError``),
throttling a 503 (``LambdaLimitExceeded``), an answer that is neither a request nor a response a 502
(``LambdaValidationError``) -- each a JSON ``{"message"}`` with CloudFront's ``X-Cache``.

Where requests may go: only to the local cloud's own servers. An origin domain that is one of the
template's APIs (``<apiId>.execute-api.<region>.amazonaws.com``) goes to that API's local server;
``127.0.0.1:<port>`` and ``localhost:<port>`` go there; anything else is a 502 naming the host. The
local servers speak plain HTTP, so an origin's ``https`` is sent as ``http`` to them.

What the edge's server refuses before any function runs (:class:`EdgeRequestHandler`), each as
JSON ``{"message"}`` with ``X-Cache: Error from cloudfront``: a ``Host`` other than the server's
own address (403; DNS rebinding, see :func:`localcloud.servers.host_is_local` -- CloudFront
answers a name that is not one of the distribution's with 403 too), conflicting
``Content-Length`` headers (400), a request line over 64 KiB (414; CloudFront's limit is 8 KiB),
a header line over 64 KiB or over 100 headers (431; CloudFront's is 20 KiB in all).
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import http.client
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from localcloud.cloudfront import Association, Behavior, DistributionSpec, Origin
from localcloud.functions import Invoker
from localcloud.servers import (
    BodyTooLargeError,
    MalformedRequestError,
    QuietRequestHandler,
    read_request,
)

__all__ = [
    "EdgeRequestHandler",
    "EdgeResponse",
    "EdgeServer",
    "LambdaValidationError",
    "LocalOrigins",
    "ViewerRequest",
    "cf_headers",
    "function_result",
    "origin_request",
    "viewer_request",
]

#: bodies over this are refused (413) before any function runs; the APIs behind accept 10 MB
MAX_BODY_BYTES = 10 * 1024 * 1024
#: how much of the body a function sees with IncludeBody (the rest is cut, ``inputTruncated``)
BODY_LIMITS = {"viewer-request": 40 * 1024, "origin-request": 1024 * 1024}
#: the largest body a function may put in a response it generates
GENERATED_BODY_LIMITS = {"viewer-request": 40 * 1024, "origin-request": 1024 * 1024}
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REPLACED_RESPONSE_HEADERS = frozenset({"content-length", "via", "server", "date"})


class LambdaValidationError(ValueError):
    """What a function returned is neither a valid request nor a valid response."""


@dataclass
class ViewerRequest:
    """The request as the viewer sent it."""

    method: str
    #: the path as received (still percent-encoded)
    uri: str
    querystring: str
    #: (lowercase name, value), in the order received
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str


@dataclass
class EdgeResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reason: str = ""

    @classmethod
    def message(cls, status: int, message: str, x_cache: str) -> EdgeResponse:
        """An error CloudFront makes itself (its own pages are HTML; here JSON with a message)."""
        return cls(
            status,
            [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("X-Cache", x_cache)],
            json.dumps({"message": message}).encode(),
        )


class LocalOrigins:
    """Which origin hosts are servers of the local cloud, and where they listen.

    ``servers`` maps a domain name (an API's ``<apiId>.execute-api.<region>.amazonaws.com``) to the
    ``(host, port)`` of its local server; loopback hosts are reached as they are. Nothing else is.
    """

    LOOPBACK = frozenset({"127.0.0.1", "localhost"})

    def __init__(self, servers: Mapping[str, tuple[str, int]]) -> None:
        self._servers = {name.lower(): address for name, address in servers.items()}

    def __call__(self, domain: str, port: int) -> tuple[str, int] | None:
        host = domain.lower().rstrip(".")
        if host in self._servers:
            return self._servers[host]
        if host in self.LOOPBACK:
            return "127.0.0.1", port
        return None


# ---------------------------------------------------------------------- events
def _display_name(name: str) -> str:
    """The ``key`` of a header: the WSGI server lost the viewer's spelling, so Title-Case it."""
    return "-".join(part.capitalize() for part in name.split("-"))


def cf_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, list[dict[str, str]]]:
    """Headers as Lambda@Edge events carry them: lowercase name -> ``[{key, value}, ...]``."""
    headers: dict[str, list[dict[str, str]]] = {}
    for name, value in pairs:
        headers.setdefault(name.lower(), []).append({"key": _display_name(name), "value": value})
    return headers


def viewer_request(viewer: ViewerRequest, uri: str) -> dict[str, Any]:
    """The ``request`` of a viewer-request event (no origin yet; the viewer's own ``Host``)."""
    return {
        "clientIp": viewer.client_ip,
        "headers": cf_headers(viewer.headers),
        "method": viewer.method,
        "querystring": viewer.querystring,
        "uri": uri,
    }


def origin_request(
    request: dict[str, Any], behavior: Behavior, origin: Origin, via: str, viewer_protocol: str = "http"
) -> dict[str, Any]:
    """The ``request`` of an origin-request event, made from the (viewer-request stage's) request.

    The origin request policy decides ``Host`` (the origin's domain, unless AllViewer); CloudFront
    adds ``Via`` and ``X-Forwarded-For`` and attaches the origin with its custom headers.
    """
    assert origin.custom is not None
    headers = copy.deepcopy(request["headers"])
    for name in HOP_BY_HOP:
        headers.pop(name, None)
    if not behavior.forward_host:
        headers["host"] = [{"key": "Host", "value": origin.domain_name}]
    forwarded = ", ".join(entry["value"] for entry in headers.get("x-forwarded-for", []))
    client_ip = str(request.get("clientIp", ""))
    headers["x-forwarded-for"] = [
        {"key": "X-Forwarded-For", "value": f"{forwarded}, {client_ip}" if forwarded else client_ip}
    ]
    headers["via"] = [{"key": "Via", "value": via}]
    custom = origin.custom
    protocol = {"http-only": "http", "https-only": "https"}.get(custom.protocol_policy, viewer_protocol)
    return {
        "clientIp": client_ip,
        "headers": headers,
        "method": request["method"],
        "querystring": request.get("querystring", ""),
        "uri": request["uri"],
        "origin": {
            "custom": {
                "customHeaders": cf_headers(origin.custom_headers),
                "domainName": origin.domain_name,
                "keepaliveTimeout": custom.keepalive_timeout,
                "path": origin.path,
                "port": custom.https_port if protocol == "https" else custom.http_port,
                "protocol": protocol,
                "readTimeout": custom.read_timeout,
                "sslProtocols": list(custom.ssl_protocols),
            }
        },
    }


def event_of(
    spec: DistributionSpec, event_type: str, request: dict[str, Any], request_id: str
) -> dict[str, Any]:
    return {
        "Records": [
            {
                "cf": {
                    "config": {
                        "distributionDomainName": spec.domain_name,
                        "distributionId": spec.distribution_id,
                        "eventType": event_type,
                        "requestId": request_id,
                    },
                    "request": request,
                }
            }
        ]
    }


def body_field(body: bytes, limit: int) -> dict[str, Any]:
    """``request.body`` with IncludeBody: base64, cut at ``limit`` bytes (``inputTruncated``)."""
    return {
        "action": "read-only",
        "data": base64.b64encode(body[:limit]).decode(),
        "encoding": "base64",
        "inputTruncated": len(body) > limit,
    }


# ---------------------------------------------------------------------- function results
def function_result(
    payload: Any, event_type: str, sent: dict[str, Any], body: bytes
) -> EdgeResponse | tuple[dict[str, Any], bytes]:
    """A generated response, or the request (without ``body``) and the body to send on.

    Raises :class:`LambdaValidationError` as CloudFront answers 502 for what it cannot use.
    """
    if not isinstance(payload, dict):
        raise LambdaValidationError(f"the function returned {type(payload).__name__}, not an object")
    if "status" in payload:
        return generated_response(payload, GENERATED_BODY_LIMITS[event_type])
    if not isinstance(payload.get("uri"), str) or not payload["uri"].startswith("/"):
        raise LambdaValidationError("the returned request has no uri starting with /")
    headers = payload.get("headers")
    if not isinstance(headers, dict):
        raise LambdaValidationError("the returned request has no headers object")
    for name, entries in headers.items():
        if not isinstance(entries, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("value"), str) for entry in entries
        ):
            raise LambdaValidationError(f"header {name!r} is not a list of {{key, value}}")
    if payload.get("method", sent.get("method")) != sent.get("method"):
        raise LambdaValidationError("the request method is read-only")
    request = {key: value for key, value in payload.items() if key != "body"}
    if "origin" in sent:
        request.setdefault("origin", sent["origin"])
        if not isinstance(request["origin"], dict) or not request["origin"]:
            raise LambdaValidationError("the returned request has no origin")
    returned_body = payload.get("body")
    if isinstance(returned_body, dict) and returned_body.get("action") == "replace":
        body = _decode(returned_body.get("data", ""), returned_body.get("encoding", "text"))
    return request, body


def generated_response(payload: dict[str, Any], body_limit: int) -> EdgeResponse:
    """A response a function generated: ``status``, ``statusDescription``, ``headers``, ``body``."""
    status_text = str(payload.get("status"))
    if not status_text.isdigit() or not 200 <= int(status_text) <= 599:
        raise LambdaValidationError(f"status {payload.get('status')!r} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    for name, entries in (payload.get("headers") or {}).items():
        if not isinstance(entries, list):
            raise LambdaValidationError(f"header {name!r} is not a list of {{key, value}}")
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
                raise LambdaValidationError(f"header {name!r} has an entry without a string value")
            headers.append((str(entry.get("key") or _display_name(str(name))), entry["value"]))
    body = _decode(payload.get("body", ""), payload.get("bodyEncoding", "text"))
    if len(body) > body_limit:
        raise LambdaValidationError(f"the generated body is {len(body)} bytes; at most {body_limit}")
    headers.append(("X-Cache", "LambdaGeneratedResponse from cloudfront"))
    return EdgeResponse(int(status_text), headers, body, str(payload.get("statusDescription") or ""))


def _decode(data: Any, encoding: Any) -> bytes:
    if not isinstance(data, str):
        raise LambdaValidationError("body must be a string")
    if encoding == "text":
        return data.encode()
    if encoding == "base64":
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error:
            raise LambdaValidationError("body is not valid base64") from None
    raise LambdaValidationError(f"body encoding {encoding!r} is not text or base64")


# ---------------------------------------------------------------------- the server
def new_request_id() -> str:
    """Shaped like CloudFront's ``x-amz-cf-id`` (56 characters of URL-safe base64)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(40)).decode()


class EdgeRequestHandler(QuietRequestHandler):
    """The request handler of an edge server: only its own address, JSON errors (see above)."""

    check_host = True
    json_errors = True

    def error_headers(self) -> list[tuple[str, str]]:
        return [
            ("Cache-Control", "no-store"),
            ("X-Cache", "Error from cloudfront"),
            ("X-Amz-Cf-Id", new_request_id()),
        ]


class EdgeServer:
    """The WSGI application of one distribution."""

    def __init__(
        self,
        spec: DistributionSpec,
        invoker: Invoker,
        origins: Callable[[str, int], tuple[str, int] | None],
        console: Callable[[str], None] = print,
    ) -> None:
        self.spec = spec
        self._invoker = invoker
        self._origins = origins
        self._console = console
        digest = hashlib.sha256(spec.distribution_id.encode()).hexdigest()[:32]
        self.via = f"1.1 {digest}.cloudfront.net (CloudFront)"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = new_request_id()
        note: list[str] = []
        try:
            raw = read_request(environ, MAX_BODY_BYTES)
        except MalformedRequestError:
            response = EdgeResponse.message(400, "Bad Request", "Error from cloudfront")
            response.headers.append(("Connection", "close"))  # no body can be read
        except BodyTooLargeError:
            response = EdgeResponse.message(413, "Request Entity Too Large", "Error from cloudfront")
            response.headers.append(("Connection", "close"))  # the body was not read
        else:
            viewer = ViewerRequest(
                raw.method, raw.raw_path, raw.raw_query, raw.headers, raw.body, raw.source_ip
            )
            response = self.handle(viewer, request_id, note)
        headers = [
            *response.headers,
            ("Via", self.via),
            ("X-Amz-Cf-Id", request_id),
            ("Content-Length", str(len(response.body))),
        ]
        reason = response.reason or (
            HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else ""
        )
        start_response(f"{response.status} {reason}".strip(), headers)
        elapsed = (time.perf_counter() - started) * 1000
        self._console(
            f"[{self.spec.logical_id}] {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO', '')} -> "
            f"{response.status} ({elapsed:.1f} ms){' ' + ' '.join(note) if note else ''}"
        )
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]

    def handle(self, viewer: ViewerRequest, request_id: str, note: list[str] | None = None) -> EdgeResponse:
        note = [] if note is None else note
        behavior = self.spec.behavior_for(viewer.uri)
        if viewer.method not in behavior.allowed_methods:
            return EdgeResponse.message(
                403,
                "This distribution is not configured to allow the HTTP request method that was used for this request.",
                "Error from cloudfront",
            )
        uri = viewer.uri
        if uri == "/" and self.spec.default_root_object:
            uri = "/" + self.spec.default_root_object.lstrip("/")
        request: dict[str, Any] = viewer_request(viewer, uri)
        body = viewer.body
        association = behavior.associations.get("viewer-request")
        if association is not None:
            outcome = self._run(association, request, body, request_id, note)
            if isinstance(outcome, EdgeResponse):
                return outcome
            request, body = outcome
        origin = self.spec.origins[behavior.target_origin_id]
        if origin.custom is None:
            return EdgeResponse.message(
                502,
                f"Origin {origin.origin_id} is not a custom origin; S3 origins are not served locally.",
                "Error from cloudfront",
            )
        request = origin_request(request, behavior, origin, self.via)
        association = behavior.associations.get("origin-request")
        if association is not None:
            outcome = self._run(association, request, body, request_id, note)
            if isinstance(outcome, EdgeResponse):
                return outcome
            request, body = outcome
        return self._forward(request, body, note)

    # ------------------------------------------------------------------ steps
    def _run(
        self, association: Association, request: dict[str, Any], body: bytes, request_id: str, note: list[str]
    ) -> EdgeResponse | tuple[dict[str, Any], bytes]:
        event_type = association.event_type
        sent = copy.deepcopy(request)
        if association.include_body:
            sent["body"] = body_field(body, BODY_LIMITS[event_type])
        result = self._invoker.invoke(association.function, event_of(self.spec, event_type, sent, request_id))
        cold = f", cold start {result.init_ms:.0f} ms" if result.init_ms is not None else ""
        note.append(f"{event_type} {association.function} ({result.duration_ms:.1f} ms{cold})")
        if not result.ok:
            error = result.error or {}
            note.append(f"[{error.get('errorType')}: {error.get('errorMessage')}]")
            if error.get("errorType") == "TooManyRequestsException":
                return EdgeResponse.message(
                    503,
                    "The Lambda function associated with the distribution was throttled.",
                    "LambdaLimitExceeded from cloudfront",
                )
            return EdgeResponse.message(
                503,
                "The Lambda function associated with the distribution returned an error.",
                "LambdaExecutionError from cloudfront",
            )
        try:
            return function_result(result.payload, event_type, request, body)
        except LambdaValidationError as invalid:
            note.append(f"[invalid result: {invalid}]")
            return EdgeResponse.message(
                502,
                "The Lambda function associated with the distribution returned an invalid response.",
                "LambdaValidationError from cloudfront",
            )

    def _forward(self, request: dict[str, Any], body: bytes, note: list[str]) -> EdgeResponse:
        custom = (request.get("origin") or {}).get("custom")
        if not isinstance(custom, dict):
            return EdgeResponse.message(
                502,
                "The request goes to an S3 origin; S3 origins are not served locally.",
                "Error from cloudfront",
            )
        domain = str(custom.get("domainName", ""))
        protocol = str(custom.get("protocol", "https"))
        try:
            port = int(custom.get("port") or _DEFAULT_PORTS.get(protocol, 443))
        except (TypeError, ValueError):
            return self._invalid(note, f"origin port {custom.get('port')!r}")
        address = self._origins(domain, port)
        if address is None:
            note.append(f"[origin {domain}:{port} refused]")
            return EdgeResponse.message(
                502,
                f"The origin {domain} is not a server of the local cloud; the local edge calls only the "
                "template's APIs and 127.0.0.1.",
                "Error from cloudfront",
            )
        query = str(request.get("querystring") or "")
        target = f"{custom.get('path') or ''}{request['uri']}{'?' + query if query else ''}"
        headers = _origin_headers(request["headers"], custom.get("customHeaders") or {})
        if "host" not in request["headers"]:
            default = port == _DEFAULT_PORTS.get(protocol)
            headers.insert(0, ("Host", domain if default else f"{domain}:{port}"))
        timeout = float(custom.get("readTimeout") or 30)
        connection = http.client.HTTPConnection(address[0], address[1], timeout=timeout)
        note.append(f"-> http://{address[0]}:{address[1]}{target}")
        try:
            connection.putrequest(
                request["method"],
                quote(target, safe="/%?=&+:@!$'()*,;~-._"),
                skip_host=True,
                skip_accept_encoding=True,
            )
            for name, value in headers:
                connection.putheader(name, value)
            if body or request["method"] in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            answer = connection.getresponse()
            payload = answer.read()
        except ValueError as invalid:  # a header name or value http.client refuses to send
            return self._invalid(note, str(invalid))
        except TimeoutError:
            note.append("[origin read timeout]")
            return EdgeResponse.message(
                504,
                f"The origin did not answer within its read timeout ({timeout:.0f} s).",
                "Error from cloudfront",
            )
        except OSError as error:
            note.append(f"[origin: {error}]")
            return EdgeResponse.message(
                502, "CloudFront could not connect to the origin.", "Error from cloudfront"
            )
        finally:
            connection.close()
        relayed = [
            (name, value)
            for name, value in answer.getheaders()
            # the edge's own server adds Date, Via and the length of what it sends, and no Server
            if name.lower() not in HOP_BY_HOP and name.lower() not in _REPLACED_RESPONSE_HEADERS
        ]
        relayed.append(
            ("X-Cache", "Error from cloudfront" if answer.status >= 400 else "Miss from cloudfront")
        )
        return EdgeResponse(answer.status, relayed, payload, answer.reason)

    @staticmethod
    def _invalid(note: list[str], problem: str) -> EdgeResponse:
        note.append(f"[invalid result: {problem}]")
        return EdgeResponse.message(
            502,
            "The Lambda function associated with the distribution returned an invalid response.",
            "LambdaValidationError from cloudfront",
        )


def _origin_headers(
    headers: dict[str, list[dict[str, str]]], custom_headers: dict[str, list[dict[str, str]]]
) -> list[tuple[str, str]]:
    """What the origin receives: the request's headers, then the origin's custom headers."""
    pairs: list[tuple[str, str]] = []
    for source in (headers, custom_headers):
        for name, entries in source.items():
            if name.lower() in HOP_BY_HOP or name.lower() == "content-length":
                continue
            pairs.extend((entry.get("key") or _display_name(name), entry["value"]) for entry in entries)
    return pairs
