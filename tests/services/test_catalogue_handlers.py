"""Pets and foods handlers through the real Powertools resolver, against moto DynamoDB."""

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.services.conftest import Invoke
from tests.support import body_of, load_event


@dataclass(frozen=True)
class Catalogue:
    function: str
    prefix: str  # events/ file prefix
    path: str
    id_param: str
    valid: dict[str, Any]


PETS = Catalogue(
    "PetsFunction",
    "pets",
    "/pets",
    "petId",
    {"name": "Rex", "species": "dog", "ageMonths": 18, "priceCents": 45000},
)
FOODS = Catalogue(
    "FoodsFunction", "foods", "/foods", "foodId", {"name": "Kibble", "species": "dog", "priceCents": 2599}
)


@pytest.fixture(params=[PETS, FOODS], ids=lambda c: c.prefix)
def cat(request: pytest.FixtureRequest) -> Catalogue:
    return request.param


def http_event(
    cat: Catalogue,
    method: str,
    item_id: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An event shaped like the ones in events/ (same request context, JWT claims on writes)."""
    template = load_event(f"{cat.prefix}-put" if method in ("PUT", "DELETE") else f"{cat.prefix}-get")
    event = json.loads(json.dumps(template))
    route = f"{cat.path}/{{{cat.id_param}}}" if item_id is not None else cat.path
    path = f"{cat.path}/{item_id}" if item_id is not None else cat.path
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["pathParameters"] = {cat.id_param: item_id} if item_id is not None else None
    event["queryStringParameters"] = query
    event["headers"] = {**event["headers"], **(headers or {})}
    if body is None:
        event.pop("body", None)
    else:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def put(invoke: Invoke, cat: Catalogue, item_id: str, body: Any, **headers: str) -> dict[str, Any]:
    return invoke(cat.function, http_event(cat, "PUT", item_id, body, headers=headers))


def get(invoke: Invoke, cat: Catalogue, item_id: str) -> dict[str, Any]:
    return invoke(cat.function, http_event(cat, "GET", item_id))


def stored(invoke: Invoke, cat: Catalogue, item_id: str) -> Any:
    response = get(invoke, cat, item_id)
    return body_of(response) if response["statusCode"] == 200 else None


def assert_json_error(response: dict[str, Any], status: int | tuple[int, ...]) -> dict[str, Any]:
    assert response["statusCode"] in (status if isinstance(status, tuple) else (status,)), response
    assert response["headers"]["Content-Type"] == "application/json"
    body = body_of(response)
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response["body"]
    return body


# ----------------------------------------------------------------- the events/ files


def test_events_put_then_get_then_delete(invoke: Invoke, cat: Catalogue) -> None:
    created = invoke(cat.function, load_event(f"{cat.prefix}-put"))
    assert created["statusCode"] == 201
    item = body_of(created)
    assert item["version"] == 1 and created["headers"]["ETag"] == '"1"'

    fetched = invoke(cat.function, load_event(f"{cat.prefix}-get"))
    assert fetched["statusCode"] == 200 and body_of(fetched) == item

    listed = invoke(cat.function, load_event(f"{cat.prefix}-list"))
    assert body_of(listed) == {"items": [item], "nextToken": None}

    deleted = invoke(cat.function, load_event(f"{cat.prefix}-delete"))
    assert deleted["statusCode"] == 204 and not deleted.get("body")
    assert invoke(cat.function, load_event(f"{cat.prefix}-get"))["statusCode"] == 404


def test_events_not_found_and_invalid(invoke: Invoke, cat: Catalogue) -> None:
    body = assert_json_error(invoke(cat.function, load_event(f"{cat.prefix}-get-not-found")), 404)
    assert "not found" in body["message"]
    assert_json_error(invoke(cat.function, load_event(f"{cat.prefix}-put-invalid")), 400)


def test_pets_invalid_event_names_every_bad_field(invoke: Invoke) -> None:
    body = assert_json_error(invoke("PetsFunction", load_event("pets-put-invalid")), 400)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"body.name", "body.priceCents", "body.colour"}


def test_stale_version_event_is_412(invoke: Invoke) -> None:
    invoke("PetsFunction", load_event("pets-put"))
    body = assert_json_error(invoke("PetsFunction", load_event("pets-put-stale-version")), 412)
    assert "999" in body["message"] and "1" in body["message"]


# ----------------------------------------------------------------- PUT semantics


def test_put_creates_then_replaces_with_versions(invoke: Invoke, cat: Catalogue) -> None:
    first = put(invoke, cat, "item-1", cat.valid)
    assert first["statusCode"] == 201
    second = put(invoke, cat, "item-1", {**cat.valid, "name": "Renamed"}, **{"if-match": '"1"'})
    assert second["statusCode"] == 200
    replaced = body_of(second)
    assert replaced["version"] == 2 and replaced["name"] == "Renamed"
    assert replaced["createdAt"] == body_of(first)["createdAt"]
    assert second["headers"]["ETag"] == '"2"'


def test_put_is_a_full_replace(invoke: Invoke) -> None:
    put(invoke, PETS, "rex", {**PETS.valid, "breed": "Collie"})
    put(invoke, PETS, "rex", PETS.valid, **{"if-match": "1"})  # no breed this time
    assert stored(invoke, PETS, "rex")["breed"] is None


def test_a_get_result_can_be_put_back(invoke: Invoke, cat: Catalogue) -> None:
    item = body_of(put(invoke, cat, "item-1", cat.valid))
    again = put(invoke, cat, "item-1", {**item, "name": "Changed"}, **{"if-match": str(item["version"])})
    assert again["statusCode"] == 200 and body_of(again)["version"] == 2


def test_body_id_must_equal_path_id(invoke: Invoke, cat: Catalogue) -> None:
    body = assert_json_error(put(invoke, cat, "item-1", {**cat.valid, "id": "item-2"}), 400)
    assert "item-2" in body["message"]
    assert stored(invoke, cat, "item-1") is None and stored(invoke, cat, "item-2") is None
    assert put(invoke, cat, "item-1", {**cat.valid, "id": "item-1"})["statusCode"] == 201


@pytest.mark.parametrize("if_match", ["1", '"1"', 'W/"1"', "*"])
def test_if_match_current_version_succeeds(invoke: Invoke, cat: Catalogue, if_match: str) -> None:
    put(invoke, cat, "item-1", cat.valid)
    response = put(invoke, cat, "item-1", {**cat.valid, "name": "B"}, **{"if-match": if_match})
    assert response["statusCode"] == 200 and body_of(response)["version"] == 2


def test_if_match_mismatch_is_412_and_changes_nothing(invoke: Invoke, cat: Catalogue) -> None:
    put(invoke, cat, "item-1", cat.valid)
    put(invoke, cat, "item-1", cat.valid, **{"if-match": "1"})
    before = stored(invoke, cat, "item-1")
    assert_json_error(put(invoke, cat, "item-1", {**cat.valid, "name": "Lost"}, **{"if-match": "1"}), 412)
    assert stored(invoke, cat, "item-1") == before


def test_if_match_on_absent_item_is_412_and_creates_nothing(invoke: Invoke, cat: Catalogue) -> None:
    for if_match in ("1", "*"):
        assert_json_error(put(invoke, cat, "ghost", cat.valid, **{"if-match": if_match}), 412)
    assert stored(invoke, cat, "ghost") is None


def test_malformed_if_match_is_400(invoke: Invoke, cat: Catalogue) -> None:
    put(invoke, cat, "item-1", cat.valid)
    assert_json_error(put(invoke, cat, "item-1", cat.valid, **{"if-match": "latest"}), 400)
    assert stored(invoke, cat, "item-1")["version"] == 1


# ----------------------------------------------------------------- bad input changes no data

BAD_BODIES = {
    "malformed JSON": '{"name": "Rex", ',
    "not an object": "[1, 2, 3]",
    "empty body": "",
    "wrong types": {"name": 42, "species": ["dog"], "priceCents": "cheap"},
    "missing fields": {"name": "Rex"},
    "negative price": {"name": "Rex", "species": "dog", "priceCents": -1},
    "oversized string": {"name": "x" * 101, "species": "dog", "priceCents": 1},
    "unknown field": {"name": "Rex", "species": "dog", "priceCents": 1, "owner": "me"},
    "float price": {"name": "Rex", "species": "dog", "priceCents": 1.5},
    "null name": {"name": None, "species": "dog", "priceCents": 1},
    "duplicate keys": '{"name": "Rex", "species": "dog", "priceCents": 1, "priceCents": 2}',
    "deep nesting": '{"name": ' + "[" * 100_00 + "]" * 100_00 + ', "species": "dog", "priceCents": 1}',
}


@pytest.mark.parametrize("case", BAD_BODIES)
def test_bad_body_is_400_json_and_changes_nothing(invoke: Invoke, cat: Catalogue, case: str) -> None:
    original = body_of(put(invoke, cat, "item-1", cat.valid))
    response = put(invoke, cat, "item-1", BAD_BODIES[case], **{"if-match": "1"})
    assert_json_error(response, 400)
    assert stored(invoke, cat, "item-1") == original


def test_body_over_the_limit_is_413(invoke: Invoke, cat: Catalogue) -> None:
    response = put(invoke, cat, "item-1", {**cat.valid, "name": "x" * 70_000})
    assert_json_error(response, 413)
    assert stored(invoke, cat, "item-1") is None


def test_base64_body_is_decoded(invoke: Invoke, cat: Catalogue) -> None:
    event = http_event(cat, "PUT", "item-1", cat.valid)
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert invoke(cat.function, event)["statusCode"] == 201


BAD_IDS = [
    "..",
    "../etc/passwd",
    "..%2F..%2Fetc",
    "a/b",
    "pet\u00e9",
    "\u202egnp.exe",
    "a b",
    "a\x00b",
    "x" * 65,
    "-lead",
]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_bad_ids_are_refused_and_store_nothing(invoke: Invoke, cat: Catalogue, bad_id: str) -> None:
    # A slash or a control character matches no route (404); any other bad id fails validation (400).
    for method, body in (("PUT", cat.valid), ("GET", None), ("DELETE", None)):
        assert_json_error(invoke(cat.function, http_event(cat, method, bad_id, body)), (400, 404))
    listed = invoke(cat.function, http_event(cat, "GET"))
    assert body_of(listed)["items"] == []


# ----------------------------------------------------------------- list and delete


def test_list_pages_through_everything_once(invoke: Invoke, cat: Catalogue) -> None:
    ids = {f"item-{n:02d}" for n in range(25)}
    for item_id in ids:
        put(invoke, cat, item_id, cat.valid)
    seen: list[str] = []
    token = None
    for _ in range(10):
        query = {"limit": "7", **({"nextToken": token} if token else {})}
        page = body_of(invoke(cat.function, http_event(cat, "GET", query=query)))
        assert len(page["items"]) <= 7
        seen += [item["id"] for item in page["items"]]
        token = page["nextToken"]
        if not token:
            break
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"nextToken": "garbage!"}]
)
def test_bad_list_parameters_are_400(invoke: Invoke, cat: Catalogue, query: dict[str, str]) -> None:
    assert_json_error(invoke(cat.function, http_event(cat, "GET", query=query)), 400)


def test_forged_next_token_is_400(invoke: Invoke, cat: Catalogue) -> None:
    forged = base64.urlsafe_b64encode(json.dumps({"id": "x", "admin": True}).encode()).decode()
    assert_json_error(invoke(cat.function, http_event(cat, "GET", query={"nextToken": forged})), 400)


def test_delete_absent_is_404_and_if_match_is_honoured(invoke: Invoke, cat: Catalogue) -> None:
    assert_json_error(invoke(cat.function, http_event(cat, "DELETE", "ghost")), 404)
    put(invoke, cat, "item-1", cat.valid)
    response = invoke(cat.function, http_event(cat, "DELETE", "item-1", headers={"if-match": "7"}))
    assert_json_error(response, 412)
    assert stored(invoke, cat, "item-1") is not None
    response = invoke(cat.function, http_event(cat, "DELETE", "item-1", headers={"if-match": "1"}))
    assert response["statusCode"] == 204
    assert stored(invoke, cat, "item-1") is None


def test_unknown_route_is_404_json(invoke: Invoke, cat: Catalogue) -> None:
    event = http_event(cat, "GET")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/nowhere"
    assert_json_error(invoke(cat.function, event), 404)
