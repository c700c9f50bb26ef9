"""The SAM resources the local cloud runs itself: functions, layers and HTTP APIs.

These are not created in moto: a function becomes a :class:`~localcloud.functions.FunctionSpec`
(run by worker processes), a layer a folder on the workers' ``sys.path``, an HTTP API an
:class:`~localcloud.routes.ApiSpec` (served by :mod:`localcloud.gateway`). Their ``Ref`` and
``GetAtt`` values are what CloudFormation would give, with deterministic names.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localcloud.authorizer import JwtAuthorizerSpec
from localcloud.cors import CorsSpec
from localcloud.functions import FunctionSpec
from localcloud.resource_types import DeployContext, Physical, ResourceType, UnsupportedResourceError
from localcloud.resources import EVENTBRIDGE_EVENT_TYPES, create_event_source_rules
from localcloud.routes import IMPLICIT_API, ApiSpec, Route, Stage
from localcloud.template import Resource

__all__ = ["SERVERLESS_RESOURCE_TYPES", "collect_routes", "implicit_api_needed"]


def api_id_for(stack_name: str, logical_id: str) -> str:
    """A stable 10-character API id, shaped like API Gateway's."""
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[byte % len(alphabet)] for byte in digest[:10])


class ServerlessFunction(ResourceType):
    types = ("AWS::Serverless::Function",)
    emulated = frozenset(
        {
            "Handler",
            "CodeUri",
            "Runtime",
            "MemorySize",
            "Timeout",
            "Environment",
            "Layers",
            "Events",
            "FunctionName",
            "ReservedConcurrentExecutions",
            "AutoPublishAlias",
        }
    )
    no_local_meaning = frozenset(
        {
            "Description",
            "Architectures",
            "Tracing",
            "AutoPublishAliasAllProperties",
            "AutoPublishCodeSha256",
            "DeploymentPreference",
            "Policies",
            "Role",
            "RolePath",
            "PermissionsBoundary",
            "AssumeRolePolicyDocument",
            "Tags",
            "PropagateTags",
            "ProvisionedConcurrencyConfig",
            "KmsKeyArn",
            "LoggingConfig",
            "VersionDescription",
            "CodeSigningConfigArn",
            "RuntimeManagementConfig",
            "SnapStart",
            "VpcConfig",
            "EphemeralStorage",
            "RecursiveLoop",
        }
    )

    def check_properties(self, resource: Resource, context: DeployContext) -> None:
        super().check_properties(resource, context)
        for name, event in (resource.properties.get("Events") or {}).items():
            if event.get("Type") not in {"HttpApi", *EVENTBRIDGE_EVENT_TYPES}:
                context.warn(
                    f"{resource.logical_id}: event {name} (Type {event.get('Type')}) is not emulated locally"
                )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = resource.properties
        name = str(
            context.resolve(props.get("FunctionName"), resource.logical_id)
            or context.default_name(resource, 64)
        )
        arn = context.arn("lambda", f"function:{name}")
        physical = Physical(ref=name, attributes={"Arn": arn})
        runtime = str(context.resolve(props.get("Runtime", ""), resource.logical_id))
        code_uri = props.get("CodeUri")
        if props.get("PackageType") == "Image" or "ImageUri" in props or "InlineCode" in props:
            context.warn(f"{resource.logical_id}: image and inline-code functions do not run locally")
            return physical
        if not runtime.startswith("python"):
            context.warn(f"{resource.logical_id}: runtime {runtime!r} does not run locally (Python only)")
            return physical
        if not isinstance(code_uri, str):
            context.warn(f"{resource.logical_id}: CodeUri must be a local folder to run locally")
            return physical
        code_dir = (context.template.base_dir / code_uri).resolve()
        if not code_dir.is_dir():
            context.warn(f"{resource.logical_id}: CodeUri {code_uri} is not a folder")
        variables = context.resolve(
            (props.get("Environment") or {}).get("Variables") or {}, resource.logical_id
        )
        reserved = props.get("ReservedConcurrentExecutions")
        context.functions[resource.logical_id] = FunctionSpec(
            logical_id=resource.logical_id,
            function_name=name,
            arn=arn,
            handler=str(context.resolve(props["Handler"], resource.logical_id)),
            runtime=runtime,
            code_dir=code_dir,
            layer_dirs=tuple(self._layer_dirs(resource, context)),
            memory_mb=int(context.resolve(props.get("MemorySize", 128), resource.logical_id)),
            timeout_seconds=float(context.resolve(props.get("Timeout", 3), resource.logical_id)),
            environment={str(k): _env_string(v) for k, v in variables.items()},
            alias=context.resolve(props.get("AutoPublishAlias"), resource.logical_id),
            reserved_concurrency=int(context.resolve(reserved, resource.logical_id)) if reserved else None,
        )
        _register_with_lambda_service(context, context.functions[resource.logical_id])
        create_event_source_rules(resource, context, arn)
        return physical

    @staticmethod
    def _layer_dirs(resource: Resource, context: DeployContext) -> list[Path]:
        directories = []
        for layer in resource.properties.get("Layers") or []:
            logical_id = layer.get("Ref") if isinstance(layer, dict) else None
            if isinstance(logical_id, str) and logical_id in context.layers:
                directories.append(context.layers[logical_id])
            else:
                context.warn(f"{resource.logical_id}: layer {layer!r} is not a local layer of this template")
        return directories


_PLACEHOLDER_ROLE = "localcloud-lambda"


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "The local cloud runs this function from its CodeUri folder.\n")
    return buffer.getvalue()


def _register_with_lambda_service(context: DeployContext, spec: FunctionSpec) -> None:
    """Creates the function in the backend's Lambda service (with placeholder code), and its
    ``AutoPublishAlias`` alias on a published version, as SAM does.

    Then ``lambda.invoke`` from a handler, Step Functions Task states and EventBridge targets
    find it, by its ARN or its alias ARN (``!Ref Function.Alias``); the backend routes those
    invocations to the local workers (see ``moto_internals.install_local_integrations``).
    """
    service = context.client("lambda")
    try:
        service.get_function(FunctionName=spec.function_name)
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        _create_function(context, service, spec)
    if spec.alias:
        try:
            service.get_alias(FunctionName=spec.function_name, Name=spec.alias)
        except ClientError as error:
            if _code(error) != "ResourceNotFoundException":
                raise
            version = service.publish_version(FunctionName=spec.function_name)["Version"]
            try:
                service.create_alias(
                    FunctionName=spec.function_name, Name=spec.alias, FunctionVersion=version
                )
            except ClientError as race:
                if _code(race) != "ResourceConflictException":
                    raise


def _create_function(context: DeployContext, service: Any, spec: FunctionSpec) -> None:
    iam = context.client("iam")
    role = context.arn("iam", f"role/{_PLACEHOLDER_ROLE}", region="")
    try:
        iam.get_role(RoleName=_PLACEHOLDER_ROLE)
    except ClientError:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        try:
            iam.create_role(RoleName=_PLACEHOLDER_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
        except ClientError as race:  # a parallel deployment (another invoke) created it just now
            if _code(race) != "EntityAlreadyExists":
                raise
    try:
        service.create_function(
            FunctionName=spec.function_name,
            Runtime=spec.runtime,
            Role=role,
            Handler=spec.handler,
            Code={"ZipFile": _placeholder_zip()},
            Timeout=max(1, int(spec.timeout_seconds)),
            MemorySize=spec.memory_mb,
            Environment={"Variables": spec.environment},
        )
    except ClientError as race:
        if _code(race) != "ResourceConflictException":
            raise


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _env_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class ServerlessLayer(ResourceType):
    types = ("AWS::Serverless::LayerVersion",)
    emulated = frozenset({"ContentUri", "LayerName"})
    no_local_meaning = frozenset(
        {"Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo", "RetentionPolicy"}
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("LayerName") or context.default_name(resource, 140))
        content = props.get("ContentUri")
        if not isinstance(content, str):
            raise UnsupportedResourceError(f"{resource.logical_id}: ContentUri must be a local folder")
        context.layers[resource.logical_id] = (context.template.base_dir / content).resolve()
        arn = context.arn("lambda", f"layer:{name}:1")
        return Physical(ref=arn, attributes={"Arn": arn})


class ServerlessHttpApi(ResourceType):
    types = ("AWS::Serverless::HttpApi",)
    emulated = frozenset({"StageName", "StageVariables", "Auth", "CorsConfiguration", "Name"})
    no_local_meaning = frozenset(
        {
            "Description",
            "DefaultRouteSettings",
            "RouteSettings",
            "AccessLogSettings",
            "Tags",
            "PropagateTags",
            "FailOnWarnings",
            "DisableExecuteApiEndpoint",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        api = build_api(resource.logical_id, resource.properties, context)
        context.apis[resource.logical_id] = api
        endpoint = f"https://{api.api_id}.execute-api.{context.region}.amazonaws.com"
        return Physical(ref=api.api_id, attributes={"ApiId": api.api_id, "ApiEndpoint": endpoint})


def build_api(logical_id: str, properties: dict[str, Any], context: DeployContext) -> ApiSpec:
    props = context.resolve(properties, logical_id)
    auth = props.get("Auth") or {}
    stage = Stage(
        name=str(props.get("StageName") or "$default"),
        variables={str(k): str(v) for k, v in (props.get("StageVariables") or {}).items()},
    )
    api = ApiSpec(
        logical_id=logical_id,
        api_id=api_id_for(context.stack_name, logical_id),
        stages=[stage],
        cors=CorsSpec.from_template(props.get("CorsConfiguration")),
        default_authorizer=auth.get("DefaultAuthorizer"),
    )
    for name, authorizer in (auth.get("Authorizers") or {}).items():
        jwt_configuration = authorizer.get("JwtConfiguration")
        if jwt_configuration is None:
            kind = "Lambda" if "FunctionArn" in authorizer else "non-JWT"
            api.unsupported_authorizers[name] = f"{kind} authorizers are not emulated locally"
            context.warn(f"{logical_id}: authorizer {name} ({kind}) is not emulated; its routes answer 401")
            continue
        audience = jwt_configuration.get("audience") or []
        api.authorizers[name] = JwtAuthorizerSpec(
            name=name,
            issuer=str(jwt_configuration.get("issuer", "")),
            audience=tuple(str(item) for item in (audience if isinstance(audience, list) else [audience])),
            identity_source=str(authorizer.get("IdentitySource", "$request.header.Authorization")),
            scopes=tuple(str(scope) for scope in authorizer.get("AuthorizationScopes") or []),
        )
    if api.default_authorizer and api.default_authorizer not in api.authorizers | api.unsupported_authorizers:
        raise UnsupportedResourceError(
            f"{logical_id}: DefaultAuthorizer {api.default_authorizer} is not defined"
        )
    if "DefinitionBody" in properties or "DefinitionUri" in properties:
        context.warn(
            f"{logical_id}: OpenAPI definitions are not read locally; routes come from function events"
        )
    if "Domain" in properties:
        context.warn(f"{logical_id}: custom domains are not emulated locally")
    return api


class HttpApiStage(ResourceType):
    """``AWS::ApiGatewayV2::Stage`` of one of the template's HttpApis: another URL prefix, same routes."""

    types = ("AWS::ApiGatewayV2::Stage",)
    emulated = frozenset({"ApiId", "StageName", "StageVariables"})
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
        api = next((api for api in context.apis.values() if api.api_id == props.get("ApiId")), None)
        if api is None:
            raise UnsupportedResourceError(f"ApiId {props.get('ApiId')!r} is not an HttpApi of this template")
        name = str(props["StageName"])
        if any(stage.name == name for stage in api.stages):
            raise UnsupportedResourceError(f"stage {name} is defined twice on {api.logical_id}")
        variables = {str(k): str(v) for k, v in (props.get("StageVariables") or {}).items()}
        api.stages.append(Stage(name=name, variables=variables))
        return Physical(ref=name)


def implicit_api_needed(resources: list[Resource]) -> bool:
    return any(
        event.get("Type") == "HttpApi" and "ApiId" not in (event.get("Properties") or {})
        for resource in resources
        if resource.type == "AWS::Serverless::Function"
        for event in (resource.properties.get("Events") or {}).values()
    )


def collect_routes(functions: list[Resource], context: DeployContext) -> None:
    """Adds every function's ``HttpApi`` events to the routes of their API."""
    for resource in functions:
        if resource.logical_id not in context.functions:
            continue  # reported already: it cannot run locally
        for event_name, event in (resource.properties.get("Events") or {}).items():
            if event.get("Type") != "HttpApi":
                continue
            where = f"{resource.logical_id}.Events.{event_name}"
            props = event.get("Properties") or {}
            api_reference = props.get("ApiId")
            if api_reference is None:
                api_logical_id = IMPLICIT_API
            elif isinstance(api_reference, dict) and isinstance(api_reference.get("Ref"), str):
                api_logical_id = api_reference["Ref"]
            else:
                resolved = context.resolve(api_reference, where)
                api_logical_id = next(
                    (a.logical_id for a in context.apis.values() if a.api_id == resolved), ""
                )
            api = context.apis.get(api_logical_id)
            if api is None:
                context.warn(f"{where}: ApiId {api_reference!r} is not an HttpApi of this template")
                continue
            props = context.resolve(props, where)
            auth = props.get("Auth") or {}
            authorizer = auth.get("Authorizer", api.default_authorizer)
            if authorizer == "NONE":
                authorizer = None
            if authorizer is not None and authorizer not in api.authorizers | api.unsupported_authorizers:
                context.warn(
                    f"{where}: authorizer {authorizer} is not defined on {api_logical_id}; the route answers 401"
                )
            scopes = auth.get("AuthorizationScopes")
            if scopes is None and authorizer in api.authorizers:
                scopes = list(api.authorizers[authorizer].scopes)
            if "Path" in props and "Method" in props:
                method = str(props["Method"]).upper()
                method = "ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method
                path = str(props["Path"])
                route_key = f"{method} {path}"
            else:
                method, path, route_key = "ANY", "", "$default"
            version = str(props.get("PayloadFormatVersion", "2.0"))
            if version != "2.0":
                context.warn(f"{where}: payload format {version} is not emulated locally (2.0 only)")
                continue
            if any(route.route_key == route_key for route in api.routes):
                context.warn(f"{where}: route {route_key} is defined twice on {api_logical_id}")
            api.routes.append(
                Route(
                    route_key=route_key,
                    method=method,
                    path=path,
                    function=resource.logical_id,
                    event_name=event_name,
                    authorizer=authorizer,
                    scopes=tuple(scopes or ()),
                    timeout_ms=int(props.get("TimeoutInMillis", 30_000)),
                )
            )


SERVERLESS_RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ServerlessFunction(),
    ServerlessLayer(),
    ServerlessHttpApi(),
    HttpApiStage(),
)
