"""The template and the handlers agree on the routes, and auth is where the contract says it is."""

import importlib
import json

import pytest

from tests.support import RESOURCES, ROOT, set_function_environment, stack
from tools.openapi import build_document, render

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def template_routes() -> dict[str, set[tuple[str, str]]]:
    routes: dict[str, set[tuple[str, str]]] = {}
    for api in stack().apis.values():
        for route in api.routes:
            routes.setdefault(route.function, set()).add((route.method, route.path))  # type: ignore[arg-type]
    return routes


def handler_routes(function: str, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    set_function_environment(function, monkeypatch)
    module = importlib.import_module(stack().functions[function].handler.rsplit(".", 1)[0])
    paths = module.app.get_openapi_schema().paths or {}
    return {
        (method.upper(), path)
        for path, item in paths.items()
        for method in HTTP_METHODS
        if getattr(item, method, None) is not None
    }


def test_every_template_route_has_a_handler_route_and_vice_versa(monkeypatch: pytest.MonkeyPatch) -> None:
    routes = template_routes()
    assert set(routes) >= {"PetsFunction", "FoodsFunction", "CommentsFunction", "PhotosFunction"}
    for function, declared in routes.items():
        assert handler_routes(function, monkeypatch) == declared, function


def test_writes_and_the_callers_profile_need_the_cognito_jwt_authorizer_and_reads_are_public() -> None:
    apis = stack().apis
    assert apis, "the template declares no HTTP API"
    pool = stack().physical["UserPool"].ref
    client = stack().physical["UserPoolClient"].ref
    for api in apis.values():
        for route in api.routes:
            if route.method == "GET" and route.path != "/me":  # the caller's own profile is theirs only
                assert route.authorizer is None, f"{route.route_key} must be public"
                continue
            assert route.authorizer is not None, f"{route.route_key} must need a token"
            authorizer = api.authorizers[route.authorizer]
            assert authorizer.issuer.endswith(f"/{pool}") and list(authorizer.audience) == [client]


def test_both_api_versions_serve_the_same_routes() -> None:
    (api,) = stack().apis.values()
    variables = {stage.name: stage.variables for stage in api.stages}
    assert variables == {"$default": {"apiVersion": "v2"}, "v1": {"apiVersion": "v1"}}


@pytest.mark.parametrize(
    "function", sorted(k for k, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
)
def test_every_function_handler_resolves_to_a_callable(
    function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    properties = RESOURCES[function]["Properties"]
    module_name, attribute = properties["Handler"].rsplit(".", 1)
    path = ROOT / properties["CodeUri"] / (module_name.replace(".", "/") + ".py")
    assert path.is_file(), f"{function}: {path} does not exist"
    if function in stack().functions:  # edge functions exist only with DeployEdge=true
        set_function_environment(function, monkeypatch)
    assert callable(getattr(importlib.import_module(module_name), attribute)), function


def test_committed_openapi_document_matches_the_code() -> None:
    committed = (ROOT / "openapi.json").read_text()
    generated = render(build_document())
    assert json.loads(committed) == json.loads(generated), "openapi.json is stale: run `make openapi`"
    assert committed == generated
