"""HTTP proxy integrations through a VPC link (``HTTP_PROXY``, ``ConnectionType: VPC_LINK``, a
Cloud Map service as ``IntegrationUri``): the request goes on to one of the service's tasks after
the integration's parameter mapping, and the task's answer comes back as it is.

Parameter mapping follows "Transform API requests and responses for HTTP APIs": keys
``append|overwrite|remove:header.<name>``, ``append|overwrite|remove:querystring.<name>`` and
``overwrite:path``; values are text in which ``$request.header.<name>``,
``$request.querystring.<name>``, ``$request.path`` (without the stage), ``$request.path.<name>``,
``$context.<variable>`` (``requestId``, ``stage``, ``authorizer.claims.<claim>``...) and
``$stageVariables.<name>`` -- each also as ``${...}`` -- are replaced, all from the request as the
client sent it. A variable with no value maps to nothing: a header or query string parameter
whose value comes out empty is not sent. Without ``overwrite:path`` the task gets the path as sent,
stage prefix included, as API Gateway sends it to a private integration.

No task registered: 503 ``Service Unavailable``; a task that does not answer within the
integration's timeout: 504 ``Gateway Timeout``; a connection that fails: 502 ``Bad Gateway`` --
each with API Gateway's JSON ``message`` (local rule: these three statuses are what API Gateway
documents for the cases; its exact choice between them can differ).
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from localcloud.events_v2 import GatewayResponse, HttpRequest, query_parameters
from localcloud.routes import Integration, RouteMatch, Stage

__all__ = ["Target", "forward", "map_request"]

_VARIABLE = re.compile(
    r"\$\{(?P<braced>[^}]+)\}|\$(?P<bare>(?:request|context|stageVariables)[A-Za-z0-9_.:+-]*)"
)
#: not passed on by a proxy (RFC 9110, 7.6.1); the body's length is set again
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
#: of the task's answer, what API Gateway's own headers replace
_REPLACED = frozenset({"date", "server"})


@dataclass(frozen=True)
class Target:
    """A task registered in a Cloud Map service: where its container port is reachable."""

    host: str
    port: int
    #: for the console (``PetsService/1``)
    name: str


def map_request(
    request: HttpRequest,
    integration: Integration,
    stage: Stage,
    path_in_stage: str,
    match: RouteMatch,
    context: Mapping[str, str],
) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
    """The path, query string parameters and headers that the task receives.

    ``context`` holds the ``$context`` variables (``authorizer.claims.sub``, ``requestId``...)."""
    query = parse_qsl(request.raw_query, keep_blank_values=True)
    headers = {name.lower(): value for name, value in request.headers.items()}
    path = request.raw_path

    def value_of(name: str) -> str:
        source, _, key = name.partition(".")
        if source == "request":
            place, _, item = key.partition(".")
            if place == "path":
                return match.path_parameters.get(item.rstrip("+"), "") if item else path_in_stage
            if place == "header":
                return str(request.headers.get(item.lower(), ""))
            if place == "querystring":
                return query_parameters(request.raw_query).get(item, "")
            return ""
        if source == "context":
            return str(context.get(key, ""))
        if source == "stageVariables":
            return stage.variables.get(key, "")
        return ""

    for key, template in integration.request_parameters:
        action, _, target = key.partition(":")
        action = action.lower()
        value = (
            "" if template == "''" else _VARIABLE.sub(lambda m: value_of(m["braced"] or m["bare"]), template)
        )
        if target.lower() == "path":
            path = value if value.startswith("/") else "/" + value
            continue
        place, _, name = target.partition(".")
        if place.lower() == "header":
            name = name.lower()
            if action == "remove" or not value:
                headers.pop(name, None)
            elif action == "append" and name in headers:
                headers[name] = f"{headers[name]},{value}"
            else:
                headers[name] = value
        else:
            if action in ("remove", "overwrite") or not value:
                query = [(k, v) for k, v in query if k != name]
            if action != "remove" and value:
                query.append((name, value))
    return path, query, headers


def forward(
    target: Target | None,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    timeout_ms: int,
) -> tuple[GatewayResponse, str]:
    """Sends the mapped request to ``target``; the answer, and a note for the console."""
    if target is None:
        return GatewayResponse.message(503, "Service Unavailable"), "[no task is registered]"
    host, port = target.host, target.port
    url = quote(path, safe="/%:@!$&'()*+,;=-._~") + (f"?{urlencode(query)}" if query else "")
    sent = {name: value for name, value in headers.items() if name not in _HOP_BY_HOP}
    sent["host"] = f"{host}:{port}"
    connection = http.client.HTTPConnection(host, port, timeout=timeout_ms / 1000)
    try:
        connection.request(method, url, body=body or None, headers=sent)
        answer = connection.getresponse()
        payload = answer.read()
    except TimeoutError:
        return GatewayResponse.message(504, "Gateway Timeout"), f"{target.name} [timed out]"
    except (OSError, http.client.HTTPException) as error:
        return GatewayResponse.message(502, "Bad Gateway"), f"{target.name} [{error}]"
    finally:
        connection.close()
    kept: list[tuple[str, Any]] = [
        (name, value) for name, value in answer.getheaders() if name.lower() not in _HOP_BY_HOP | _REPLACED
    ]
    return GatewayResponse(answer.status, kept, payload), target.name
