"""One set of handlers serves API v1 and v2; the stage variable ``apiVersion`` picks the list shape."""

import json
from typing import Any

from tests.services.conftest import Invoke
from tests.support import add_pet, body_of, load_event


def on_stage(event: dict[str, Any], version: str | None) -> dict[str, Any]:
    event = json.loads(json.dumps(event))
    event["stageVariables"] = {"apiVersion": version} if version else None
    return event


def seed_pets(invoke: Invoke, count: int) -> None:
    for n in range(count):
        event = load_event("pets-put")
        event["pathParameters"] = {"petId": f"pet-{n}"}
        event["rawPath"] = event["requestContext"]["http"]["path"] = f"/pets/pet-{n}"
        assert invoke("PetsFunction", event)["statusCode"] == 201


def list_pets(invoke: Invoke, version: str | None, limit: str) -> dict[str, Any]:
    event = on_stage(load_event("pets-list"), version)
    event["queryStringParameters"] = {"limit": limit}
    return invoke("PetsFunction", event)


def test_v2_and_no_stage_variable_answer_pages(invoke: Invoke) -> None:
    seed_pets(invoke, 3)
    for version in ("v2", None):
        body = body_of(list_pets(invoke, version, "2"))
        assert len(body["items"]) == 2 and body["nextToken"]


def test_v1_answers_a_bare_array_when_everything_fits(invoke: Invoke) -> None:
    seed_pets(invoke, 3)
    response = list_pets(invoke, "v1", "10")
    assert response["statusCode"] == 200
    body = body_of(response)
    assert isinstance(body, list) and sorted(p["id"] for p in body) == ["pet-0", "pet-1", "pet-2"]


def test_v1_refuses_too_many_results(invoke: Invoke) -> None:
    seed_pets(invoke, 3)
    response = list_pets(invoke, "v1", "2")
    assert response["statusCode"] == 400
    assert "Too many results" in body_of(response)["message"]


def test_v1_comments_are_a_bare_array_and_single_items_are_identical(invoke: Invoke) -> None:
    add_pet(json.loads(load_event("comments-post")["body"])["pageId"])  # a comment's page is a pet
    invoke("CommentsFunction", load_event("comments-post"))
    comments = body_of(invoke("CommentsFunction", on_stage(load_event("comments-list"), "v1")))
    assert isinstance(comments, list) and len(comments) == 1
    seed_pets(invoke, 1)
    get = load_event("pets-get")
    get["pathParameters"] = {"petId": "pet-0"}
    v1 = invoke("PetsFunction", on_stage(get, "v1"))
    v2 = invoke("PetsFunction", on_stage(get, "v2"))
    assert body_of(v1) == body_of(v2)
