"""Profiles handler (GET and PUT /me) through the real Powertools resolver, against moto DynamoDB."""

import json
from typing import Any

import pytest

from tests.services.conftest import Invoke
from tests.support import body_of, load_event

SUB = load_event("profiles-put")["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]


def me(invoke: Invoke, method: str, body: Any = None, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    event = load_event(f"profiles-{method.lower()}")
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if claims is not None:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    return invoke("ProfilesFunction", event)


def refused(response: dict[str, Any], field: str) -> str:
    assert response["statusCode"] == 400, response
    body = body_of(response)
    assert field in body["message"] and field in {e["field"] for e in body["errors"]}, body
    return str(body["message"])


def test_events_put_then_get(invoke: Invoke) -> None:
    put = invoke("ProfilesFunction", load_event("profiles-put"))
    assert put["statusCode"] == 200, put
    profile = body_of(put)
    assert set(profile) == {"userId", "displayName", "updatedAt"}
    assert (profile["userId"], profile["displayName"]) == (SUB, "Ada L.")
    got = invoke("ProfilesFunction", load_event("profiles-get"))
    assert got["statusCode"] == 200 and body_of(got) == profile


def test_no_profile_yet_is_404_saying_to_put_me_first(invoke: Invoke) -> None:
    response = invoke("ProfilesFunction", load_event("profiles-get"))
    assert response["statusCode"] == 404
    assert "PUT /me" in body_of(response)["message"]


def test_put_replaces_the_name(invoke: Invoke) -> None:
    first = body_of(me(invoke, "PUT", {"displayName": "Ada"}))
    second = body_of(me(invoke, "PUT", {"displayName": "Ada Lovelace"}))
    assert second["displayName"] == "Ada Lovelace" and second["updatedAt"] >= first["updatedAt"]
    assert body_of(me(invoke, "GET")) == second


def test_each_user_has_their_own_profile_and_the_body_cannot_name_another(invoke: Invoke) -> None:
    me(invoke, "PUT", {"displayName": "Alice"}, claims={"sub": "alice"})
    assert me(invoke, "GET", claims={"sub": "bob"})["statusCode"] == 404
    refused(
        me(invoke, "PUT", {"displayName": "Mallory", "userId": "alice"}, claims={"sub": "bob"}), "body.userId"
    )
    assert body_of(me(invoke, "GET", claims={"sub": "alice"}))["displayName"] == "Alice"
    assert me(invoke, "GET", claims={"sub": "bob"})["statusCode"] == 404


def test_surrounding_spaces_are_dropped_and_40_characters_fit(invoke: Invoke) -> None:
    assert body_of(me(invoke, "PUT", {"displayName": "  Ada L.  "}))["displayName"] == "Ada L."
    name = "Zoë " + "ポ" * 36
    assert len(name) == 40
    assert body_of(me(invoke, "PUT", {"displayName": f" {name} "}))["displayName"] == name


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 41, "Ada\nLovelace", "Ada\tL", "Ada\u2028L", "\u202eAda", "Ada\ufffd", "\u200b\u200b"],
    ids=["empty", "spaces", "41", "newline", "tab", "line-separator", "bidi", "replacement", "zero-width"],
)
def test_a_bad_display_name_is_400_naming_the_field(invoke: Invoke, name: str) -> None:
    refused(me(invoke, "PUT", {"displayName": name}), "body.displayName")
    assert me(invoke, "GET")["statusCode"] == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.displayName"),
        ({"displayName": 5}, "body.displayName"),
        ({"displayName": None}, "body.displayName"),
        ({"displayName": "Ada", "email": "ada@example.com"}, "body.email"),
        ({"displayName": "Ada", "updatedAt": "2026-01-01T00:00:00.000Z"}, "body.updatedAt"),
        ("{", "body"),
    ],
)
def test_bad_bodies_are_400_and_unknown_fields_refused(invoke: Invoke, body: Any, field: str) -> None:
    refused(me(invoke, "PUT", body), field)
    assert me(invoke, "GET")["statusCode"] == 404


def test_no_identity_is_401(invoke: Invoke) -> None:
    for method, body in (("GET", None), ("PUT", {"displayName": "Ada"})):
        response = me(invoke, method, body, claims={})
        assert response["statusCode"] == 401 and body_of(response)["message"]
