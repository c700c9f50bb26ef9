"""End to end, over HTTP only: people on the store. A customer names themselves (GET/PUT /me) and
comments on a pet under that name; comments are moderated by their author or by staff; a deleted
pet's comments go with it (PetDeleted through the event bus).

Runs against ``python -m localcloud dev`` or, with ``E2E_CONFIG_URL``, a deployed stack (see
``tests/localcloud/test_e2e.py``); users come from ``tests/stack_client.py``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.stack_client import PET, TIMEOUT, new_staff_tokens, new_user_tokens, unique

pytestmark = pytest.mark.slow

FORBIDDEN = {"message": "Forbidden"}  # API Gateway's answer to a token without the route's scope
CLEANUP_SECONDS = 30  # EventBridge delivers within seconds; the subscriber is retried on failure


def bearer(tokens: dict[str, Any], kind: str = "AccessToken") -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[kind]}"}


@pytest.fixture(scope="module")
def staff(stack_config: dict[str, Any]) -> dict[str, Any]:
    return new_staff_tokens(stack_config, "people-staff")


@pytest.fixture(scope="module")
def ada(stack_config: dict[str, Any]) -> dict[str, Any]:
    return new_user_tokens(stack_config, "people-ada")


@pytest.fixture(scope="module")
def bob(stack_config: dict[str, Any]) -> dict[str, Any]:
    return new_user_tokens(stack_config, "people-bob")


def new_pet(api: str, staff: dict[str, Any]) -> str:
    pet_id = unique("pet")
    created = requests.put(
        f"{api}/pets/{pet_id}", json=PET, headers={**bearer(staff), "If-None-Match": "*"}, timeout=TIMEOUT
    )
    assert created.status_code == 201, created.text
    return pet_id


def comment(api: str, tokens: dict[str, Any], pet_id: str, message: str = "Lovely!") -> requests.Response:
    return requests.post(
        f"{api}/comments",
        json={"pageId": pet_id, "message": message},
        headers=bearer(tokens),
        timeout=TIMEOUT,
    )


def comments_on(api: str, pet_id: str) -> list[dict[str, Any]]:
    listed = requests.get(f"{api}/comments/{pet_id}", params={"limit": 100}, timeout=TIMEOUT)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


def test_a_customer_names_themselves_and_their_comments_show_that_name(
    api: str, stack_config: dict[str, Any], staff: dict[str, Any]
) -> None:
    customer = new_user_tokens(stack_config, "people-named")
    pet_id = new_pet(api, staff)

    nameless = comment(api, customer, pet_id, "before I had a name")
    assert nameless.status_code == 201, nameless.text
    assert nameless.json()["authorName"] == "Customer"

    missing = requests.get(f"{api}/me", headers=bearer(customer), timeout=TIMEOUT)
    assert missing.status_code == 404 and "PUT /me" in missing.json()["message"]
    name = f"Ada {unique('x')[-6:]}"
    put = requests.put(
        f"{api}/me", json={"displayName": f"  {name} "}, headers=bearer(customer), timeout=TIMEOUT
    )
    assert put.status_code == 200, put.text
    profile = put.json()
    assert profile["displayName"] == name and set(profile) == {"userId", "displayName", "updatedAt"}
    assert requests.get(f"{api}/me", headers=bearer(customer), timeout=TIMEOUT).json() == profile

    named = comment(api, customer, pet_id, "now with my name")
    assert named.status_code == 201, named.text
    assert named.json()["authorName"] == name and named.json()["authorId"] == profile["userId"]
    listed = comments_on(api, pet_id)
    assert [(c["message"], c["authorName"]) for c in listed] == [
        ("now with my name", name),
        ("before I had a name", "Customer"),
    ]
    listed_text = requests.get(f"{api}/comments/{pet_id}", timeout=TIMEOUT).text
    assert customer["email"] not in listed_text


def test_bad_profiles_are_400_naming_the_field(api: str, ada: dict[str, Any]) -> None:
    for body, field in (
        ({"displayName": "x" * 41}, "displayName"),
        ({"displayName": "two\nlines"}, "displayName"),
        ({"displayName": "Ada", "userId": "someone-else"}, "userId"),
    ):
        response = requests.put(f"{api}/me", json=body, headers=bearer(ada), timeout=TIMEOUT)
        assert response.status_code == 400, response.text
        assert field in response.json()["message"]


def test_an_id_token_is_refused_on_profiles_and_comments(
    api: str, ada: dict[str, Any], staff: dict[str, Any]
) -> None:
    pet_id = new_pet(api, staff)
    id_token = bearer(ada, "IdToken")
    for method, path, body in (
        ("PUT", "/me", {"displayName": "Ada"}),
        ("GET", "/me", None),
        ("POST", "/comments", {"pageId": pet_id, "message": "with the wrong token"}),
    ):
        response = requests.request(method, f"{api}{path}", json=body, headers=id_token, timeout=TIMEOUT)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json() == FORBIDDEN
    assert comments_on(api, pet_id) == []


def test_a_comment_on_a_pet_that_does_not_exist_is_404(api: str, ada: dict[str, Any]) -> None:
    pet_id = unique("no-such-pet")
    response = comment(api, ada, pet_id)
    assert response.status_code == 404 and response.json() == {"message": f"pet '{pet_id}' not found"}
    assert comments_on(api, pet_id) == []


def test_moderation_by_the_author_or_staff_and_no_one_else(
    api: str, ada: dict[str, Any], bob: dict[str, Any], staff: dict[str, Any]
) -> None:
    pet_id = new_pet(api, staff)
    first, second = (comment(api, ada, pet_id, message).json() for message in ("one", "two"))

    def delete(tokens: dict[str, Any], comment_id: str) -> requests.Response:
        return requests.delete(
            f"{api}/comments/{pet_id}/{comment_id}", headers=bearer(tokens), timeout=TIMEOUT
        )

    refused = delete(bob, first["commentId"])
    assert refused.status_code == 403, refused.text
    assert "author or store staff" in refused.json()["message"]
    assert len(comments_on(api, pet_id)) == 2

    by_author = delete(ada, first["commentId"])
    assert by_author.status_code == 204 and by_author.content == b""
    by_staff = delete(staff, second["commentId"])
    assert by_staff.status_code == 204, by_staff.text
    assert comments_on(api, pet_id) == []

    gone = delete(ada, first["commentId"])
    assert gone.status_code == 404 and gone.json()["message"]
    anonymous = requests.delete(f"{api}/comments/{pet_id}/{first['commentId']}", timeout=TIMEOUT)
    assert anonymous.status_code == 401


def test_a_deleted_pets_comments_go_but_not_those_of_the_pet_recreated_under_its_id(
    api: str, ada: dict[str, Any], staff: dict[str, Any]
) -> None:
    pet_id = new_pet(api, staff)
    for message in ("one", "two", "three"):
        assert comment(api, ada, pet_id, message).status_code == 201
    deleted = requests.delete(
        f"{api}/pets/{pet_id}", headers={**bearer(staff), "If-Match": "*"}, timeout=TIMEOUT
    )
    assert deleted.status_code == 204, deleted.text
    assert comment(api, ada, pet_id, "too late").status_code == 404

    deadline = time.monotonic() + CLEANUP_SECONDS
    while comments_on(api, pet_id) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert comments_on(api, pet_id) == [], "PetDeleted did not remove the pet's comments"

    recreated = requests.put(
        f"{api}/pets/{pet_id}", json=PET, headers={**bearer(staff), "If-None-Match": "*"}, timeout=TIMEOUT
    )
    assert recreated.status_code == 201, recreated.text
    assert comment(api, ada, pet_id, "welcome back").status_code == 201
    assert [c["message"] for c in comments_on(api, pet_id)] == ["welcome back"]
