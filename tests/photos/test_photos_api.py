"""The photos API through the real Powertools resolver, against moto's DynamoDB and S3."""

import base64
import calendar
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import photos.logic as logic
import pytest
import requests
from photos.dal import DynamoPhotoTable, S3PhotoStorage
from photos.models import PhotoRecord

from tests.photos.conftest import DISTRIBUTION, UPLOADS, Invoke, jpeg
from tests.support import body_of, load_event, physical_name

MAX_BYTES = 10 * 1024 * 1024
STAFF_ONLY = "Only store staff may do this: it needs the staff role"


def add_pet(pet_id: str = "rex") -> None:
    item = {"id": {"S": pet_id}, "name": {"S": "Rex"}, "species": {"S": "dog"}, "version": {"N": "1"}}
    boto3.client("dynamodb").put_item(TableName=physical_name("PetsTable"), Item=item)


def as_caller(event: dict[str, Any], groups: Any) -> dict[str, Any]:
    """The event as sent by a user of ``groups`` (as API Gateway passes the claim; None: no groups)."""
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    claims.pop("cognito:groups", None)
    if groups is not None:
        claims["cognito:groups"] = groups
    return event


def request_upload(
    invoke: Invoke, pet_id: str = "rex", body: Any = None, groups: Any = "[staff]"
) -> dict[str, Any]:
    event = as_caller(load_event("photos-request-upload"), groups)
    event["pathParameters"] = {"petId": pet_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/pets/{pet_id}/photos"
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return invoke("PhotosFunction", event)


def delete_photo(
    invoke: Invoke, photo_id: str, pet_id: str = "rex", groups: Any = "[staff]"
) -> dict[str, Any]:
    event = as_caller(load_event("photos-delete"), groups)
    event["pathParameters"] = {"petId": pet_id, "photoId": photo_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/pets/{pet_id}/photos/{photo_id}"
    return invoke("PhotosFunction", event)


def list_photos(invoke: Invoke, pet_id: str = "rex", **query: str) -> dict[str, Any]:
    event = load_event("photos-list")
    event["pathParameters"] = {"petId": pet_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/pets/{pet_id}/photos"
    event["queryStringParameters"] = query or None
    return invoke("PhotosFunction", event)


def one_photo_later(invoke: Invoke) -> str:
    """A new photo of rex, created strictly after the previous one (createdAt has milliseconds)."""
    time.sleep(0.002)
    photo_id: str = body_of(request_upload(invoke))["photoId"]
    return photo_id


def assert_json_error(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["statusCode"] == status, response
    assert response["headers"]["Content-Type"] == "application/json"
    assert "Traceback" not in response["body"]
    body = body_of(response)
    assert isinstance(body["message"], str) and body["message"]
    return body


def stored_photos(pet_id: str = "rex") -> list[dict[str, Any]]:
    """The pet's records as stored (every one, expired or not)."""
    response = boto3.client("dynamodb").query(
        TableName=physical_name("PhotosTable"),
        KeyConditionExpression="petId = :p",
        ExpressionAttributeValues={":p": {"S": pet_id}},
    )
    items: list[dict[str, Any]] = response["Items"]
    return items


# ---------------------------------------------------------------------- POST


def test_request_upload_event_gives_a_presigned_form_and_a_pending_photo(invoke: Invoke) -> None:
    add_pet()
    response = invoke("PhotosFunction", load_event("photos-request-upload"))
    assert response["statusCode"] == 201, response
    ticket = body_of(response)
    assert set(ticket) == {"photoId", "upload", "expiresIn", "maxBytes"}
    assert len(ticket["photoId"]) == 32 and int(ticket["photoId"], 16) >= 0
    assert (ticket["expiresIn"], ticket["maxBytes"]) == (300, MAX_BYTES)
    assert urlsplit(ticket["upload"]["url"]).hostname == f"{UPLOADS}.s3.us-east-1.amazonaws.com"
    fields = ticket["upload"]["fields"]
    assert fields["key"] == f"uploads/rex/{ticket['photoId']}"
    assert fields["Content-Type"] == "image/jpeg"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"  # SigV4: S3 refuses V2 on new buckets

    (item,) = stored_photos()
    assert item["status"] == {"S": "PENDING"} and item["photoId"] == {"S": ticket["photoId"]}
    assert item["contentType"] == {"S": "image/jpeg"} and "createdAt" in item


def test_the_form_bounds_size_type_key_and_time(invoke: Invoke) -> None:
    """moto accepts any POST; S3 enforces the signed policy, so the policy is what is checked."""
    add_pet()
    ticket = body_of(request_upload(invoke, body={"contentType": "image/webp"}))
    policy = json.loads(base64.b64decode(ticket["upload"]["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, MAX_BYTES] in conditions
    assert {"Content-Type": "image/webp"} in conditions
    assert {"bucket": UPLOADS} in conditions
    assert {"key": f"uploads/rex/{ticket['photoId']}"} in conditions
    expires = calendar.timegm(time.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ"))
    assert 290 <= expires - time.time() <= 301


def test_the_form_really_uploads_the_file(invoke: Invoke, s3: Any) -> None:
    add_pet()
    ticket = body_of(request_upload(invoke))
    data = jpeg((320, 240))
    upload = requests.post(
        ticket["upload"]["url"],
        data=ticket["upload"]["fields"],
        files={"file": ("rex.jpg", data, "image/jpeg")},
        timeout=10,
    )
    assert upload.status_code == 204, upload.text
    stored = s3.get_object(Bucket=UPLOADS, Key=f"uploads/rex/{ticket['photoId']}")
    assert stored["ContentType"] == "image/jpeg" and stored["Body"].read() == data


def test_each_request_is_a_new_photo(invoke: Invoke) -> None:
    add_pet()
    first, second = (body_of(request_upload(invoke))["photoId"] for _ in range(2))
    assert first != second and len(stored_photos()) == 2


def test_unknown_pet_is_404_and_stores_nothing(invoke: Invoke) -> None:
    body = assert_json_error(invoke("PhotosFunction", load_event("photos-request-upload")), 404)
    assert body["message"] == "pet 'rex' not found"
    assert stored_photos() == []


def test_invalid_event_is_400_naming_each_field(invoke: Invoke) -> None:
    add_pet()
    body = assert_json_error(invoke("PhotosFunction", load_event("photos-request-upload-invalid")), 400)
    assert {e["field"] for e in body["errors"]} == {"body.contentType", "body.fileName"}
    assert stored_photos() == []


@pytest.mark.parametrize(
    "body",
    [
        {"contentType": "image/gif"},
        {"contentType": "IMAGE/JPEG"},
        {"contentType": "image/svg+xml"},
        {"contentType": ["image/jpeg"]},
        {},
        {"contentType": "image/jpeg", "key": "uploads/other/x"},
        "[]",
        "{",
        "",
        '{"contentType": "image/jpeg", "contentType": "image/png"}',
    ],
    ids=lambda b: str(b)[:30],
)
def test_bad_bodies_are_400_and_store_nothing(invoke: Invoke, body: Any) -> None:
    add_pet()
    assert_json_error(request_upload(invoke, body=body), 400)
    assert stored_photos() == []


@pytest.mark.parametrize("pet_id", ["..", "a b", "x" * 65, "-lead", "caf\u00e9"])
def test_bad_pet_ids_are_400(invoke: Invoke, pet_id: str) -> None:
    assert_json_error(request_upload(invoke, pet_id=pet_id), 400)
    assert_json_error(list_photos(invoke, pet_id=pet_id), 400)


# ---------------------------------------------------------------------- GET


def test_list_event_with_no_photos_is_an_empty_page(invoke: Invoke) -> None:
    response = invoke("PhotosFunction", load_event("photos-list"))
    assert response["statusCode"] == 200
    assert body_of(response) == {"items": [], "nextToken": None}


def test_list_shows_pending_ready_and_failed_newest_first(invoke: Invoke) -> None:
    add_pet()
    pending, ready, failed = (one_photo_later(invoke) for _ in range(3))
    table = DynamoPhotoTable(physical_name("PhotosTable"))
    renditions = [
        {"key": f"photos/rex/{ready}/1024.jpg", "width": 1024, "height": 768, "contentType": "image/jpeg"},
        {"key": f"photos/rex/{ready}/256.jpg", "width": 256, "height": 192, "contentType": "image/jpeg"},
    ]
    table.mark_ready("rex", ready, 4000, 3000, renditions, "2030-01-01T00:00:00.000Z")
    table.mark_failed("rex", failed, "The image file is damaged or incomplete", "2030-01-01T00:00:01.000Z")

    body = body_of(list_photos(invoke))
    assert body["nextToken"] is None
    by_id = {photo["photoId"]: photo for photo in body["items"]}
    assert [p["photoId"] for p in body["items"]] == [failed, ready, pending]  # newest first

    assert by_id[pending]["status"] == "PENDING" and by_id[pending]["renditions"] == []
    assert by_id[pending]["reason"] is None and by_id[pending]["updatedAt"] is None

    assert by_id[failed]["status"] == "FAILED"
    assert by_id[failed]["reason"] == "The image file is damaged or incomplete"
    assert by_id[failed]["renditions"] == []

    photo = by_id[ready]
    assert (photo["status"], photo["width"], photo["height"]) == ("READY", 4000, 3000)
    assert photo["updatedAt"] == "2030-01-01T00:00:00.000Z" and photo["reason"] is None
    assert [(r["width"], r["height"], r["contentType"]) for r in photo["renditions"]] == [
        (1024, 768, "image/jpeg"),
        (256, 192, "image/jpeg"),
    ]
    url = urlsplit(photo["renditions"][0]["url"])
    assert url.hostname == f"{DISTRIBUTION}.s3.us-east-1.amazonaws.com"
    assert url.path == f"/photos/rex/{ready}/1024.jpg"
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["3600"] and query["X-Amz-Signature"]


def test_rendition_urls_fetch_the_rendition(invoke: Invoke, s3: Any) -> None:
    add_pet()
    photo_id = body_of(request_upload(invoke))["photoId"]
    key = f"photos/rex/{photo_id}/256.jpg"
    s3.put_object(Bucket=DISTRIBUTION, Key=key, Body=b"rendition bytes", ContentType="image/jpeg")
    rendition = {"key": key, "width": 256, "height": 192, "contentType": "image/jpeg"}
    DynamoPhotoTable(physical_name("PhotosTable")).mark_ready(
        "rex", photo_id, 256, 192, [rendition], "2030-01-01T00:00:00.000Z"
    )
    (photo,) = body_of(list_photos(invoke))["items"]
    fetched = requests.get(photo["renditions"][0]["url"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == b"rendition bytes"


def test_list_pages_through_a_pets_photos_only(invoke: Invoke) -> None:
    add_pet("rex")
    add_pet("tom")
    posted = [body_of(request_upload(invoke, "rex"))["photoId"] for _ in range(5)]
    request_upload(invoke, "tom")
    seen: list[str] = []
    token = None
    for _ in range(5):
        page = body_of(list_photos(invoke, "rex", limit="2", **({"nextToken": token} if token else {})))
        assert len(page["items"]) <= 2
        seen += [photo["photoId"] for photo in page["items"]]
        token = page["nextToken"]
        if not token:
            break
    assert sorted(seen) == sorted(posted) and len(seen) == 5


def test_api_v1_lists_a_bare_array_and_refuses_more_than_a_page(invoke: Invoke) -> None:
    add_pet()
    for _ in range(3):
        request_upload(invoke)
    event = load_event("photos-list")
    event["stageVariables"] = {"apiVersion": "v1"}
    photos = body_of(invoke("PhotosFunction", event))
    assert isinstance(photos, list) and len(photos) == 3
    event["queryStringParameters"] = {"limit": "2"}
    assert "Too many results" in assert_json_error(invoke("PhotosFunction", event), 400)["message"]


def test_next_token_of_another_pet_is_400(invoke: Invoke) -> None:
    add_pet("rex")
    for _ in range(2):
        request_upload(invoke, "rex")
    token = body_of(list_photos(invoke, "rex", limit="1"))["nextToken"]
    body = assert_json_error(list_photos(invoke, "tom", nextToken=token), 400)
    assert "another pet" in body["message"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "many"},
        {"nextToken": "garbage!"},
        {"nextToken": base64.urlsafe_b64encode(b'{"petId": "rex", "photoId": "x"}').decode()},
    ],
)
def test_bad_list_parameters_are_400(invoke: Invoke, query: dict[str, str]) -> None:
    assert_json_error(list_photos(invoke, **query), 400)


def test_other_methods_are_refused_as_json(invoke: Invoke) -> None:
    event = load_event("photos-list")
    event["requestContext"]["http"]["method"] = "DELETE"
    assert invoke("PhotosFunction", event)["statusCode"] in (404, 405)


# ---------------------------------------------------------------------- staff only, and the pet check


@pytest.mark.parametrize("groups", [None, "[]", "[customers]", "[staffers other]", ["customers"]], ids=repr)
def test_only_staff_may_request_an_upload(invoke: Invoke, groups: Any) -> None:
    add_pet()
    body = assert_json_error(request_upload(invoke, groups=groups), 403)
    assert body["message"] == STAFF_ONLY
    assert stored_photos() == []


@pytest.mark.parametrize("groups", ["[staff]", "[other staff]", ["staff"]], ids=repr)
def test_staff_may_request_an_upload_however_the_groups_claim_comes(invoke: Invoke, groups: Any) -> None:
    add_pet()
    assert request_upload(invoke, groups=groups)["statusCode"] == 201
    assert len(stored_photos()) == 1


def test_a_customer_is_refused_before_the_pet_is_looked_up(invoke: Invoke) -> None:
    assert_json_error(request_upload(invoke, "nobody", groups="[customers]"), 403)
    assert stored_photos("nobody") == []


def test_the_record_is_written_in_one_transaction_that_checks_the_pet(invoke: Invoke) -> None:
    """No separate read of the pets table: a ConditionCheck in the same transaction as the Put."""
    add_pet()
    request_upload(invoke)  # the handler module is imported, its client made
    import photos.handler as handler

    calls: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params))

    table = handler.photos.table
    assert isinstance(table, DynamoPhotoTable)
    events = table.client.meta.events
    events.register("before-parameter-build.dynamodb", record)
    try:
        assert request_upload(invoke)["statusCode"] == 201
        assert_json_error(request_upload(invoke, "gone"), 404)
    finally:
        events.unregister("before-parameter-build.dynamodb", record)
    assert [name for name, _ in calls] == ["TransactWriteItems", "TransactWriteItems"]
    check, put = calls[1][1]["TransactItems"]
    assert check["ConditionCheck"]["TableName"] == physical_name("PetsTable")
    assert check["ConditionCheck"]["Key"] == {"id": {"S": "gone"}}
    assert check["ConditionCheck"]["ConditionExpression"] == "attribute_exists(id)"
    assert put["Put"]["TableName"] == physical_name("PhotosTable")
    assert stored_photos("gone") == []


def test_a_pet_deleted_before_the_upload_request_gets_no_photo(invoke: Invoke) -> None:
    add_pet()
    boto3.client("dynamodb").delete_item(TableName=physical_name("PetsTable"), Key={"id": {"S": "rex"}})
    body = assert_json_error(request_upload(invoke), 404)
    assert body["message"] == "pet 'rex' not found"
    assert stored_photos() == []


# ---------------------------------------------------------------------- unused forms expire


class Clock:
    """The photo service's clock (``logic.epoch_seconds``), moved by the test: no sleeping."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: int = 1_800_000_000) -> None:
        self.now = now
        monkeypatch.setattr(logic, "epoch_seconds", lambda: self.now)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def listed_ids(invoke: Invoke, pet_id: str = "rex") -> list[str]:
    """Every listed photo id, following nextToken to the end (pages of 1: short pages show)."""
    seen: list[str] = []
    token = None
    for _ in range(50):
        page = body_of(list_photos(invoke, pet_id, limit="1", **({"nextToken": token} if token else {})))
        seen += [photo["photoId"] for photo in page["items"]]
        token = page["nextToken"]
        if not token:
            return seen
    raise AssertionError("nextToken never ended")


def test_a_pending_record_expires_with_its_form_plus_the_grace_period(invoke: Invoke, clock: Clock) -> None:
    add_pet()
    ticket = body_of(request_upload(invoke))
    (item,) = stored_photos()
    form_expiry = clock.now + ticket["expiresIn"]
    assert int(item["expiresAt"]["N"]) == form_expiry + logic.PENDING_GRACE_SECONDS
    assert logic.PENDING_GRACE_SECONDS >= 3600  # the pipeline's start rule retries for an hour


def test_an_expired_form_hides_its_pending_photo_from_the_list(invoke: Invoke, clock: Clock) -> None:
    add_pet()
    photo_id = one_photo_later(invoke)
    clock.now += logic.UPLOAD_FORM_SECONDS - 1
    assert listed_ids(invoke) == [photo_id]
    clock.now += 1  # the form has expired: nobody can upload with it any more
    assert listed_ids(invoke) == []
    assert body_of(list_photos(invoke)) == {"items": [], "nextToken": None}
    assert len(stored_photos()) == 1  # DynamoDB's TTL deletes it later; the list does not wait


def test_ready_and_failed_photos_lose_expires_at_and_stay_listed(invoke: Invoke, clock: Clock) -> None:
    add_pet()
    ready, failed, pending = (one_photo_later(invoke) for _ in range(3))
    table = DynamoPhotoTable(physical_name("PhotosTable"))
    rendition = {
        "key": f"photos/rex/{ready}/256.jpg",
        "width": 256,
        "height": 192,
        "contentType": "image/jpeg",
    }
    table.mark_ready("rex", ready, 256, 192, [rendition], "2030-01-01T00:00:00.000Z")
    table.mark_failed("rex", failed, "The file is empty", "2030-01-01T00:00:01.000Z")
    stored = {item["photoId"]["S"]: item for item in stored_photos()}
    assert "expiresAt" not in stored[ready] and "expiresAt" not in stored[failed]
    assert "expiresAt" in stored[pending]
    clock.now += 10 * 365 * 24 * 3600
    assert listed_ids(invoke) == [failed, ready]


def test_filtering_makes_pages_short_but_never_skips_a_photo(invoke: Invoke, clock: Clock) -> None:
    """One Query per page: an expired record filtered out leaves its page short (or empty), and the
    nextToken still leads to every visible photo."""
    add_pet()
    old = [one_photo_later(invoke) for _ in range(3)]
    clock.now += logic.UPLOAD_FORM_SECONDS  # these three forms have expired
    fresh = one_photo_later(invoke)
    table = DynamoPhotoTable(physical_name("PhotosTable"))
    table.mark_failed("rex", old[1], "The file is empty", "2030-01-01T00:00:00.000Z")
    assert listed_ids(invoke) == [fresh, old[1]]
    first = body_of(list_photos(invoke, limit="2"))
    assert [photo["photoId"] for photo in first["items"]] == [fresh] and first["nextToken"]
    second = body_of(list_photos(invoke, limit="2", nextToken=first["nextToken"]))
    assert [photo["photoId"] for photo in second["items"]] == [old[1]]


def test_the_v1_list_hides_expired_forms_too(invoke: Invoke, clock: Clock) -> None:
    add_pet()
    one_photo_later(invoke)
    clock.now += logic.UPLOAD_FORM_SECONDS
    event = load_event("photos-list")
    event["stageVariables"] = {"apiVersion": "v1"}
    assert body_of(invoke("PhotosFunction", event)) == []


# ---------------------------------------------------------------------- DELETE


def ready_photo_with_objects(invoke: Invoke, s3: Any) -> tuple[str, list[str]]:
    """A READY photo of rex with its upload and two renditions in the buckets."""
    photo_id = one_photo_later(invoke)
    s3.put_object(Bucket=UPLOADS, Key=f"uploads/rex/{photo_id}", Body=jpeg((64, 48)))
    renditions: list[dict[str, Any]] = []
    for width in (1024, 256):
        key = f"photos/rex/{photo_id}/{width}.jpg"
        s3.put_object(Bucket=DISTRIBUTION, Key=key, Body=b"rendition", ContentType="image/jpeg")
        renditions.append({"key": key, "width": width, "height": width, "contentType": "image/jpeg"})
    DynamoPhotoTable(physical_name("PhotosTable")).mark_ready(
        "rex", photo_id, 2048, 2048, renditions, "2030-01-01T00:00:00.000Z"
    )
    return photo_id, [str(r["key"]) for r in renditions]


def keys_in(s3: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_staff_delete_a_photo_with_its_upload_and_renditions(invoke: Invoke, s3: Any) -> None:
    add_pet()
    photo_id, renditions = ready_photo_with_objects(invoke, s3)
    other, other_renditions = ready_photo_with_objects(invoke, s3)
    response = delete_photo(invoke, photo_id)
    assert response["statusCode"] == 204 and not response.get("body")
    assert [item["photoId"]["S"] for item in stored_photos()] == [other]
    assert keys_in(s3, UPLOADS) == {f"uploads/rex/{other}"}
    assert keys_in(s3, DISTRIBUTION) == set(other_renditions)
    assert [photo["photoId"] for photo in body_of(list_photos(invoke))["items"]] == [other]
    assert not set(renditions) & keys_in(s3, DISTRIBUTION)


def test_delete_sample_event_deletes_the_documented_photo(invoke: Invoke) -> None:
    event = load_event("photos-delete")
    photo_id = event["pathParameters"]["photoId"]
    item = {"petId": "rex", "photoId": photo_id, "status": "PENDING", "contentType": "image/jpeg"}
    DynamoPhotoTable(physical_name("PhotosTable")).client.put_item(
        TableName=physical_name("PhotosTable"),
        Item={**{k: {"S": v} for k, v in item.items()}, "createdAt": {"S": "2026-11-22T04:30:00.000Z"}},
    )
    assert invoke("PhotosFunction", event)["statusCode"] == 204
    assert stored_photos() == []


def test_deleting_an_absent_photo_is_404(invoke: Invoke, s3: Any) -> None:
    add_pet()
    photo_id, _ = ready_photo_with_objects(invoke, s3)
    assert delete_photo(invoke, photo_id)["statusCode"] == 204
    body = assert_json_error(delete_photo(invoke, photo_id), 404)
    assert body["message"] == f"photo '{photo_id}' of pet 'rex' not found"
    assert_json_error(delete_photo(invoke, photo_id, pet_id="tom"), 404)  # another pet's id


@pytest.mark.parametrize("groups", [None, "[customers]"], ids=repr)
def test_only_staff_may_delete_a_photo(invoke: Invoke, s3: Any, groups: Any) -> None:
    add_pet()
    photo_id, renditions = ready_photo_with_objects(invoke, s3)
    body = assert_json_error(delete_photo(invoke, photo_id, groups=groups), 403)
    assert body["message"] == STAFF_ONLY
    assert len(stored_photos()) == 1 and keys_in(s3, DISTRIBUTION) == set(renditions)


@pytest.mark.parametrize("photo_id", ["x", "3F2B8C1D9E7A4B6C8D0E1F2A3B4C5D6E", "0" * 31, "0" * 33])
def test_a_malformed_photo_id_is_400(invoke: Invoke, photo_id: str) -> None:
    assert_json_error(delete_photo(invoke, photo_id), 400)


def test_a_retry_after_a_partial_failure_finishes_the_delete(
    invoke: Invoke, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_pet()
    photo_id, renditions = ready_photo_with_objects(invoke, s3)
    original = S3PhotoStorage.delete_rendition

    def fail_on_the_last(self: S3PhotoStorage, key: str) -> None:
        if key == renditions[-1]:
            raise ConnectionError("S3 went away")
        original(self, key)

    monkeypatch.setattr(S3PhotoStorage, "delete_rendition", fail_on_the_last)
    assert_json_error(delete_photo(invoke, photo_id), 500)
    assert len(stored_photos()) == 1  # the record is deleted last: a retry finds the keys
    monkeypatch.setattr(S3PhotoStorage, "delete_rendition", original)
    assert delete_photo(invoke, photo_id)["statusCode"] == 204
    assert stored_photos() == [] and keys_in(s3, UPLOADS) == set() and keys_in(s3, DISTRIBUTION) == set()


def test_renditions_published_while_deleting_are_deleted_too(invoke: Invoke, s3: Any) -> None:
    """The photo is read PENDING, then published before its record is deleted: the record's last
    state (returned by the deletion) names the renditions, and they go too."""
    add_pet()
    photo_id, renditions = ready_photo_with_objects(invoke, s3)
    table = DynamoPhotoTable(physical_name("PhotosTable"))
    stored = table.get("rex", photo_id)
    assert stored and keys_in(s3, DISTRIBUTION) == set(renditions)
    as_read = PhotoRecord.model_validate({**stored, "status": "PENDING", "renditions": []})
    storage = S3PhotoStorage(UPLOADS, DISTRIBUTION, s3)
    assert logic.discard(as_read, table, storage) is True
    assert stored_photos() == [] and keys_in(s3, DISTRIBUTION) == set()
    assert logic.discard(as_read, table, storage) is False  # already gone: nothing to do


def test_uploading_and_deleting_are_documented_as_staff_only(invoke: Invoke) -> None:
    invoke("PhotosFunction", load_event("photos-list"))  # the handler module is imported
    import photos.handler as handler

    paths = json.loads(handler.app.get_openapi_json_schema())["paths"]
    upload, listing = paths["/pets/{petId}/photos"]["post"], paths["/pets/{petId}/photos"]["get"]
    delete = paths["/pets/{petId}/photos/{photoId}"]["delete"]
    assert upload["x-required-group"] == delete["x-required-group"] == "staff"
    assert "x-required-group" not in listing
    assert {"201", "400", "403", "404"} <= set(upload["responses"])
    assert {"204", "400", "403", "404"} <= set(delete["responses"])
    assert "short" in listing["description"] or "fewer than" in listing["description"]
