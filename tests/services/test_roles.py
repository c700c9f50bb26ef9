"""Who may do what: the staff guard (store_common.auth) and where it stands.

Catalogue writes need the ``staff`` group in the access token's ``cognito:groups`` claim, which API
Gateway passes on as one string (``"[staff]"``); a signed-in customer gets 403 with a JSON message,
before the handler touches the table. The rule is written once (``staff_only_route``) and shows in
openapi.json as ``x-required-group: staff`` on every route it guards.
"""

import copy
import json
from typing import Any

import pytest

from tests.services.conftest import Invoke
from tests.support import ROOT, body_of, load_event

PET = {"name": "Rex", "species": "dog", "priceCents": 45000}


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        ("[staff]", {"staff"}),
        ("[staff other]", {"staff", "other"}),
        ("[]", set()),
        ("", set()),
        (["staff", "other"], {"staff", "other"}),
        (None, set()),
        ("[staffers]", {"staffers"}),
    ],
)
def test_groups_are_read_as_api_gateway_passes_them(claim: Any, groups: set[str]) -> None:
    from store_common.auth import groups_of  # after tests.support set the functions' environment

    claims = {} if claim is None else {"cognito:groups": claim}
    assert groups_of(claims) == groups


def as_customer(event: dict[str, Any]) -> dict[str, Any]:
    customer = copy.deepcopy(event)
    del customer["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"]
    return customer


@pytest.mark.parametrize("name", ["pets-put", "pets-delete", "foods-put", "foods-delete"])
def test_a_customer_may_not_write_the_catalogue(invoke: Invoke, name: str) -> None:
    from store_common.auth import STAFF_ONLY_MESSAGE

    staff_event = load_event(name)
    response = invoke(f"{name.split('-')[0].capitalize()}Function", as_customer(staff_event))
    assert response["statusCode"] == 403
    assert body_of(response) == {"message": STAFF_ONLY_MESSAGE}


def test_staff_may_write_and_a_customer_changes_nothing(invoke: Invoke) -> None:
    event = load_event("pets-put")
    assert invoke("PetsFunction", as_customer(event))["statusCode"] == 403
    get = load_event("pets-get")
    assert invoke("PetsFunction", get)["statusCode"] == 404  # the refused write stored nothing
    created = invoke("PetsFunction", event)
    assert created["statusCode"] == 201, body_of(created)


def test_a_group_named_like_staff_is_not_staff(invoke: Invoke) -> None:
    event = load_event("pets-put")
    event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = "[staffers]"
    assert invoke("PetsFunction", event)["statusCode"] == 403


def test_openapi_marks_exactly_the_staff_routes() -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    marked = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("x-required-group") == "staff"
    }
    assert marked == {
        "PUT /pets/{petId}",
        "DELETE /pets/{petId}",
        "PUT /foods/{foodId}",
        "DELETE /foods/{foodId}",
        "POST /pets/{petId}/photos",
        "DELETE /pets/{petId}/photos/{photoId}",
    }
    for route in marked:
        method, path = route.split(" ")
        assert "403" in document["paths"][path][method.lower()]["responses"], route


def test_the_template_names_the_staff_routes_beside_them() -> None:
    """The same set, as the template's ``# staff only`` comments say it (a reader of template.yaml
    sees who may call each route): on a function's HttpApi event (Lambda) and on an
    ``AWS::ApiGatewayV2::Route`` of an ECS service (Fargate) alike."""
    lines = (ROOT / "template.yaml").read_text().splitlines()
    marked, fargate = set(), set()
    for index, line in enumerate(lines):
        if line.strip().endswith("# staff only"):
            block = "\n".join(lines[index : index + 6])
            if "RouteKey: " in block:
                fargate.add(block.split("RouteKey: ")[1].split("\n")[0].strip())
                continue
            path = block.split("Path: ")[1].split("\n")[0].strip()
            method = block.split("Method: ")[1].split("\n")[0].strip()
            marked.add(f"{method} {path}")
    assert fargate == {
        "PUT /pets/{petId}",
        "DELETE /pets/{petId}",
        "PUT /foods/{foodId}",
        "DELETE /foods/{foodId}",
    }
    assert marked == {
        "PUT /pets/{petId}",
        "DELETE /pets/{petId}",
        "PUT /foods/{foodId}",
        "DELETE /foods/{foodId}",
        "POST /pets/{petId}/photos",
        "DELETE /pets/{petId}/photos/{photoId}",
    }
