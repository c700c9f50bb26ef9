"""The local API Gateway: one WSGI application per HTTP API, serving all of its stages.

A request goes through the same steps, in the same order, as on API Gateway: stage selection by
path prefix, CORS preflight (answered here, no authorizer, no function), payload limit (10 MB,
413), route selection (404), the JWT authorizer (401/403, before any function runs), the
payload 2.0 event, the function (an error or a malformed answer is a 500
``{"message":"Internal Server Error"}``), the response mapping, then the CORS headers. Every
response carries an ``apigw-requestid`` header and gets one line in the console.

Before any of that, the server (:func:`api_request_handler`) refuses what API Gateway never lets
through, each as JSON ``{"message"}``: a ``Host`` other than the server's own address or the
API's own AWS domain name (403; see :func:`localcloud.servers.host_is_local`), conflicting
``Content-Length`` headers (400), a request line over 64 KiB (414), a header line over 64 KiB or
over 100 headers (431). Local difference: API Gateway's own limit is lower (10 KiB for the
request line and headers together); these are http.server's.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from localcloud.authorizer import JwtAuthorizer
from localcloud.events_v2 import (
    GatewayResponse,
    HttpRequest,
    MalformedResponseError,
    build_event,
    claims_for_event,
    map_response,
    query_parameters,
)
from localcloud.functions import Invoker
from localcloud.http_integration import Target, forward, map_request
from localcloud.routes import ApiSpec, RouteTable, Stage
from localcloud.servers import (
    BodyTooLargeError,
    MalformedRequestError,
    QuietRequestHandler,
    read_request,
)

__all__ = ["MAX_PAYLOAD_BYTES", "Gateway", "api_request_handler"]

#: HTTP API's payload limit
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


def new_request_id() -> str:
    """Shaped like API Gateway's (``Xyz0AbCdIAMEVxQ=``)."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


def api_request_handler(aws_domain: str | None = None) -> type[QuietRequestHandler]:
    """The request handler of an API's server: only its own address, JSON errors.

    ``aws_domain`` is the API's AWS domain name (``<apiId>.execute-api.<region>.amazonaws.com``),
    accepted as ``Host`` as well: the local edge sends it when the origin request policy is
    AllViewerExceptHostHeader (the template's), as CloudFront does -- API Gateway receives its
    own domain name as ``Host`` there, and it is nobody else's name, so it cannot be rebound.
    """
    extra = frozenset({aws_domain, f"{aws_domain}:443", f"{aws_domain}:80"} if aws_domain else ())

    class GatewayRequestHandler(QuietRequestHandler):
        check_host = True
        extra_hosts = extra
        json_errors = True

        def error_headers(self) -> list[tuple[str, str]]:
            return [("apigw-requestid", new_request_id())]

    return GatewayRequestHandler


class Gateway:
    def __init__(
        self,
        api: ApiSpec,
        invoker: Invoker,
        authorizer: JwtAuthorizer,
        account_id: str,
        console: Callable[[str], None] = print,
        tasks: Callable[[str], Target | None] | None = None,
    ) -> None:
        """``tasks`` picks a task registered in a Cloud Map service (by ARN), for VPC-link integrations."""
        self.api = api
        self._tasks = tasks
        self.routes = RouteTable(api.routes)
        self._invoker = invoker
        self._authorizer = authorizer
        self._account_id = account_id
        self._console = console

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = new_request_id()
        note: list[str] = []
        path = environ.get("PATH_INFO", "")
        try:
            request = _request_from_environ(environ)
        except MalformedRequestError:
            # No body can be read: close the connection rather than parse it as the next request.
            response = GatewayResponse.message(400, "Bad Request", [("connection", "close")])
        except BodyTooLargeError:
            # The body was not read: close the connection rather than parse it as the next request.
            response = GatewayResponse.message(413, "Request Entity Too Large", [("connection", "close")])
        else:
            response = self.handle(request, request_id, note)
            path = request.raw_path
        headers = [
            *response.headers,
            ("apigw-requestid", request_id),
            ("content-length", str(len(response.body))),
        ]
        phrase = (
            HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else ""
        )
        start_response(f"{response.status} {phrase}".strip(), headers)
        elapsed = (time.perf_counter() - started) * 1000
        self._console(
            f"[{self.api.logical_id}] {environ.get('REQUEST_METHOD')} {path} -> {response.status} "
            f"({elapsed:.1f} ms){' ' + ' '.join(note) if note else ''}"
        )
        return [response.body]

    # ------------------------------------------------------------------ the request
    def handle(self, request: HttpRequest, request_id: str, note: list[str] | None = None) -> GatewayResponse:
        note = [] if note is None else note
        selected = self.api.stage_for(request.raw_path)
        if selected is None:
            return GatewayResponse.message(404, "Not Found")
        stage, path = selected
        cors = self.api.cors
        if cors is not None and cors.is_preflight(request.method, request.headers):
            return GatewayResponse(204, cors.preflight_headers(request.headers))
        if len(request.body) > MAX_PAYLOAD_BYTES:
            return self._with_cors(request, GatewayResponse.message(413, "Request Entity Too Large"))
        match = self.routes.match(request.method, path)
        if match is None:
            return self._with_cors(request, GatewayResponse.message(404, "Not Found"))
        route = match.route
        if route.integration is None or not route.integration.is_http_proxy:
            note.append(route.function or "(no local integration)")
        claims = scopes = None
        if route.authorizer is not None:
            spec = self.api.authorizers.get(route.authorizer)
            if spec is None:
                note.append(f"authorizer {route.authorizer} is not available locally")
                return self._with_cors(request, GatewayResponse.message(401, "Unauthorized"))
            result = self._authorizer.authorize(
                spec, request.headers, query_parameters(request.raw_query), route.scopes
            )
            if not result.allowed:
                note.append(f"[{result.reason}]")
                extra = [("www-authenticate", result.www_authenticate)] if result.www_authenticate else []
                message = "Forbidden" if result.status == 403 else "Unauthorized"
                return self._with_cors(request, GatewayResponse.message(result.status, message, extra))
            claims, scopes = result.claims, result.scopes
        if route.integration is None:  # reported at start: API Gateway answers an integration failure so
            return self._with_cors(request, GatewayResponse.message(500, "Internal Server Error"))
        if route.integration.is_http_proxy:
            context = _context_variables(request, request_id, stage, self.api.api_id, claims)
            mapped_path, query, headers = map_request(request, route.integration, stage, path, match, context)
            target = self._tasks(route.integration.invoked_arn) if self._tasks else None
            response, where = forward(
                target,
                request.method,
                mapped_path,
                query,
                headers,
                request.body,
                route.integration.timeout_ms,
            )
            note.append(where)
            return self._with_cors(request, response)
        event = build_event(
            request,
            self.api,
            stage,
            match,
            account_id=self._account_id,
            request_id=request_id,
            domain_name=request.headers.get("host", "localhost").rsplit(":", 1)[0],
            jwt_claims=claims,
            jwt_scopes=scopes,
        )
        invocation = self._invoker.invoke(route.integration.function, event)
        if invocation.init_ms is not None:
            note.append(f"cold start {invocation.init_ms:.0f} ms")
        if not invocation.ok:
            error = invocation.error or {}
            note.append(f"[{error.get('errorType')}: {error.get('errorMessage')}]")
            return self._with_cors(request, GatewayResponse.message(500, "Internal Server Error"))
        try:
            response = map_response(invocation.payload)
        except MalformedResponseError as malformed:
            note.append(f"[malformed Lambda proxy response: {malformed}]")
            return self._with_cors(request, GatewayResponse.message(500, "Internal Server Error"))
        return self._with_cors(request, response)

    def _with_cors(self, request: HttpRequest, response: GatewayResponse) -> GatewayResponse:
        """API Gateway's CORS headers replace whatever CORS headers the function returned."""
        cors = self.api.cors
        if cors is None:
            return response
        headers = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
        headers.extend(cors.response_headers(request.headers))
        response.headers = headers
        return response


def _request_from_environ(environ: dict[str, Any]) -> HttpRequest:
    """The request as API Gateway sees it, with the headers it adds."""
    raw = read_request(environ, MAX_PAYLOAD_BYTES)
    headers = dict(raw.headers)
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {raw.source_ip}" if forwarded else raw.source_ip
    headers.setdefault("x-forwarded-port", str(environ.get("SERVER_PORT", "")))
    headers.setdefault("x-forwarded-proto", str(environ.get("wsgi.url_scheme", "http")))
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
    return HttpRequest(
        method=raw.method,
        raw_path=raw.raw_path,
        raw_query=raw.raw_query,
        headers=headers,
        body=raw.body,
        source_ip=raw.source_ip,
        protocol=raw.protocol,
    )


def _context_variables(
    request: HttpRequest, request_id: str, stage: Stage, api_id: str, claims: dict[str, Any] | None
) -> dict[str, str]:
    """The ``$context`` variables a parameter mapping may name; claims as the 2.0 event has them."""
    variables = {
        "requestId": request_id,
        "stage": stage.name,
        "apiId": api_id,
        "httpMethod": request.method,
        "identity.sourceIp": request.source_ip,
        "identity.userAgent": request.headers.get("user-agent", ""),
    }
    if claims:
        variables.update(
            {f"authorizer.claims.{name}": value for name, value in claims_for_event(claims).items()}
        )
    return variables
