"""What AWS deploys has every API feature the app relies on: read in the SAM transform's output.

The SAM transform (aws-sam-translator, run by CloudFormation on ``sam deploy``) turns StoreApi into
an ``AWS::ApiGatewayV2::Api`` whose OpenAPI ``Body`` holds the routes, their integrations, auth
and CORS, and its stages into ``AWS::ApiGatewayV2::Stage``. These tests read that output itself,
not the local cloud's reading of it, so a SAM property that the transform drops or mangles fails
here whatever the local cloud does. Fast: one transform, no server.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from localcloud.intrinsics import Resolver
from localcloud.template import Template, load_template
from tests.support import RESOURCES, TEMPLATE, TEMPLATE_PATH

API = "StoreApi"
WRITE_SCOPE = "aws.cognito.signin.user.admin"
BROWSER_HEADERS = {"authorization", "content-type", "if-match", "if-none-match", "idempotency-key"}


@cache
def transformed(**overrides: str) -> Template:
    return load_template(TEMPLATE_PATH, overrides)


def resources() -> dict[str, Any]:
    return dict(transformed().document["Resources"])


def body() -> dict[str, Any]:
    api = resources()[API]
    assert api["Type"] == "AWS::ApiGatewayV2::Api"
    return dict(api["Properties"]["Body"])


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path) -> OpenAPI operation, as the transform wrote them, with its conditions
    evaluated (the pets and foods functions' paths are ``Fn::If OnLambda``: StoreCompute=lambda,
    the default) and each resource named as ``${LogicalId}``."""
    template = transformed()
    resolver = Resolver(
        parameters=template.parameters,
        pseudo_parameters=template.pseudo,
        conditions=template.conditions,
        mappings=template.mappings,
        resource_ref=lambda name: "${" + name + "}",
        resource_attribute=lambda name, attribute: "${" + f"{name}.{attribute}" + "}",
    )
    paths = resolver.resolve(body()["paths"], "paths")
    return {
        (method.upper(), path): operation
        for path, item in paths.items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "x-amazon-apigateway-integration" in operation
    }


def declared_events() -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(METHOD, path) -> (function, event properties) from template.yaml's HttpApi events."""
    events = {}
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] == "HttpApi":
                properties = event["Properties"]
                assert properties["ApiId"] == {"Ref": API}, logical_id
                events[(properties["Method"].upper(), properties["Path"])] = (logical_id, properties)
    return events


def stages() -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["StageName"]: resource["Properties"]
        for resource in resources().values()
        if resource["Type"] == "AWS::ApiGatewayV2::Stage" and resource["Properties"]["ApiId"] == {"Ref": API}
    }


def test_no_sam_resource_is_left_after_the_transform() -> None:
    assert not [name for name, r in resources().items() if r["Type"].startswith("AWS::Serverless::")]


def test_every_declared_route_is_in_the_api_body_and_nothing_else() -> None:
    assert set(operations()) == set(declared_events())
    assert {("GET", "/pets"), ("PUT", "/pets/{petId}"), ("POST", "/comments")} <= set(operations())


@pytest.mark.parametrize("route", sorted(declared_events()), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_route_invokes_its_functions_live_alias_with_payload_2(route: tuple[str, str]) -> None:
    function, _ = declared_events()[route]
    integration = operations()[route]["x-amazon-apigateway-integration"]
    assert integration["type"] == "aws_proxy"
    assert integration["payloadFormatVersion"] == "2.0"
    alias = "${" + function + "Aliaslive}"
    assert alias in json.dumps(integration["uri"]), integration["uri"]
    assert resources()[f"{function}Aliaslive"]["Type"] == "AWS::Lambda::Alias"


@pytest.mark.parametrize("route", sorted(declared_events()), ids=lambda r: f"{r[0]} {r[1]}")
def test_public_routes_are_public_and_the_others_need_the_jwt_with_their_scopes(
    route: tuple[str, str],
) -> None:
    _, properties = declared_events()[route]
    auth = properties.get("Auth") or {}
    security = operations()[route]["security"]
    if auth.get("Authorizer") == "NONE":
        assert security == [{"NONE": []}], (
            "SAM's NONE names no authorizer: API Gateway leaves the route public"
        )
        assert route[0] == "GET", "only reads are public"
    else:  # an access token: ID tokens have no scope, so API Gateway refuses them (403)
        assert security == [{"CognitoJwt": auth.get("AuthorizationScopes", [WRITE_SCOPE])}]


def test_the_jwt_authorizer_is_the_user_pool_and_its_app_client() -> None:
    scheme = body()["components"]["securitySchemes"]["CognitoJwt"]["x-amazon-apigateway-authorizer"]
    assert scheme["type"] == "jwt"
    assert scheme["identitySource"] == "$request.header.Authorization"
    assert scheme["jwtConfiguration"]["issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    }
    assert scheme["jwtConfiguration"]["audience"] == [{"Ref": "UserPoolClient"}]


def cors_as_deployed(template: Template) -> dict[str, Any]:
    """x-amazon-apigateway-cors with CloudFormation's intrinsics evaluated (the web distribution's
    domain stands for its deploy-time value)."""
    resolver = Resolver(
        parameters=template.parameters,
        pseudo_parameters=template.pseudo,
        conditions=template.conditions,
        mappings=template.mappings,
        resource_ref=lambda name: name,
        resource_attribute=lambda name, attribute: f"{name}.{attribute}",
    )
    raw = template.document["Resources"][API]["Properties"]["Body"]["x-amazon-apigateway-cors"]
    value = resolver.resolve(raw, "cors")
    assert isinstance(value, dict), f"x-amazon-apigateway-cors must be an object, the transform wrote {raw}"
    return value


@pytest.mark.parametrize(
    ("origins", "expected"),
    [
        (None, ["https://WebDistribution.DomainName", "http://127.0.0.1:3000", "http://localhost:3000"]),
        ("https://shop.example.com", ["https://WebDistribution.DomainName", "https://shop.example.com"]),
        ("", ["https://WebDistribution.DomainName"]),
    ],
)
def test_cors_is_a_whole_object_for_any_origins_parameter(origins: str | None, expected: list[str]) -> None:
    template = transformed() if origins is None else transformed(CorsAllowedOrigins=origins)
    cors = cors_as_deployed(template)
    assert cors["allowOrigins"] == expected
    assert set(cors["allowMethods"]) == {"GET", "PUT", "POST", "DELETE", "OPTIONS"}
    assert set(cors["allowHeaders"]) == BROWSER_HEADERS
    assert cors["exposeHeaders"] == ["etag"]
    assert cors["maxAge"] == 600
    assert "allowCredentials" not in cors  # bearer tokens, no cookies


def test_an_intrinsic_allow_origins_alone_is_what_the_transform_mangles(tmp_path: Any) -> None:
    """Why StoreApi computes its whole CorsConfiguration in one !If: with an intrinsic AllowOrigins,
    the transform writes that intrinsic (a list) as the whole CORS object and drops the rest."""
    raw = json.loads(json.dumps(TEMPLATE))
    raw["Resources"][API]["Properties"]["CorsConfiguration"] = {
        "AllowOrigins": {"Fn::Split": [",", {"Ref": "CorsAllowedOrigins"}]},
        "AllowMethods": ["GET"],
        "MaxAge": 600,
    }
    for resource in raw["Resources"].values():
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(resource.get("Properties", {}).get(key), str):
                resource["Properties"][key] = str(TEMPLATE_PATH.parent / resource["Properties"][key])
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(raw))
    cors = load_template(path).document["Resources"][API]["Properties"]["Body"]["x-amazon-apigateway-cors"]
    assert "Fn::Split" in cors and "allowMethods" not in json.dumps(cors)


def test_stage_variables_make_the_default_stage_v2_and_the_v1_stage_v1() -> None:
    assert {name: stage.get("StageVariables") for name, stage in stages().items()} == {
        "$default": {"apiVersion": "v2"},
        "v1": {"apiVersion": "v1"},
    }
    assert all(stage["AutoDeploy"] is True for stage in stages().values())


def test_every_stage_is_throttled_and_logs_access_with_the_authorizer_and_integration() -> None:
    fields = ("requestId", "routeKey", "status", "authorizerError", "integrationError", "integrationLatency")
    for name, stage in stages().items():
        assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100}, (
            name
        )
        settings = stage["AccessLogSettings"]
        assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}, name
        log_format = transformed().resolver().resolve(settings["Format"], name)
        assert set(json.loads(log_format.replace("\n", ""))) >= set(fields), name
