"""Route selection as API Gateway does it for HTTP APIs."""

import pytest

from localcloud.routes import ApiSpec, Integration, Route, RouteTable, Stage


def route(key: str, function: str = "Fn") -> Route:
    method, _, path = key.partition(" ")
    if key == "$default":
        return Route(route_key=key, method="ANY", path="", integration=Integration(function))
    return Route(route_key=key, method=method, path=path, integration=Integration(function))


TABLE = RouteTable(
    [
        route("GET /pets/{petId}"),
        route("GET /pets/dog/{id}"),
        route("ANY /pets/{petId}"),
        route("GET /pets"),
        route("GET /pets/{proxy+}"),
        route("GET /{proxy+}"),
        route("POST /pets/{petId}/photos"),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "route_key", "parameters"),
    [
        ("GET", "/pets", "GET /pets", {}),
        ("GET", "/pets/rex", "GET /pets/{petId}", {"petId": "rex"}),
        ("GET", "/pets/dog/1", "GET /pets/dog/{id}", {"id": "1"}),  # a literal segment wins
        ("PUT", "/pets/rex", "ANY /pets/{petId}", {"petId": "rex"}),  # ANY matches other methods
        ("GET", "/pets/rex/toys/ball", "GET /pets/{proxy+}", {"proxy": "rex/toys/ball"}),  # greedy last
        ("GET", "/foods/1", "GET /{proxy+}", {"proxy": "foods/1"}),
        ("POST", "/pets/rex/photos", "POST /pets/{petId}/photos", {"petId": "rex"}),
        ("GET", "/pets/a%20b", "GET /pets/{petId}", {"petId": "a b"}),  # parameters are decoded
    ],
)
def test_most_specific_route_wins(method: str, path: str, route_key: str, parameters: dict[str, str]) -> None:
    match = TABLE.match(method, path)
    assert match is not None
    assert match.route.route_key == route_key
    assert match.path_parameters == parameters


def test_no_match_is_none_even_for_a_known_path_with_another_method() -> None:
    table = RouteTable([route("GET /pets/{petId}"), route("GET /pets")])
    assert table.match("DELETE", "/pets/rex") is None
    assert table.match("GET", "/foods") is None
    assert table.match("GET", "/pets/rex/extra") is None


def test_default_route_catches_the_rest() -> None:
    table = RouteTable([route("GET /pets"), route("$default", "Fallback")])
    match = table.match("PATCH", "/anything")
    assert match is not None and match.route.function == "Fallback"
    assert table.routes()[-1].route_key == "$default"


def test_stage_selection_by_prefix() -> None:
    api = ApiSpec("Api", "abc", stages=[Stage("$default"), Stage("v1", {"apiVersion": "v1"})])
    assert api.stage_for("/pets") == (Stage("$default"), "/pets")
    assert api.stage_for("/v1/pets") == (Stage("v1", {"apiVersion": "v1"}), "/pets")
    assert api.stage_for("/v1") == (Stage("v1", {"apiVersion": "v1"}), "/")
    assert api.stage_for("/v10/pets") == (Stage("$default"), "/v10/pets")
    named_only = ApiSpec("Api", "abc", stages=[Stage("prod")])
    assert named_only.stage_for("/pets") is None
