"""The HTTP API payload format 2.0: the event a Lambda receives, and how its answer becomes HTTP.

One implementation for both places that stand where API Gateway stands: the local cloud's gateway
(``localcloud.events_v2`` loads this file) and the container adapter (``store_common.container``)
that runs a service's Lambda handler behind gunicorn on ECS. Standard library only, so that the
local cloud can load this one file without the layer's dependencies.

Both directions follow "Working with AWS Lambda proxy integrations for HTTP APIs":

* event: ``version`` "2.0", ``routeKey``, ``rawPath`` (stage prefix included, as sent),
  ``rawQueryString``, ``cookies``, lower-cased ``headers`` (repeated headers comma-joined),
  comma-joined ``queryStringParameters``, ``pathParameters``, ``stageVariables``,
  ``requestContext`` (with ``authorizer.jwt`` when a JWT authorizer ran), the body as text or
  base64 with ``isBase64Encoded`` -- keys with nothing to say are left out, as API Gateway does;
* response: a dict with ``statusCode`` gives status, headers, cookies and body; any other value
  is a "simple response": 200, ``content-type: application/json``, the value as the body.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

__all__ = [
    "GatewayResponse",
    "HttpRequest",
    "MalformedResponseError",
    "build_event",
    "claims_for_event",
    "is_text",
    "map_response",
    "query_parameters",
]

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/graphql",
)
_TEXT_SUFFIXES = ("+json", "+xml")


@dataclass(frozen=True)
class HttpRequest:
    """What the gateway received, independent of the web server."""

    method: str
    raw_path: str
    raw_query: str
    #: header names lower-cased, repeated headers already comma-joined
    headers: Mapping[str, str]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


@dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def message(
        cls, status: int, message: str, headers: list[tuple[str, str]] | None = None
    ) -> GatewayResponse:
        body = json.dumps({"message": message}).encode()
        return cls(status, [("content-type", "application/json"), *(headers or [])], body)


class MalformedResponseError(ValueError):
    """The function's answer is not a valid proxy response (API Gateway answers 500)."""


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith(_TEXT_TYPES) or media_type.endswith(_TEXT_SUFFIXES)


def query_parameters(raw_query: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def claims_for_event(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them to the integration: every value a string (a list as
    ``[a b]``, an object as compact JSON)."""
    result = {}
    for name, value in claims.items():
        if isinstance(value, bool):
            result[name] = "true" if value else "false"
        elif isinstance(value, list):
            result[name] = "[" + " ".join(str(item) for item in value) + "]"
        elif isinstance(value, dict):
            result[name] = json.dumps(value, separators=(",", ":"))
        else:
            result[name] = str(value)
    return result


def build_event(
    request: HttpRequest,
    *,
    route_key: str,
    stage: str,
    api_id: str,
    domain_name: str,
    request_id: str,
    account_id: str,
    path_parameters: Mapping[str, str] | None = None,
    stage_variables: Mapping[str, str] | None = None,
    now: float | None = None,
    jwt_claims: Mapping[str, str] | None = None,
    jwt_scopes: list[str] | None = None,
) -> dict[str, Any]:
    """The event API Gateway sends for ``request``, from plain values.

    ``jwt_claims`` are passed as given: API Gateway passes every claim as a string (a list as
    ``"[a b]"``), and the caller knows where its claims came from. None: no authorizer ran.
    """
    now = time.time() if now is None else now
    headers = {name: value for name, value in request.headers.items() if name != "cookie"}
    cookie_header = request.headers.get("cookie", "")
    cookies = [cookie.strip() for cookie in cookie_header.split(";") if cookie.strip()]
    request_context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": stage,
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if jwt_claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": dict(jwt_claims), "scopes": jwt_scopes}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    parameters = query_parameters(request.raw_query)
    if parameters:
        event["queryStringParameters"] = parameters
    event["requestContext"] = request_context
    if request.body:
        if is_text(request.headers.get("content-type")):
            event["body"] = request.body.decode("utf-8", errors="replace")
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if stage_variables:
        event["stageVariables"] = dict(stage_variables)
    return event


def map_response(result: Any) -> GatewayResponse:
    """Turns the function's return value into the HTTP response API Gateway would send."""
    if not (isinstance(result, dict) and "statusCode" in result):
        text = result if isinstance(result, str) else json.dumps(result)
        return GatewayResponse(200, [("content-type", "application/json")], text.encode())
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        raise MalformedResponseError(f"statusCode {result['statusCode']!r} is not a number") from None
    if not 100 <= status <= 599:
        raise MalformedResponseError(f"statusCode {status} is out of range")
    headers: list[tuple[str, str]] = []
    for name, value in _mapping(result, "headers").items():
        headers.append((str(name), _header_value(value)))
    for name, values in _mapping(result, "multiValueHeaders").items():
        if not isinstance(values, list):
            raise MalformedResponseError("multiValueHeaders values must be lists")
        headers.extend((str(name), _header_value(item)) for item in values)
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list):
        raise MalformedResponseError("cookies must be a list")
    headers.extend(("set-cookie", str(cookie)) for cookie in cookies)
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise MalformedResponseError("body must be a string")
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except binascii.Error:
            raise MalformedResponseError(
                "body is not valid base64 although isBase64Encoded is true"
            ) from None
    else:
        payload = body.encode("utf-8")
    return GatewayResponse(status, headers, payload)


def _mapping(result: dict[str, Any], key: str) -> dict[str, Any]:
    value = result.get(key) or {}
    if not isinstance(value, dict):
        raise MalformedResponseError(f"{key} must be an object")
    return value


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise MalformedResponseError("header values must be scalars")
    return str(value)
