"""An HttpApi written with its own OpenAPI DefinitionBody runs locally, as API Gateway imports it.

The fixture (``fixtures/openapi``) declares its routes, JWT authorizer, scopes, CORS and ``$default``
route in ``x-amazon-apigateway-*`` extensions rather than as function events, and one more route
with ``AWS::ApiGatewayV2::Route``/``Integration``/``Authorizer`` resources. None of this was read by
the local cloud when it interpreted SAM resources itself; deploying the transform's output, it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from localcloud.cloud import LocalCloud, Ports
from localcloud.cognito_user import sign_in
from localcloud.template import load_template

from .conftest import FIXTURES, Console

TEMPLATE = FIXTURES / "openapi" / "template.yaml"


@pytest.fixture(scope="module")
def documented() -> Iterator[tuple[LocalCloud, dict[str, Any], Console]]:
    console = Console()
    cloud = LocalCloud(
        load_template(TEMPLATE, stack_name="openapi-test"),
        Ports(web=0, api=0, aws=0, edge=0),
        max_workers=2,
        watch=False,
        console=console,
    )
    config = cloud.start()
    try:
        yield cloud, config, console
    finally:
        cloud.stop()


@pytest.fixture(scope="module")
def api(documented: tuple[LocalCloud, dict[str, Any], Console]) -> str:
    return str(documented[1]["apiUrl"])


@pytest.fixture(scope="module")
def token(documented: tuple[LocalCloud, dict[str, Any], Console]) -> str:
    return str(sign_in(documented[1], "doc@example.com", "Doc-passw0rd!")["AccessToken"])


def test_a_public_path_of_the_document_reaches_its_function_through_the_alias(api: str) -> None:
    response = requests.get(f"{api}/public/simple", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}


def test_the_event_is_what_the_document_routes(api: str) -> None:
    echoed = requests.get(f"{api}/public/echo?x=1", timeout=10).json()
    event = echoed["event"]
    assert echoed["context"]["invoked_function_arn"].endswith(":live")
    assert event["routeKey"] == "GET /public/{action}"
    assert event["pathParameters"] == {"action": "echo"}
    assert event["stageVariables"] == {"source": "openapi"}
    assert event["version"] == "2.0"


def test_a_security_requirement_with_the_jwt_scheme_needs_a_token(api: str, token: str) -> None:
    assert requests.get(f"{api}/private/echo", timeout=10).status_code == 401
    response = requests.get(f"{api}/private/echo", headers={"authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["event"]["requestContext"]["authorizer"]["jwt"]["claims"]["token_use"] == "access"


def test_scopes_of_the_security_requirement_are_enforced(api: str, token: str) -> None:
    response = requests.post(f"{api}/scoped", headers={"authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 403  # the user pool's access token has no echo/admin scope
    assert response.json() == {"message": "Forbidden"}


def test_the_default_path_is_the_default_route_for_any_method(api: str) -> None:
    event = requests.delete(f"{api}/anything/else", timeout=10).json()["event"]
    assert event["routeKey"] == "$default"


def test_a_function_event_merged_into_the_document_by_sam_is_routed_with_the_default_auth(api: str) -> None:
    """The API names no default authorizer, so SAM's merged route is public."""
    assert requests.get(f"{api}/merged/simple", timeout=10).json() == {"hello": "world"}


def test_a_payload_format_1_route_is_reported_and_answers_500(
    api: str, documented: tuple[LocalCloud, dict[str, Any], Console]
) -> None:
    cloud = documented[0]
    assert cloud.stack is not None
    assert any("GET /legacy: payload format 1.0 is not emulated" in w for w in cloud.stack.warnings)
    response = requests.get(f"{api}/legacy", timeout=10)
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_cors_comes_from_the_documents_extension(api: str) -> None:
    preflight = requests.options(
        f"{api}/private/echo",
        headers={
            "origin": "http://allowed.example",
            "access-control-request-method": "GET",
            "access-control-request-headers": "authorization",
        },
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://allowed.example"
    assert preflight.headers["access-control-max-age"] == "60"
    refused = requests.options(
        f"{api}/private/echo",
        headers={"origin": "http://evil.example", "access-control-request-method": "GET"},
        timeout=10,
    )
    assert "access-control-allow-origin" not in refused.headers


def test_a_route_resource_with_its_integration_and_authorizer_resources(api: str, token: str) -> None:
    assert requests.get(f"{api}/raw/echo", timeout=10).status_code == 401
    response = requests.get(f"{api}/raw/echo", headers={"authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["event"]["routeKey"] == "GET /raw/{action}"
