"""Comments handler through the real Powertools resolver, against moto DynamoDB."""

import json
from typing import Any

import pytest

from tests.services.conftest import Invoke
from tests.support import body_of, load_event

SUB = load_event("comments-post")["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]


def post(
    invoke: Invoke, body: Any, key: str | None = None, claims: dict[str, Any] | None = None
) -> dict[str, Any]:
    event = load_event("comments-post")
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["headers"].pop("idempotency-key")
    if key is not None:
        event["headers"]["idempotency-key"] = key
    if claims is not None:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    return invoke("CommentsFunction", event)


def page(invoke: Invoke, page_id: str, **query: str) -> dict[str, Any]:
    event = load_event("comments-list")
    event["pathParameters"] = {"pageId": page_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/comments/{page_id}"
    event["queryStringParameters"] = query or None
    return invoke("CommentsFunction", event)


def all_comments(invoke: Invoke, page_id: str) -> list[dict[str, Any]]:
    return body_of(page(invoke, page_id, limit="100"))["items"]


def test_events_post_and_list(invoke: Invoke) -> None:
    response = invoke("CommentsFunction", load_event("comments-post"))
    assert response["statusCode"] == 201
    comment = body_of(response)
    assert comment["authorId"] == SUB and comment["pageId"] == "rex"
    listed = invoke("CommentsFunction", load_event("comments-list"))
    assert body_of(listed) == {"items": [comment], "nextToken": None}


def test_invalid_event_is_400_naming_fields_and_author_cannot_be_given(invoke: Invoke) -> None:
    response = invoke("CommentsFunction", load_event("comments-post-invalid"))
    assert response["statusCode"] == 400
    fields = {e["field"] for e in body_of(response)["errors"]}
    assert fields == {"body.pageId", "body.message", "body.authorId"}
    assert all_comments(invoke, "rex") == []


def test_author_comes_from_the_token(invoke: Invoke) -> None:
    claims = {"sub": "user-123", "email": "ada@example.com", "token_use": "id"}
    comment = body_of(post(invoke, {"pageId": "p1", "message": "hi"}, claims=claims))
    assert (comment["authorId"], comment["authorName"]) == ("user-123", "ada@example.com")


def test_no_identity_is_401(invoke: Invoke) -> None:
    response = post(invoke, {"pageId": "p1", "message": "hi"}, claims={})
    assert response["statusCode"] == 401 and body_of(response)["message"]
    assert all_comments(invoke, "p1") == []


def test_newest_first_paginated_with_one_query_per_page(invoke: Invoke) -> None:
    posted = [body_of(post(invoke, {"pageId": "p1", "message": f"m{n}"}))["commentId"] for n in range(7)]
    post(invoke, {"pageId": "other", "message": "elsewhere"})
    seen: list[str] = []
    token: str | None = None
    for _ in range(5):
        body = body_of(page(invoke, "p1", limit="3", **({"nextToken": token} if token else {})))
        assert len(body["items"]) <= 3
        seen += [c["commentId"] for c in body["items"]]
        token = body["nextToken"]
        if not token:
            break
    assert seen == list(reversed(posted))


def test_next_token_of_another_page_is_400(invoke: Invoke) -> None:
    for n in range(3):
        post(invoke, {"pageId": "p1", "message": f"m{n}"})
    token = body_of(page(invoke, "p1", limit="1"))["nextToken"]
    response = page(invoke, "p2", nextToken=token)
    assert response["statusCode"] == 400 and "another page" in body_of(response)["message"]


def test_idempotency_key_makes_a_retry_return_the_first_comment(invoke: Invoke) -> None:
    first = post(invoke, {"pageId": "p1", "message": "once"}, key="key-1")
    retry = post(invoke, {"pageId": "p1", "message": "once"}, key="key-1")
    assert first["statusCode"] == retry["statusCode"] == 201
    assert body_of(first) == body_of(retry)
    assert len(all_comments(invoke, "p1")) == 1


def test_idempotency_key_reused_for_another_comment_is_409(invoke: Invoke) -> None:
    post(invoke, {"pageId": "p1", "message": "once"}, key="key-1")
    response = post(invoke, {"pageId": "p1", "message": "something else"}, key="key-1")
    assert response["statusCode"] == 409 and "Idempotency-Key" in body_of(response)["message"]
    assert len(all_comments(invoke, "p1")) == 1


def test_same_key_from_two_users_makes_two_comments(invoke: Invoke) -> None:
    post(
        invoke, {"pageId": "p1", "message": "hi"}, key="shared", claims={"sub": "alice", "username": "alice"}
    )
    post(invoke, {"pageId": "p1", "message": "hi"}, key="shared", claims={"sub": "bob", "username": "bob"})
    assert {c["authorId"] for c in all_comments(invoke, "p1")} == {"alice", "bob"}


def test_without_a_key_each_post_is_a_new_comment(invoke: Invoke) -> None:
    post(invoke, {"pageId": "p1", "message": "hi"})
    post(invoke, {"pageId": "p1", "message": "hi"})
    assert len(all_comments(invoke, "p1")) == 2


@pytest.mark.parametrize("key", ["", "x" * 129, "has space", "caf\u00e9"])
def test_malformed_idempotency_key_is_400(invoke: Invoke, key: str) -> None:
    response = post(invoke, {"pageId": "p1", "message": "hi"}, key=key)
    assert response["statusCode"] == 400
    assert all_comments(invoke, "p1") == []


@pytest.mark.parametrize(
    "body",
    [
        "{",
        {"pageId": "p1"},
        {"pageId": "p1", "message": ""},
        {"pageId": "p1", "message": "x" * 2001},
        {"pageId": "p/1", "message": "hi"},
        {"pageId": "p1", "message": 5},
    ],
)
def test_bad_comment_bodies_are_400_and_store_nothing(invoke: Invoke, body: Any) -> None:
    response = post(invoke, body)
    assert response["statusCode"] == 400 and body_of(response)["message"]
    assert all_comments(invoke, "p1") == []
