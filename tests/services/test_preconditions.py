"""No lost update by default (issue 17, item 2): replacing or deleting an existing item needs its version.

The rules, on pets and foods:

* PUT without a precondition creates (201); on an existing item it is a 428 that changes nothing
  and says what to send;
* ``If-None-Match: *`` makes a PUT create-only: 412 when the item exists;
* ``If-Match`` replaces that version (``*``: any version), 412 when it does not match;
* DELETE without ``If-Match`` is a 428 on an existing item, and still a 404 on an absent one.

Each is decided by one conditional DynamoDB write, never by a read before the write.
"""

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.services.conftest import Invoke
from tests.services.test_catalogue_handlers import (
    FOODS,
    PETS,
    Catalogue,
    assert_json_error,
    http_event,
    put,
    stored,
)
from tests.support import body_of, load_event


@pytest.fixture(params=[PETS, FOODS], ids=lambda c: c.prefix)
def cat(request: pytest.FixtureRequest) -> Catalogue:
    return request.param


def delete(invoke: Invoke, cat: Catalogue, item_id: str, **headers: str) -> dict[str, Any]:
    return invoke(cat.function, http_event(cat, "DELETE", item_id, headers=headers))


# ---------------------------------------------------------------------- PUT


def test_a_put_without_precondition_creates(invoke: Invoke, cat: Catalogue) -> None:
    created = put(invoke, cat, "item-1", cat.valid)
    assert created["statusCode"] == 201 and body_of(created)["version"] == 1


def test_replacing_an_existing_item_without_if_match_is_428_and_changes_nothing(
    invoke: Invoke, cat: Catalogue
) -> None:
    """Ten writers doing read-modify-write without If-Match used to keep 9 updates of 50."""
    original = body_of(put(invoke, cat, "item-1", cat.valid))
    response = put(invoke, cat, "item-1", {**cat.valid, "name": "Blind overwrite"})
    message = assert_json_error(response, 428)["message"]
    assert message == (
        f"{cat.prefix[:-1]} 'item-1' exists: send If-Match with its version (see its ETag) "
        "to replace it, or If-None-Match: * to create only"
    )
    assert stored(invoke, cat, "item-1") == original
    # sending back a GET result (its "version" included) is no precondition either: the body's is ignored
    assert_json_error(put(invoke, cat, "item-1", {**original, "name": "Still blind"}), 428)
    assert stored(invoke, cat, "item-1") == original


def test_if_none_match_star_creates_only(invoke: Invoke, cat: Catalogue) -> None:
    created = put(invoke, cat, "item-1", cat.valid, **{"if-none-match": "*"})
    assert created["statusCode"] == 201
    again = put(invoke, cat, "item-1", {**cat.valid, "name": "Second"}, **{"if-none-match": " * "})
    assert "already exists" in assert_json_error(again, 412)["message"]
    assert stored(invoke, cat, "item-1") == body_of(created)


@pytest.mark.parametrize("value", ['"1"', "1", 'W/"1"', "", "*, *"])
def test_if_none_match_accepts_only_star(invoke: Invoke, cat: Catalogue, value: str) -> None:
    response = put(invoke, cat, "item-1", cat.valid, **{"if-none-match": value})
    assert "If-None-Match" in assert_json_error(response, 400)["message"]
    assert stored(invoke, cat, "item-1") is None


def test_if_match_and_if_none_match_together_are_400(invoke: Invoke, cat: Catalogue) -> None:
    put(invoke, cat, "item-1", cat.valid)
    for if_match in ("1", "*"):
        response = put(invoke, cat, "item-1", cat.valid, **{"if-match": if_match, "if-none-match": "*"})
        assert "not both" in assert_json_error(response, 400)["message"]
    assert stored(invoke, cat, "item-1")["version"] == 1


@pytest.mark.parametrize("if_match", ["1", '"1"', 'W/"1"', "*"])
def test_if_match_replaces_an_existing_item(invoke: Invoke, cat: Catalogue, if_match: str) -> None:
    put(invoke, cat, "item-1", cat.valid)
    replaced = put(invoke, cat, "item-1", {**cat.valid, "name": "New"}, **{"if-match": if_match})
    assert replaced["statusCode"] == 200 and replaced["headers"]["ETag"] == '"2"'


def test_an_invalid_body_is_400_before_any_precondition(invoke: Invoke, cat: Catalogue) -> None:
    put(invoke, cat, "item-1", cat.valid)
    assert_json_error(put(invoke, cat, "item-1", {**cat.valid, "priceCents": -1}), 400)


# ---------------------------------------------------------------------- DELETE


def test_delete_needs_if_match_on_an_existing_item(invoke: Invoke, cat: Catalogue) -> None:
    original = body_of(put(invoke, cat, "item-1", cat.valid))
    message = assert_json_error(delete(invoke, cat, "item-1"), 428)["message"]
    assert "send If-Match with its version (see its ETag) to delete it" in message
    assert stored(invoke, cat, "item-1") == original
    assert delete(invoke, cat, "item-1", **{"if-match": '"1"'})["statusCode"] == 204
    assert stored(invoke, cat, "item-1") is None


def test_delete_of_an_absent_item_is_404_with_or_without_if_match(invoke: Invoke, cat: Catalogue) -> None:
    assert "not found" in assert_json_error(delete(invoke, cat, "ghost"), 404)["message"]
    assert_json_error(delete(invoke, cat, "ghost", **{"if-match": "1"}), 412)  # as before
    assert_json_error(delete(invoke, cat, "ghost", **{"if-match": "*"}), 412)


def test_if_match_star_deletes_whatever_the_version(invoke: Invoke, cat: Catalogue) -> None:
    put(invoke, cat, "item-1", cat.valid)
    put(invoke, cat, "item-1", cat.valid, **{"if-match": "1"})
    assert delete(invoke, cat, "item-1", **{"if-match": "*"})["statusCode"] == 204


def test_the_sample_delete_event_sends_the_version_the_sample_put_creates(
    invoke: Invoke, cat: Catalogue
) -> None:
    assert invoke(cat.function, load_event(f"{cat.prefix}-put"))["statusCode"] == 201
    event = load_event(f"{cat.prefix}-delete")
    assert event["headers"]["if-match"] == '"1"'
    assert invoke(cat.function, event)["statusCode"] == 204


# ---------------------------------------------------------------------- atomic, no read first


@pytest.fixture
def dynamodb_calls(invoke: Invoke, cat: Catalogue) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """(operation, params) of every DynamoDB call the catalogue's handler makes during the test."""
    put(invoke, cat, "warm-up", cat.valid)  # imports the handler and creates its client
    client = importlib.import_module(f"{cat.prefix}.handler").__dict__[cat.prefix].table.client
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params))

    client.meta.events.register("provide-client-params.dynamodb.*", record)
    yield calls
    client.meta.events.unregister("provide-client-params.dynamodb.*", record)


def test_the_rules_are_one_conditional_write_each(
    invoke: Invoke, cat: Catalogue, dynamodb_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """A read then a write would let another writer in between: the condition is DynamoDB's."""
    cases = [
        (lambda: put(invoke, cat, "item-1", cat.valid), 201, "UpdateItem", "attribute_not_exists(id)"),
        (lambda: put(invoke, cat, "item-1", cat.valid), 428, "UpdateItem", "attribute_not_exists(id)"),
        (
            lambda: put(invoke, cat, "item-1", cat.valid, **{"if-none-match": "*"}),
            412,
            "UpdateItem",
            "attribute_not_exists(id)",
        ),
        (
            lambda: put(invoke, cat, "item-1", cat.valid, **{"if-match": "1"}),
            200,
            "UpdateItem",
            "#version = :expected",
        ),
        (lambda: delete(invoke, cat, "item-1"), 428, "DeleteItem", "attribute_not_exists(id)"),
        (lambda: delete(invoke, cat, "ghost"), 404, "DeleteItem", "attribute_not_exists(id)"),
        (
            lambda: delete(invoke, cat, "item-1", **{"if-match": "*"}),
            204,
            "DeleteItem",
            "attribute_exists(id)",
        ),
    ]
    for request, status, operation, condition in cases:
        dynamodb_calls.clear()
        assert request()["statusCode"] == status
        assert [(name, params.get("ConditionExpression")) for name, params in dynamodb_calls] == [
            (operation, condition)
        ], (status, dynamodb_calls)


# ---------------------------------------------------------------------- ten writers


WRITERS = 10
UPDATES_PER_WRITER = 5


def test_ten_read_modify_write_writers_without_if_match_lose_no_update(invoke: Invoke) -> None:
    """The scenario that kept 9 updates of 50: ten writers each add 1 to ``ageMonths`` five times,
    all reading before any of them writes (the worst interleaving), first WITHOUT If-Match.

    Now every blind write is a 428 and changes nothing; a writer then sends the version it read and
    either wins or gets a 412, reads again and retries. Every update is counted.
    """
    assert put(invoke, PETS, "counter", {**PETS.valid, "ageMonths": 0})["statusCode"] == 201
    remaining = dict.fromkeys(range(WRITERS), UPDATES_PER_WRITER)
    sends_if_match = dict.fromkeys(range(WRITERS), False)
    statuses: dict[int, int] = {}
    for _round in range(WRITERS * UPDATES_PER_WRITER * 2):
        writers = [writer for writer, left in remaining.items() if left]
        if not writers:
            break
        reads = {writer: stored(invoke, PETS, "counter") for writer in writers}  # everyone reads first
        for writer in writers:
            current = reads[writer]
            body = {**PETS.valid, "ageMonths": current["ageMonths"] + 1}
            headers = {"if-match": str(current["version"])} if sends_if_match[writer] else {}
            status = put(invoke, PETS, "counter", body, **headers)["statusCode"]
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                remaining[writer] -= 1
            elif status == 428:
                sends_if_match[writer] = True  # the answer says what to send
            else:
                assert status == 412, status
    assert not any(remaining.values()), remaining
    final = stored(invoke, PETS, "counter")
    assert final["ageMonths"] == WRITERS * UPDATES_PER_WRITER, (final, statuses)
    assert final["version"] == 1 + WRITERS * UPDATES_PER_WRITER
    assert statuses[428] == WRITERS and statuses[200] == WRITERS * UPDATES_PER_WRITER
