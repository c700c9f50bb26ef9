"""Comments handler through the real Powertools resolver, against moto DynamoDB.

A comment's page is a pet, so each test first adds the pets it comments on (``add_pet``); the
author's name comes from their profile (ProfilesFunction's PUT /me). The PetDeleted subscriber,
CommentsCleanupFunction, is at the end.
"""

import json
import sys
import uuid
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from tests.services.conftest import Invoke
from tests.support import add_pet, body_of, load_event, physical_name

SUB = load_event("comments-post")["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
DEFAULT_AUTHOR_NAME = "Customer"  # comments.logic.DEFAULT_AUTHOR_NAME
STAFF = {"sub": "staff-1", "cognito:groups": "[staff]", "token_use": "access"}  # as API Gateway passes it


@pytest.fixture
def pets(aws: None) -> None:
    for pet_id in ("rex", "p1", "p2", "other"):
        add_pet(pet_id)


def claims_of(sub: str, **more: Any) -> dict[str, Any]:
    return {"sub": sub, "username": sub, "token_use": "access", **more}


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


def delete(invoke: Invoke, page_id: str, comment_id: str, claims: dict[str, Any]) -> dict[str, Any]:
    event = load_event("comments-delete")
    event["pathParameters"] = {"pageId": page_id, "commentId": comment_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/comments/{page_id}/{comment_id}"
    event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    return invoke("CommentsFunction", event)


def set_display_name(invoke: Invoke, claims: dict[str, Any], name: str) -> None:
    event = load_event("profiles-put")
    event["body"] = json.dumps({"displayName": name})
    event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    assert invoke("ProfilesFunction", event)["statusCode"] == 200


# ---------------------------------------------------------------------- post and list


def test_events_post_and_list(invoke: Invoke, pets: None) -> None:
    response = invoke("CommentsFunction", load_event("comments-post"))
    assert response["statusCode"] == 201
    comment = body_of(response)
    assert comment["authorId"] == SUB and comment["pageId"] == "rex"
    listed = invoke("CommentsFunction", load_event("comments-list"))
    assert body_of(listed) == {"items": [comment], "nextToken": None}


def test_invalid_event_is_400_naming_fields_and_author_cannot_be_given(invoke: Invoke, pets: None) -> None:
    response = invoke("CommentsFunction", load_event("comments-post-invalid"))
    assert response["statusCode"] == 400
    fields = {e["field"] for e in body_of(response)["errors"]}
    assert fields == {"body.pageId", "body.message", "body.authorId"}
    assert all_comments(invoke, "rex") == []


def test_author_name_is_the_display_name_of_their_profile_when_they_write(invoke: Invoke, pets: None) -> None:
    claims = claims_of("user-123", email="ada@example.com")
    set_display_name(invoke, claims, "Ada L.")
    first = body_of(post(invoke, {"pageId": "p1", "message": "hi"}, claims=claims))
    assert (first["authorId"], first["authorName"]) == ("user-123", "Ada L.")
    set_display_name(invoke, claims, "Ada Lovelace")
    second = body_of(post(invoke, {"pageId": "p1", "message": "again"}, claims=claims))
    assert second["authorName"] == "Ada Lovelace"
    names = {c["commentId"]: c["authorName"] for c in all_comments(invoke, "p1")}
    assert names == {first["commentId"]: "Ada L.", second["commentId"]: "Ada Lovelace"}


def test_without_a_profile_the_author_name_is_neutral_never_email_or_user_id(
    invoke: Invoke, pets: None
) -> None:
    sub = str(uuid.uuid4())
    claims = claims_of(sub, email="ada@example.com", **{"cognito:username": sub})
    comment = body_of(post(invoke, {"pageId": "p1", "message": "hi"}, claims=claims))
    assert comment["authorId"] == sub and comment["authorName"] == DEFAULT_AUTHOR_NAME
    stored = json.dumps(all_comments(invoke, "p1"))
    assert "ada@example.com" not in stored and stored.count(sub) == 1  # the authorId, nowhere else


def test_another_users_profile_is_not_used(invoke: Invoke, pets: None) -> None:
    set_display_name(invoke, claims_of("alice"), "Alice")
    comment = body_of(post(invoke, {"pageId": "p1", "message": "hi"}, claims=claims_of("bob")))
    assert comment["authorName"] == DEFAULT_AUTHOR_NAME


def test_no_identity_is_401(invoke: Invoke, pets: None) -> None:
    response = post(invoke, {"pageId": "p1", "message": "hi"}, claims={})
    assert response["statusCode"] == 401 and body_of(response)["message"]
    assert all_comments(invoke, "p1") == []


def test_a_comment_on_a_pet_that_does_not_exist_is_404_and_stores_nothing(invoke: Invoke, aws: None) -> None:
    response = post(invoke, {"pageId": "ghost", "message": "hello?"})
    assert response["statusCode"] == 404
    assert body_of(response)["message"] == "pet 'ghost' not found"
    assert all_comments(invoke, "ghost") == []


def test_a_404_does_not_use_up_the_idempotency_key(invoke: Invoke, aws: None) -> None:
    assert post(invoke, {"pageId": "ghost", "message": "first!"}, key="k-404")["statusCode"] == 404
    add_pet("ghost")
    retry = post(invoke, {"pageId": "ghost", "message": "first!"}, key="k-404")
    assert retry["statusCode"] == 201, retry
    assert [c["commentId"] for c in all_comments(invoke, "ghost")] == [body_of(retry)["commentId"]]


def test_newest_first_paginated_with_one_query_per_page(invoke: Invoke, pets: None) -> None:
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


def test_next_token_of_another_page_is_400(invoke: Invoke, pets: None) -> None:
    for n in range(3):
        post(invoke, {"pageId": "p1", "message": f"m{n}"})
    token = body_of(page(invoke, "p1", limit="1"))["nextToken"]
    response = page(invoke, "p2", nextToken=token)
    assert response["statusCode"] == 400 and "another page" in body_of(response)["message"]


def test_idempotency_key_makes_a_retry_return_the_first_comment(invoke: Invoke, pets: None) -> None:
    first = post(invoke, {"pageId": "p1", "message": "once"}, key="key-1")
    retry = post(invoke, {"pageId": "p1", "message": "once"}, key="key-1")
    assert first["statusCode"] == retry["statusCode"] == 201
    assert body_of(first) == body_of(retry)
    assert len(all_comments(invoke, "p1")) == 1


def test_idempotency_key_reused_for_another_comment_is_409(invoke: Invoke, pets: None) -> None:
    post(invoke, {"pageId": "p1", "message": "once"}, key="key-1")
    response = post(invoke, {"pageId": "p1", "message": "something else"}, key="key-1")
    assert response["statusCode"] == 409 and "Idempotency-Key" in body_of(response)["message"]
    assert len(all_comments(invoke, "p1")) == 1


def test_same_key_from_two_users_makes_two_comments(invoke: Invoke, pets: None) -> None:
    post(invoke, {"pageId": "p1", "message": "hi"}, key="shared", claims=claims_of("alice"))
    post(invoke, {"pageId": "p1", "message": "hi"}, key="shared", claims=claims_of("bob"))
    assert {c["authorId"] for c in all_comments(invoke, "p1")} == {"alice", "bob"}


def test_without_a_key_each_post_is_a_new_comment(invoke: Invoke, pets: None) -> None:
    post(invoke, {"pageId": "p1", "message": "hi"})
    post(invoke, {"pageId": "p1", "message": "hi"})
    assert len(all_comments(invoke, "p1")) == 2


@pytest.mark.parametrize("key", ["", "x" * 129, "has space", "caf\u00e9"])
def test_malformed_idempotency_key_is_400(invoke: Invoke, pets: None, key: str) -> None:
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
def test_bad_comment_bodies_are_400_and_store_nothing(invoke: Invoke, pets: None, body: Any) -> None:
    response = post(invoke, body)
    assert response["statusCode"] == 400 and body_of(response)["message"]
    assert all_comments(invoke, "p1") == []


# ---------------------------------------------------------------------- moderation


def posted_by(invoke: Invoke, sub: str, message: str = "hi") -> dict[str, Any]:
    response = post(invoke, {"pageId": "p1", "message": message}, claims=claims_of(sub))
    assert response["statusCode"] == 201, response
    return dict(body_of(response))


def test_the_author_deletes_their_comment(invoke: Invoke, pets: None) -> None:
    mine, kept = posted_by(invoke, "alice"), posted_by(invoke, "alice", "keep")
    response = delete(invoke, "p1", mine["commentId"], claims_of("alice"))
    assert response["statusCode"] == 204 and not response.get("body")
    assert [c["commentId"] for c in all_comments(invoke, "p1")] == [kept["commentId"]]
    again = delete(invoke, "p1", mine["commentId"], claims_of("alice"))
    assert again["statusCode"] == 404 and "not found" in body_of(again)["message"]


def test_staff_delete_anyones_comment(invoke: Invoke, pets: None) -> None:
    theirs = posted_by(invoke, "alice")
    assert delete(invoke, "p1", theirs["commentId"], STAFF)["statusCode"] == 204
    assert all_comments(invoke, "p1") == []


def test_another_customer_is_refused_with_403_and_the_comment_stays(invoke: Invoke, pets: None) -> None:
    theirs = posted_by(invoke, "alice")
    for claims in (claims_of("bob"), claims_of("bob", **{"cognito:groups": "[customers]"})):
        response = delete(invoke, "p1", theirs["commentId"], claims)
        assert response["statusCode"] == 403
        assert response["headers"]["Content-Type"] == "application/json"
        assert "author or store staff" in body_of(response)["message"]
    assert [c["commentId"] for c in all_comments(invoke, "p1")] == [theirs["commentId"]]


def test_deleting_an_absent_comment_is_404_for_anyone(invoke: Invoke, pets: None) -> None:
    theirs = posted_by(invoke, "alice")
    for claims in (claims_of("alice"), claims_of("bob"), STAFF):
        absent = delete(invoke, "p1", uuid.uuid4().hex, claims)
        assert absent["statusCode"] == 404 and body_of(absent)["message"]
        elsewhere = delete(invoke, "p2", theirs["commentId"], claims)  # the right id on another page
        assert elsewhere["statusCode"] == 404
    assert len(all_comments(invoke, "p1")) == 1


@pytest.mark.parametrize("comment_id", ["not-hex", "A" * 32, "0" * 31])
def test_a_malformed_comment_id_is_400(invoke: Invoke, pets: None, comment_id: str) -> None:
    response = delete(invoke, "p1", comment_id, STAFF)
    assert response["statusCode"] == 400 and "commentId" in body_of(response)["message"]


def test_deleting_without_identity_is_401(invoke: Invoke, pets: None) -> None:
    theirs = posted_by(invoke, "alice")
    assert delete(invoke, "p1", theirs["commentId"], {})["statusCode"] == 401
    assert len(all_comments(invoke, "p1")) == 1


# ---------------------------------------------------------------------- PetDeleted cleanup


def seed_comments(page_id: str, created: list[str]) -> list[str]:
    """Comments written at the given instants (as POST /comments stores them); their sort keys."""
    client = boto3.client("dynamodb")
    keys = []
    for number, created_at in enumerate(created):
        comment_id = uuid.uuid4().hex
        keys.append(f"{created_at}#{comment_id}")
        client.put_item(
            TableName=physical_name("CommentsTable"),
            Item={
                "pageId": {"S": page_id},
                "sortKey": {"S": keys[-1]},
                "commentId": {"S": comment_id},
                "message": {"S": f"comment {number}"},
                "authorId": {"S": "alice"},
                "authorName": {"S": "Alice"},
                "createdAt": {"S": created_at},
            },
        )
    return keys


def at(second: int, millisecond: int = 0) -> str:
    return f"2026-11-22T05:{second // 60:02d}:{second % 60:02d}.{millisecond:03d}Z"


def pet_deleted(pet_id: str, deleted_at: str) -> dict[str, Any]:
    event = load_event("comments-pet-deleted")
    event["detail"] = {"petId": pet_id, "version": 3, "deletedAt": deleted_at}
    return event


def test_the_sample_event_runs(invoke: Invoke, aws: None) -> None:
    result = invoke("CommentsCleanupFunction", load_event("comments-pet-deleted"))
    assert result == {"petId": "rex", "deletedComments": 0}


def test_cleanup_deletes_the_comments_written_up_to_the_deletion_and_is_idempotent(
    invoke: Invoke, aws: None
) -> None:
    before = [at(second) for second in range(60)]  # more than two BatchWriteItem batches of 25
    seed_comments("rex", before)
    seed_comments("rex", [at(59)])  # at the very millisecond of the deletion: written before it
    recreated = seed_comments("rex", [at(59, 1), at(61), at(3600)])  # the pet re-created since
    others = seed_comments("tom", [at(1), at(30)])
    event = pet_deleted("rex", at(59))

    assert invoke("CommentsCleanupFunction", event) == {"petId": "rex", "deletedComments": 61}
    remaining = {c["createdAt"] for c in all_comments(invoke, "rex")}
    assert remaining == {key.split("#")[0] for key in recreated}
    assert len(all_comments(invoke, "tom")) == len(others)

    assert invoke("CommentsCleanupFunction", event) == {"petId": "rex", "deletedComments": 0}
    assert len(all_comments(invoke, "rex")) == len(recreated)


def test_cleanup_logs_one_line_with_the_count(
    invoke: Invoke, aws: None, caplog: pytest.LogCaptureFixture
) -> None:
    from comments import events

    seed_comments("rex", [at(1), at(2)])
    level = events.logger.log_level
    events.logger.setLevel("INFO")
    try:
        invoke("CommentsCleanupFunction", pet_deleted("rex", at(2)))
    finally:
        events.logger.setLevel(level)
    (line,) = [record for record in caplog.records if record.name == events.logger.name]
    assert line.getMessage() == "deleted 2 comments of deleted pet 'rex'"
    assert line.deletedComments == 2 and line.deletedAt == at(2)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "detail",
    [
        {"petId": "rex", "version": 3},
        {"petId": "rex", "version": 3, "deletedAt": "2026-11-22T05:00:00+00:00"},
        {"petId": "rex", "version": 3, "deletedAt": "2026-11-22T05:00:00.000Z#\uffff"},
        {"petId": "re/x", "version": 3, "deletedAt": "2026-11-22T05:00:00.000Z"},
        {"petId": "rex", "version": "3", "deletedAt": "2026-11-22T05:00:00.000Z"},
    ],
)
def test_a_malformed_event_raises_so_it_is_retried_and_kept(
    invoke: Invoke, aws: None, detail: dict[str, Any]
) -> None:
    seed_comments("rex", [at(1)])
    event = load_event("comments-pet-deleted")
    event["detail"] = detail
    with pytest.raises(ValidationError):
        invoke("CommentsCleanupFunction", event)
    assert len(all_comments(invoke, "rex")) == 1


def test_an_event_of_another_kind_raises(invoke: Invoke, aws: None) -> None:
    event = {**load_event("comments-pet-deleted"), "detail-type": "PetCreated"}
    with pytest.raises(ValidationError):
        invoke("CommentsCleanupFunction", event)


class Throttled:
    """A DynamoDB client that leaves some of each BatchWriteItem unprocessed, as DynamoDB may."""

    def __init__(self, client: Any, processed_per_call: int | None) -> None:
        self.client = client
        self.processed_per_call = processed_per_call
        self.batch_calls = 0

    def query(self, **kwargs: Any) -> Any:
        return self.client.query(**kwargs)

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        self.batch_calls += 1
        ((table, requests),) = RequestItems.items()
        count = 0 if self.processed_per_call is None else self.processed_per_call
        if requests[:count]:
            self.client.batch_write_item(RequestItems={table: requests[:count]})
        return {"UnprocessedItems": {table: requests[count:]} if requests[count:] else {}}


def test_unprocessed_deletes_are_retried(aws: None) -> None:
    from comments.dal import DynamoCommentCleaner

    seed_comments("rex", [at(second) for second in range(30)])
    client = Throttled(boto3.client("dynamodb"), processed_per_call=10)
    pauses: list[float] = []
    cleaner = DynamoCommentCleaner(physical_name("CommentsTable"), client, sleep=pauses.append)
    assert cleaner.delete_up_to("rex", at(29) + "#\uffff") == 30
    assert client.batch_calls == 3 + 1  # 25 = 10 + 10 + 5, then 5
    assert pauses and all(0 < pause <= 1 for pause in pauses)
    assert (
        boto3.client("dynamodb").query(
            TableName=physical_name("CommentsTable"),
            KeyConditionExpression="pageId = :p",
            ExpressionAttributeValues={":p": {"S": "rex"}},
        )["Items"]
        == []
    )


def test_deletes_still_unprocessed_after_every_attempt_fail_the_invocation(aws: None) -> None:
    from comments.dal import BATCH_ATTEMPTS, DynamoCommentCleaner, UnprocessedDeletes

    seed_comments("rex", [at(1)])
    client = Throttled(boto3.client("dynamodb"), processed_per_call=None)
    cleaner = DynamoCommentCleaner(physical_name("CommentsTable"), client, sleep=lambda _: None)
    with pytest.raises(UnprocessedDeletes):
        cleaner.delete_up_to("rex", at(1) + "#\uffff")
    assert client.batch_calls == BATCH_ATTEMPTS


class Conflicting:
    """A DynamoDB client whose transactions DynamoDB cancels: the pet was being written meanwhile."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def transact_write_items(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        error: Any = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
        reasons: Any = [{"Code": "TransactionConflict"}, {"Code": "None"}]
        raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")


def test_a_pet_written_at_the_same_moment_is_a_409_to_retry_not_a_500(
    invoke: Invoke, pets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert post(invoke, {"pageId": "rex", "message": "first"})["statusCode"] == 201  # imports the handler
    table = sys.modules["comments.handler"].comments.table
    monkeypatch.setattr(table, "client", Conflicting(table.client))
    response = post(invoke, {"pageId": "rex", "message": "second"})
    assert response["statusCode"] == 409
    assert body_of(response)["message"] == "pet 'rex' was being changed at the same moment: retry"
