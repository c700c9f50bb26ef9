"""HTTP API routes, and API Gateway's route selection.

Routes come from what CloudFormation deploys (:mod:`localcloud.resources.apigatewayv2`): an
``AWS::ApiGatewayV2::Api``'s OpenAPI ``Body`` (how the SAM transform writes an HttpApi, with each
function's ``HttpApi`` events as paths) and ``AWS::ApiGatewayV2::Route`` resources. Selection follows "Working with routes for HTTP APIs": the most specific match wins --
a full match for path and method, then a match with a greedy ``{proxy+}`` variable, then
``$default``; a method-specific route beats ``ANY``; a literal segment beats a ``{variable}``.
No match (including a known path with another method) is a 404, as API Gateway answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from localcloud.authorizer import JwtAuthorizerSpec
from localcloud.cors import CorsSpec

__all__ = ["ApiSpec", "Integration", "Route", "RouteMatch", "RouteTable", "Stage"]

DEFAULT_ROUTE = "$default"
_VARIABLE = re.compile(r"^\{([A-Za-z0-9._-]+)(\+?)\}$")


@dataclass(frozen=True)
class Integration:
    """Where a route sends its requests: a Lambda function (proxy, payload format 2.0), or a
    Cloud Map service behind a VPC link (``HTTP_PROXY``: the request itself, after its parameter
    mapping, goes to one of the service's tasks)."""

    #: logical id of the template's function; "" for an HTTP proxy integration
    function: str = ""
    #: the ARN the integration names (the function's, a version's or alias's, or the Cloud Map service's)
    invoked_arn: str = ""
    timeout_ms: int = 30_000
    #: HTTP proxy only: the integration's ``RequestParameters`` (``overwrite:header.x`` -> value), in order
    request_parameters: tuple[tuple[str, str], ...] = ()

    @property
    def is_http_proxy(self) -> bool:
        return not self.function


@dataclass(frozen=True)
class Route:
    route_key: str
    method: str
    path: str
    #: None when the integration cannot run locally (reported at start): API Gateway's 500
    integration: Integration | None
    #: name of the authorizer that guards the route, None for a public route
    authorizer: str | None = None
    scopes: tuple[str, ...] = ()

    @property
    def function(self) -> str | None:
        return self.integration.function or None if self.integration else None


@dataclass(frozen=True)
class Stage:
    """A stage of an HTTP API: the HttpApi's own ``StageName`` or an ``AWS::ApiGatewayV2::Stage``."""

    name: str
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        """Named stages are part of the URL path (and of ``rawPath``); ``$default`` is not."""
        return "" if self.name == "$default" else "/" + self.name


@dataclass
class ApiSpec:
    """One ``AWS::ApiGatewayV2::Api`` (an HTTP API) with its stages and routes."""

    logical_id: str
    api_id: str
    #: its ``AWS::ApiGatewayV2::Stage`` resources, in deployment order
    stages: list[Stage] = field(default_factory=list)
    cors: CorsSpec | None = None
    #: JWT authorizers by name (OpenAPI security scheme, or ``AWS::ApiGatewayV2::Authorizer`` id)
    authorizers: dict[str, JwtAuthorizerSpec] = field(default_factory=dict)
    #: authorizers the local cloud cannot run (name -> why); their routes answer 401
    unsupported_authorizers: dict[str, str] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    #: ``AWS::ApiGatewayV2::Integration`` resources by id (None: cannot run locally), for routes
    integrations: dict[str, Integration | None] = field(default_factory=dict)

    def stage_for(self, path: str) -> tuple[Stage, str] | None:
        """The stage a request path goes to, and the path within the stage.

        As on API Gateway, ``/v1/...`` goes to a stage named ``v1`` when there is one, any other
        path to the ``$default`` stage if the API has one.
        """
        default = None
        for stage in self.stages:
            if stage.name == "$default":
                default = stage
            elif path == stage.prefix or path.startswith(stage.prefix + "/"):
                return stage, path[len(stage.prefix) :] or "/"
        return (default, path) if default is not None else None


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    segments: tuple[str, ...]
    greedy: bool
    sort_key: tuple[object, ...]


class RouteTable:
    """The routes of one API, ordered by API Gateway's precedence."""

    def __init__(self, routes: list[Route]) -> None:
        compiled = []
        self._default: Route | None = None
        for route in routes:
            if route.route_key == DEFAULT_ROUTE:
                self._default = route
                continue
            segments = tuple(part for part in route.path.split("/") if part)
            greedy = bool(segments) and (_VARIABLE.match(segments[-1]) or [None, None, ""])[2] == "+"
            literals = tuple(0 if _VARIABLE.match(segment) is None else 1 for segment in segments)
            compiled.append(
                _CompiledRoute(
                    route=route,
                    segments=segments,
                    greedy=greedy,
                    # greedy last; then literal-before-variable, left to right; longer literal
                    # prefixes first for greedy routes; a specific method before ANY
                    sort_key=(greedy, literals if not greedy else (-len(segments),), route.method == "ANY"),
                )
            )
        self._routes = sorted(compiled, key=lambda c: c.sort_key)

    def match(self, method: str, path: str) -> RouteMatch | None:
        parts = [part for part in path.split("/") if part] if path != "/" else []
        for candidate in self._routes:
            if candidate.route.method not in (method, "ANY"):
                continue
            parameters = _match_segments(candidate.segments, candidate.greedy, parts)
            if parameters is not None:
                return RouteMatch(candidate.route, parameters)
        if self._default is not None:
            return RouteMatch(self._default, {})
        return None

    def routes(self) -> list[Route]:
        """All routes, in the order they are tried."""
        return [c.route for c in self._routes] + ([self._default] if self._default else [])


def _match_segments(segments: tuple[str, ...], greedy: bool, parts: list[str]) -> dict[str, str] | None:
    if greedy:
        if len(parts) < len(segments):
            return None
    elif len(parts) != len(segments):
        return None
    parameters: dict[str, str] = {}
    for index, segment in enumerate(segments):
        variable = _VARIABLE.match(segment)
        if variable is None:
            if unquote(parts[index]) != segment:
                return None
            continue
        name, plus = variable.group(1), variable.group(2)
        if plus:
            parameters[name] = unquote("/".join(parts[index:]))
            return parameters
        parameters[name] = unquote(parts[index])
    return parameters
