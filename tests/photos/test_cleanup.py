"""PhotosCleanupFunction: on PetDeleted, a deleted pet's photos go, with their uploads and renditions.

The function is invoked as EventBridge invokes it, with the environment template.yaml gives it,
against moto's DynamoDB and S3; photos are made through the API function and the pipeline's table
code, as they are in the stack.
"""

import json
from typing import Any

import boto3
import photos.dal as dal
import photos.events as events
import pytest
from photos.dal import DynamoPhotoTable
from store_common.catalogue import utc_now

from tests.photos.conftest import DISTRIBUTION, UPLOADS, Invoke
from tests.support import body_of, load_event, physical_name

CLEANUP = "PhotosCleanupFunction"


def add_pet(pet_id: str) -> None:
    item = {"id": {"S": pet_id}, "name": {"S": "Rex"}, "species": {"S": "dog"}, "version": {"N": "1"}}
    boto3.client("dynamodb").put_item(TableName=physical_name("PetsTable"), Item=item)


def new_photo(invoke: Invoke, s3: Any, pet_id: str, status: str = "PENDING") -> str:
    """A photo of the pet in ``status``, with its upload and (READY) two renditions in the buckets."""
    event = load_event("photos-request-upload")
    event["pathParameters"] = {"petId": pet_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/pets/{pet_id}/photos"
    response = invoke("PhotosFunction", event)
    assert response["statusCode"] == 201, response
    photo_id: str = body_of(response)["photoId"]
    s3.put_object(Bucket=UPLOADS, Key=f"uploads/{pet_id}/{photo_id}", Body=b"upload")
    table = DynamoPhotoTable(physical_name("PhotosTable"))
    if status == "READY":
        renditions: list[dict[str, Any]] = []
        for width in (1024, 256):
            key = f"photos/{pet_id}/{photo_id}/{width}.jpg"
            s3.put_object(Bucket=DISTRIBUTION, Key=key, Body=b"rendition")
            renditions.append({"key": key, "width": width, "height": width, "contentType": "image/jpeg"})
        table.mark_ready(pet_id, photo_id, 2048, 2048, renditions, utc_now())
    elif status == "FAILED":
        table.mark_failed(pet_id, photo_id, "The file is empty", utc_now())
    return photo_id


def pet_deleted(pet_id: str, deleted_at: str, version: int = 3) -> dict[str, Any]:
    event = load_event("photos-pet-deleted")
    event["detail"] = {"petId": pet_id, "version": version, "deletedAt": deleted_at}
    return event


def photo_ids(pet_id: str) -> set[str]:
    response = boto3.client("dynamodb").query(
        TableName=physical_name("PhotosTable"),
        KeyConditionExpression="petId = :p",
        ExpressionAttributeValues={":p": {"S": pet_id}},
    )
    return {item["photoId"]["S"] for item in response["Items"]}


def keys_in(s3: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def objects_of(s3: Any, pet_id: str, photo_id: str) -> set[str]:
    return {
        key
        for key in keys_in(s3, UPLOADS) | keys_in(s3, DISTRIBUTION)
        if key.startswith((f"uploads/{pet_id}/{photo_id}", f"photos/{pet_id}/{photo_id}/"))
    }


def test_a_deleted_pets_photos_go_with_their_objects_and_other_pets_keep_theirs(
    invoke: Invoke, s3: Any
) -> None:
    add_pet("rex")
    add_pet("tom")
    rex = {new_photo(invoke, s3, "rex", status) for status in ("PENDING", "READY", "FAILED")}
    tom = new_photo(invoke, s3, "tom", "READY")
    result = invoke(CLEANUP, pet_deleted("rex", utc_now()))
    assert result["photosDeleted"] == 3 and result["petId"] == "rex"
    assert photo_ids("rex") == set()
    assert all(objects_of(s3, "rex", photo) == set() for photo in rex)
    assert photo_ids("tom") == {tom} and len(objects_of(s3, "tom", tom)) == 3


def test_only_photos_created_up_to_deleted_at_go(invoke: Invoke, s3: Any) -> None:
    """A pet created again under the same id after the deletion keeps its new photos; a photo created
    in the very millisecond of the deletion belonged to the deleted pet."""
    add_pet("rex")
    before = new_photo(invoke, s3, "rex", "READY")
    table = DynamoPhotoTable(physical_name("PhotosTable"))
    stored = table.get("rex", before)
    assert stored is not None
    created_at = str(stored["createdAt"])
    after = new_photo(invoke, s3, "rex", "READY")
    boto3.client("dynamodb").update_item(
        TableName=physical_name("PhotosTable"),
        Key={"petId": {"S": "rex"}, "photoId": {"S": after}},
        UpdateExpression="SET createdAt = :later",
        ExpressionAttributeValues={":later": {"S": "2999-01-01T00:00:00.000Z"}},
    )
    assert invoke(CLEANUP, pet_deleted("rex", created_at))["photosDeleted"] == 1
    assert photo_ids("rex") == {after}
    assert objects_of(s3, "rex", before) == set() and len(objects_of(s3, "rex", after)) == 3


def test_running_twice_is_harmless(invoke: Invoke, s3: Any) -> None:
    add_pet("rex")
    new_photo(invoke, s3, "rex", "READY")
    event = pet_deleted("rex", utc_now())
    assert invoke(CLEANUP, event)["photosDeleted"] == 1
    assert invoke(CLEANUP, event)["photosDeleted"] == 0
    assert photo_ids("rex") == set() and keys_in(s3, UPLOADS) == keys_in(s3, DISTRIBUTION) == set()


def test_many_photos_are_deleted_page_by_page(
    invoke: Invoke, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dal, "CLEANUP_PAGE_SIZE", 2)
    add_pet("rex")
    for _ in range(5):
        new_photo(invoke, s3, "rex")
    assert invoke(CLEANUP, pet_deleted("rex", utc_now()))["photosDeleted"] == 5
    assert photo_ids("rex") == set() and keys_in(s3, UPLOADS) == set()


def test_a_pet_with_no_photos_and_the_sample_event(invoke: Invoke) -> None:
    result = invoke(CLEANUP, load_event("photos-pet-deleted"))
    assert result == {"petId": "rex", "deletedAt": "2026-11-22T05:00:00.000Z", "photosDeleted": 0}


def test_the_count_is_logged(invoke: Invoke, s3: Any, caplog: pytest.LogCaptureFixture) -> None:
    add_pet("rex")
    new_photo(invoke, s3, "rex", "READY")
    new_photo(invoke, s3, "rex")
    level = events.logger.log_level
    events.logger.setLevel("INFO")
    try:
        invoke(CLEANUP, pet_deleted("rex", utc_now()))
    finally:
        events.logger.setLevel(level)
    (record,) = [r for r in caplog.records if hasattr(r, "photos")]
    assert record.levelname == "INFO" and record.photos == 2
    assert record.getMessage() == "deleted 2 photo(s) of the deleted pet"


@pytest.mark.parametrize(
    "change",
    [
        {"detail": None},
        {"detail": {"petId": "rex", "version": 3}},
        {"detail": {"petId": "rex", "version": 3, "deletedAt": "yesterday"}},
        {"detail": {"petId": "rex", "version": 3, "deletedAt": "2026-11-22T05:00:00Z"}},
        {"detail": {"petId": "../rex", "version": 3, "deletedAt": "2026-11-22T05:00:00.000Z"}},
        {"detail": {"petId": "rex", "version": "3", "deletedAt": "2026-11-22T05:00:00.000Z"}},
        {"detail-type": "PetCreated"},
        {"source": "petstore.foods"},
    ],
    ids=lambda change: json.dumps(change)[:50],
)
def test_a_bad_event_raises_and_deletes_nothing(invoke: Invoke, s3: Any, change: dict[str, Any]) -> None:
    """Raised, so that Lambda retries it and then leaves it in the dead-letter queue."""
    add_pet("rex")
    photo = new_photo(invoke, s3, "rex", "READY")
    event = {**pet_deleted("rex", "2999-01-01T00:00:00.000Z"), **change}
    with pytest.raises(events.InvalidEvent):
        invoke(CLEANUP, event)
    assert photo_ids("rex") == {photo}


def test_an_aws_failure_raises_and_a_retry_finishes(
    invoke: Invoke, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_pet("rex")
    photos = {new_photo(invoke, s3, "rex", "READY") for _ in range(2)}
    original = dal.S3PhotoStorage.delete_rendition
    calls = 0

    def flaky(self: dal.S3PhotoStorage, key: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise ConnectionError("S3 went away")
        original(self, key)

    monkeypatch.setattr(dal.S3PhotoStorage, "delete_rendition", flaky)
    with pytest.raises(ConnectionError):
        invoke(CLEANUP, pet_deleted("rex", utc_now()))
    assert len(photo_ids("rex")) == 1  # the first photo went; the second keeps its record (and keys)
    monkeypatch.setattr(dal.S3PhotoStorage, "delete_rendition", original)
    assert invoke(CLEANUP, pet_deleted("rex", utc_now()))["photosDeleted"] == 1
    assert photo_ids("rex") == set()
    assert all(objects_of(s3, "rex", photo) == set() for photo in photos)
