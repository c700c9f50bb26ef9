"""The photos API through the real Powertools resolver, against moto's DynamoDB and S3."""

import base64
import calendar
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from photos.dal import DynamoPhotoTable

from tests.photos.conftest import DISTRIBUTION, UPLOADS, Invoke, jpeg
from tests.support import body_of, load_event, physical_name

MAX_BYTES = 10 * 1024 * 1024


def add_pet(pet_id: str = "rex") -> None:
    item = {"id": {"S": pet_id}, "name": {"S": "Rex"}, "species": {"S": "dog"}, "version": {"N": "1"}}
    boto3.client("dynamodb").put_item(TableName=physical_name("PetsTable"), Item=item)


def request_upload(invoke: Invoke, pet_id: str = "rex", body: Any = None) -> dict[str, Any]:
    event = load_event("photos-request-upload")
    event["pathParameters"] = {"petId": pet_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/pets/{pet_id}/photos"
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
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
