"""HTTP APIs (API Gateway v2) as CloudFormation deploys them: ``AWS::ApiGatewayV2::Api``, ``Stage``,
``Route``, ``Integration`` and ``Authorizer``.

The SAM transform writes an ``AWS::Serverless::HttpApi`` as an ``AWS::ApiGatewayV2::Api`` whose
``Body`` is an OpenAPI document: every function's ``HttpApi`` event is a path and method with an
``x-amazon-apigateway-integration``, the JWT authorizer an ``x-amazon-apigateway-authorizer``
security scheme, each route's auth its ``security`` requirement (with scopes), and CORS
``x-amazon-apigateway-cors``; its stage is a separate ``AWS::ApiGatewayV2::Stage``. API Gateway
imports that document; so does this module, by the same rules ("Working with OpenAPI definitions
for HTTP APIs"), which is why an HttpApi written with its own ``DefinitionBody`` runs too:

* each path and method (``x-amazon-apigateway-any-method`` is ANY; the ``/$default`` path is the
  ``$default`` route; SAM writes it ``$default``) with a Lambda proxy integration (``type: aws_proxy``, ``uri`` the
  function's, version's or alias's ARN, or its ``.../functions/<arn>/invocations`` form) and
  ``payloadFormatVersion`` 2.0 is a route. Other integrations, and payload format 1.0, are reported
  and left out;
* ``security``: the operation's, else the document's; a scheme with a ``jwt`` authorizer guards the
  route with the listed scopes; a scheme that is not an authorizer of the API (SAM writes ``NONE``
  for ``Authorizer: NONE``) leaves the route public, as API Gateway does;
* ``x-amazon-apigateway-cors``, unless the resource's own ``CorsConfiguration`` replaces it.

``Ref`` of an API is its id (a stable 10-character id made from the stack and logical id),
``ApiEndpoint`` its ``https://<id>.execute-api.<region>.amazonaws.com``: the edge maps that domain
to the local API server.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from localcloud.authorizer import JwtAuthorizerSpec
from localcloud.cors import CorsSpec
from localcloud.resource_types import DeployContext, Physical, ResourceType, UnsupportedResourceError
from localcloud.routes import ApiSpec, Integration, Route, Stage
from localcloud.template import Resource, load_yaml

__all__ = [
    "HttpApi",
    "HttpApiAuthorizer",
    "HttpApiIntegration",
    "HttpApiRoute",
    "HttpApiStage",
    "api_id_for",
    "import_openapi",
]

_METHODS = {
    "get": "GET",
    "put": "PUT",
    "post": "POST",
    "delete": "DELETE",
    "patch": "PATCH",
    "head": "HEAD",
    "options": "OPTIONS",
    "x-amazon-apigateway-any-method": "ANY",
}
_INVOCATION_URI = re.compile(r"/functions/(?P<arn>arn:[^/]+)/invocations$")


def api_id_for(stack_name: str, logical_id: str) -> str:
    """A stable 10-character id, shaped like API Gateway's."""
    return _short_id(f"{stack_name}/{logical_id}", 10)


def _short_id(text: str, length: int) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[byte % len(alphabet)] for byte in digest[:length])


def _api(context: DeployContext, api_id: Any, where: str) -> ApiSpec:
    api = next((api for api in context.deployed.apis.values() if api.api_id == api_id), None)
    if api is None:
        raise UnsupportedResourceError(f"{where}: ApiId {api_id!r} is not an HTTP API of this template")
    return api


class HttpApi(ResourceType):
    types = ("AWS::ApiGatewayV2::Api",)
    emulated = frozenset(
        {"Body", "BodyS3Location", "Name", "ProtocolType", "CorsConfiguration", "Target", "RouteKey"}
    )
    no_local_meaning = frozenset(
        {
            "Description",
            "Tags",
            "FailOnWarnings",
            "DisableExecuteApiEndpoint",
            "DisableSchemaValidation",
            "Version",
            "ApiKeySelectionExpression",
            "RouteSelectionExpression",
            "BasePath",
            "CredentialsArn",
            "IpAddressType",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        where = resource.logical_id
        props = context.resolve(resource.properties, where)
        if str(props.get("ProtocolType", "HTTP")).upper() == "WEBSOCKET":
            raise UnsupportedResourceError(f"{where}: WebSocket APIs are not emulated locally")
        api = ApiSpec(logical_id=where, api_id=api_id_for(context.stack_name, where))
        context.deployed.apis[where] = api
        body = props.get("Body")
        if body is None and "BodyS3Location" in props:
            path = context.template.local_path(props["BodyS3Location"])
            if path is None:
                raise UnsupportedResourceError(f"{where}: an OpenAPI definition in S3 is not read locally")
            body = load_yaml(path)  # imported as written: nothing in the file is resolved
        if body is not None:
            import_openapi(api, body, context, where)
        if "CorsConfiguration" in props:
            api.cors = CorsSpec.from_configuration(props["CorsConfiguration"])
        if "Target" in props:  # quick create: one route to a function and a $default stage
            integration = _lambda_integration(props["Target"], "2.0", 30_000, context, where)
            route_key = str(props.get("RouteKey", "$default"))
            api.routes.append(_route(route_key, integration, None, ()))
            api.stages.append(Stage("$default"))
        endpoint = f"https://{api.api_id}.execute-api.{context.region}.amazonaws.com"
        return Physical(ref=api.api_id, attributes={"ApiId": api.api_id, "ApiEndpoint": endpoint})


def import_openapi(api: ApiSpec, body: Any, context: DeployContext, where: str) -> None:
    """Routes, authorizers and CORS from an OpenAPI document, as API Gateway imports one."""
    if not isinstance(body, dict) or not isinstance(body.get("paths", {}), dict):
        raise UnsupportedResourceError(f"{where}: Body is not an OpenAPI document")
    schemes = (body.get("components") or {}).get("securitySchemes") or {}
    for name, scheme in schemes.items():
        extension = (scheme or {}).get("x-amazon-apigateway-authorizer")
        if extension is None:
            continue
        if str(extension.get("type", "")).lower() != "jwt":
            context.warn(
                f"{where}: authorizer {name} ({extension.get('type')}) is not emulated; its routes answer 401"
            )
            api.unsupported_authorizers[name] = "only JWT authorizers are emulated locally"
            continue
        jwt_configuration = extension.get("jwtConfiguration") or {}
        api.authorizers[name] = _jwt_authorizer(
            name,
            jwt_configuration.get("issuer"),
            jwt_configuration.get("audience"),
            extension.get("identitySource"),
        )
    default_security = body.get("security")
    for path, item in (body.get("paths") or {}).items():
        for key, operation in (item or {}).items():
            method = _METHODS.get(str(key).lower())
            if method is None:  # "parameters", "summary", ...
                continue
            place = f"{where}: {method} {path}"
            extension = (operation or {}).get("x-amazon-apigateway-integration")
            if extension is None:
                context.warn(f"{place} has no x-amazon-apigateway-integration; it is not routed locally")
                continue
            authorizer: str | None = None
            scopes: tuple[str, ...] = ()
            for requirement in operation.get("security", default_security) or []:
                for scheme_name, scheme_scopes in (requirement or {}).items():
                    if scheme_name in api.authorizers or scheme_name in api.unsupported_authorizers:
                        authorizer, scopes = scheme_name, tuple(str(s) for s in scheme_scopes or ())
                    elif scheme_name != "NONE":
                        context.warn(
                            f"{place}: security scheme {scheme_name} is not an authorizer; the route is public"
                        )
            integration = _integration_of(extension, context, place)
            # SAM writes "$default" (API Gateway imports it with a warning), an export "/$default"
            route_key = "$default" if path in ("$default", "/$default") else f"{method} {path}"
            api.routes.append(_route(route_key, integration, authorizer, scopes))
    api.cors = CorsSpec.from_configuration(body.get("x-amazon-apigateway-cors"))


def _route(
    route_key: str, integration: Integration | None, authorizer: str | None, scopes: tuple[str, ...]
) -> Route:
    method, _, path = route_key.partition(" ")
    if route_key == "$default":
        method, path = "ANY", ""
    return Route(
        route_key=route_key,
        method="ANY" if method.upper() == "ANY" else method.upper(),
        path=path,
        integration=integration,
        authorizer=authorizer,
        scopes=scopes,
    )


def _jwt_authorizer(name: str, issuer: Any, audience: Any, identity_source: Any) -> JwtAuthorizerSpec:
    sources = identity_source if isinstance(identity_source, list) else [identity_source]
    audiences = audience if isinstance(audience, list) else [audience] if audience else []
    return JwtAuthorizerSpec(
        name=name,
        issuer=str(issuer or ""),
        audience=tuple(str(item) for item in audiences),
        identity_source=str(sources[0] or "$request.header.Authorization"),
    )


def _integration_of(extension: dict[str, Any], context: DeployContext, place: str) -> Integration | None:
    kind = str(extension.get("type", "")).lower()
    if kind != "aws_proxy":
        context.warn(f"{place}: {kind or 'this'} integration is not emulated locally; the route answers 500")
        return None
    return _lambda_integration(
        extension.get("uri"),
        str(extension.get("payloadFormatVersion", "1.0")),
        int(extension.get("timeoutInMillis", 30_000)),
        context,
        place,
    )


def _lambda_integration(
    uri: Any, payload_format_version: str, timeout_ms: int, context: DeployContext, place: str
) -> Integration | None:
    """A Lambda proxy integration to a function of the template; None (reported) otherwise."""
    match = _INVOCATION_URI.search(str(uri))
    arn = match.group("arn") if match else str(uri)
    function = context.function_for_arn(arn)
    if function is None:
        context.warn(
            f"{place}: {arn} is not a function of this template that runs locally; the route answers 500"
        )
        return None
    if payload_format_version != "2.0":
        context.warn(
            f"{place}: payload format {payload_format_version} is not emulated locally (2.0 only); the route answers 500"
        )
        return None
    return Integration(function=function, invoked_arn=arn, timeout_ms=timeout_ms)


class HttpApiStage(ResourceType):
    """A stage: the URL prefix (``/<name>``; none for ``$default``) and its stage variables."""

    types = ("AWS::ApiGatewayV2::Stage",)
    emulated = frozenset({"ApiId", "StageName", "StageVariables"})
    # Throttling (DefaultRouteSettings, RouteSettings) and access logs are not emulated: docs/local-cloud.md.
    no_local_meaning = frozenset(
        {
            "AutoDeploy",
            "DeploymentId",
            "Description",
            "DefaultRouteSettings",
            "RouteSettings",
            "AccessLogSettings",
            "AccessPolicyId",
            "ClientCertificateId",
            "Tags",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        api = _api(context, props.get("ApiId"), resource.logical_id)
        name = str(props["StageName"])
        if any(stage.name == name for stage in api.stages):
            raise UnsupportedResourceError(f"stage {name} is defined twice on {api.logical_id}")
        variables = {str(k): str(v) for k, v in (props.get("StageVariables") or {}).items()}
        api.stages.append(Stage(name=name, variables=variables))
        return Physical(ref=name)


class HttpApiIntegration(ResourceType):
    """An integration of an API, for ``AWS::ApiGatewayV2::Route`` targets: a Lambda proxy
    integration, or an HTTP proxy through a VPC link to a Cloud Map service (the ECS services of
    ``StoreCompute=fargate``), with its request parameter mapping."""

    types = ("AWS::ApiGatewayV2::Integration",)
    emulated = frozenset(
        {
            "ApiId",
            "IntegrationType",
            "IntegrationUri",
            "PayloadFormatVersion",
            "TimeoutInMillis",
            "ConnectionType",
            "RequestParameters",
        }
    )
    # The VPC link (ConnectionId) is a name locally: every task listens on 127.0.0.1.
    no_local_meaning = frozenset({"Description", "CredentialsArn", "IntegrationMethod", "ConnectionId"})

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        where = resource.logical_id
        props = context.resolve(resource.properties, where)
        api = _api(context, props.get("ApiId"), where)
        integration_id = _short_id(f"{api.api_id}/{where}", 7)
        if str(props.get("IntegrationType", "")).upper() == "HTTP_PROXY":
            api.integrations[integration_id] = _vpc_link_integration(props, context, where)
        else:
            api.integrations[integration_id] = _integration_of(
                {
                    "type": props.get("IntegrationType"),
                    "uri": props.get("IntegrationUri"),
                    "payloadFormatVersion": props.get("PayloadFormatVersion", "1.0"),
                    "timeoutInMillis": props.get("TimeoutInMillis", 30_000),
                },
                context,
                where,
            )
        return Physical(ref=integration_id)


_MAPPING_KEY = re.compile(
    r"^(?:(?:append|overwrite|remove):(?:header|querystring)\.[^.\s]+|overwrite:path)$", re.I
)


_CONTEXT_VARIABLE = re.compile(r"\$\{?context\.([^\s}$'\"]+)")
_CONTEXT_NAME = re.compile(r"[A-Za-z0-9_.]+")
#: headers a parameter mapping may not change ("Reserved headers"; also every access-control-*,
#: apigw-*, x-amz-* and x-amzn-* header)
_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "connection",
        "content-encoding",
        "content-length",
        "content-location",
        "forwarded",
        "keep-alive",
        "origin",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "via",
    }
)


def _vpc_link_integration(props: dict[str, Any], context: DeployContext, where: str) -> Integration | None:
    """An HTTP proxy to a Cloud Map service; None (reported: the route answers 500) otherwise."""
    if str(props.get("ConnectionType", "INTERNET")).upper() != "VPC_LINK":
        context.warn(f"{where}: an HTTP proxy to the internet is not emulated locally; the route answers 500")
        return None
    uri = str(props.get("IntegrationUri", ""))
    if ":servicediscovery:" not in uri:
        context.warn(
            f"{where}: only a Cloud Map service behind a VPC link runs locally ({uri!r} does not); the route answers 500"
        )
        return None
    if str(props.get("PayloadFormatVersion", "1.0")) != "1.0":
        raise UnsupportedResourceError(
            "HTTP proxy integrations take payload format 1.0 (API Gateway refuses others)"
        )
    parameters = {str(key): str(value) for key, value in (props.get("RequestParameters") or {}).items()}
    for key, value in parameters.items():
        if not _MAPPING_KEY.match(key):
            raise UnsupportedResourceError(f"request parameter {key!r} is not a valid parameter mapping key")
        header = key.partition("header.")[2].lower()
        if header and (
            header in _RESERVED_HEADERS
            or header.startswith(("access-control-", "apigw-", "x-amz-", "x-amzn-"))
        ):
            raise UnsupportedResourceError(f"request parameter {key!r}: {header} is a reserved header")
        for name in _CONTEXT_VARIABLE.findall(value):
            if not _CONTEXT_NAME.fullmatch(name):  # as API Gateway refuses it: "Invalid mapping expression"
                raise UnsupportedResourceError(
                    f"request parameter {key!r}: $context.{name} is an invalid mapping expression "
                    "(a context variable's name has letters, digits, '.' and '_' only)"
                )
    timeout_ms = int(props.get("TimeoutInMillis", 30_000))
    return Integration(invoked_arn=uri, timeout_ms=timeout_ms, request_parameters=tuple(parameters.items()))


class HttpApiAuthorizer(ResourceType):
    types = ("AWS::ApiGatewayV2::Authorizer",)
    emulated = frozenset({"ApiId", "AuthorizerType", "IdentitySource", "JwtConfiguration", "Name"})
    no_local_meaning = frozenset()

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        api = _api(context, props.get("ApiId"), resource.logical_id)
        authorizer_id = _short_id(f"{api.api_id}/{resource.logical_id}", 6)
        if str(props.get("AuthorizerType", "")).upper() != "JWT":
            context.warn(
                f"{resource.logical_id}: {props.get('AuthorizerType')} authorizers are not emulated; its routes answer 401"
            )
            api.unsupported_authorizers[authorizer_id] = "only JWT authorizers are emulated locally"
        else:
            jwt_configuration = props.get("JwtConfiguration") or {}
            api.authorizers[authorizer_id] = _jwt_authorizer(
                str(props.get("Name") or authorizer_id),
                jwt_configuration.get("Issuer"),
                jwt_configuration.get("Audience"),
                props.get("IdentitySource"),
            )
        return Physical(ref=authorizer_id, attributes={"AuthorizerId": authorizer_id})


class HttpApiRoute(ResourceType):
    types = ("AWS::ApiGatewayV2::Route",)
    emulated = frozenset(
        {"ApiId", "RouteKey", "Target", "AuthorizationType", "AuthorizerId", "AuthorizationScopes"}
    )
    no_local_meaning = frozenset(
        {"OperationName", "ApiKeyRequired", "ModelSelectionExpression", "RequestModels"}
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        where = resource.logical_id
        props = context.resolve(resource.properties, where)
        api = _api(context, props.get("ApiId"), where)
        target = str(props.get("Target", ""))
        integration = api.integrations.get(target.removeprefix("integrations/"))
        if integration is None:
            context.warn(
                f"{where}: target {target!r} is not an integration that runs locally; the route answers 500"
            )
        authorization = str(props.get("AuthorizationType", "NONE")).upper()
        authorizer = None
        if authorization == "JWT":
            authorizer = str(props.get("AuthorizerId"))
        elif authorization != "NONE":
            context.warn(f"{where}: {authorization} authorization is not emulated; the route answers 401")
            authorizer = f"{authorization} (not emulated)"
            api.unsupported_authorizers[authorizer] = f"{authorization} authorization is not emulated locally"
        scopes = tuple(str(scope) for scope in props.get("AuthorizationScopes") or ())
        api.routes.append(_route(str(props["RouteKey"]), integration, authorizer, scopes))
        route_id = _short_id(f"{api.api_id}/{where}", 7)
        return Physical(ref=route_id)


APIGATEWAYV2_RESOURCE_TYPES: tuple[ResourceType, ...] = (
    HttpApi(),
    HttpApiStage(),
    HttpApiIntegration(),
    HttpApiAuthorizer(),
    HttpApiRoute(),
)
