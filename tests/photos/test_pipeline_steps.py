"""The image pipeline's step handlers, as Step Functions invokes them, against moto's S3 and DynamoDB.

Each test chains the steps the way the state machine does: the S3 event into validate, each
step's output into the next, and on an error, the failed step's input plus ``error`` (Error and
Cause as Step Functions builds them from a Lambda error) into record_failure.
"""

import io
import json
import traceback
from typing import Any

import boto3
import photos.steps as steps
import pytest
import requests
from botocore.exceptions import ClientError
from photos.dal import DynamoPhotoTable, S3Objects
from photos.errors import NotPending
from photos.imaging import InvalidImage
from photos.pipeline import GENERIC_REASON, UnexpectedInput, validate_upload
from PIL import ExifTags, Image
from store_common.errors import NotFound

from tests.photos.conftest import DISTRIBUTION, UPLOADS, Invoke, encode, jpeg, picture
from tests.support import body_of, load_event, physical_name

STEP_FUNCTIONS = {
    "validate": "ValidatePhotoFunction",
    "resize": "ResizePhotoFunction",
    "publish": "PublishPhotoFunction",
    "record_failure": "RecordPhotoFailureFunction",
}


def catch(error: BaseException) -> dict[str, str]:
    """``$.error`` as a Catch stores it for a Lambda function error."""
    cause = {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": "00000000-0000-0000-0000-000000000001",
        "stackTrace": traceback.format_tb(error.__traceback__),
    }
    return {"Error": type(error).__name__, "Cause": json.dumps(cause)}


class Pipeline:
    """Runs the steps in the state machine's order, with its Catch."""

    def __init__(self, invoke: Invoke) -> None:
        self.invoke = invoke
        self.error: BaseException | None = None
        self.failure: dict[str, Any] | None = None

    def run(self, event: dict[str, Any]) -> dict[str, Any] | None:
        state = event
        for step in ("validate", "resize", "publish"):
            try:
                state = self.invoke(STEP_FUNCTIONS[step], state)
            except Exception as error:
                self.error = error
                self.failure = self.invoke(STEP_FUNCTIONS["record_failure"], {**state, "error": catch(error)})
                return None
        return state


def add_pet_and_photo(invoke: Invoke, content_type: str = "image/jpeg") -> str:
    boto3.client("dynamodb").put_item(
        TableName=physical_name("PetsTable"),
        Item={"id": {"S": "rex"}, "name": {"S": "Rex"}, "version": {"N": "1"}},
    )
    event = load_event("photos-request-upload")
    event["body"] = json.dumps({"contentType": content_type})
    response = invoke("PhotosFunction", event)
    assert response["statusCode"] == 201
    photo_id: str = body_of(response)["photoId"]
    return photo_id


def upload(s3: Any, photo_id: str, data: bytes, content_type: str = "image/jpeg") -> dict[str, Any]:
    """Put the object as the presigned form would, and return the EventBridge event S3 sends."""
    key = f"uploads/rex/{photo_id}"
    s3.put_object(Bucket=UPLOADS, Key=key, Body=data, ContentType=content_type)
    event = load_event("photos-object-created")
    event["detail"]["object"].update(key=key, size=len(data))
    return event


def put_pending_record(photo_id: str) -> None:
    """The PENDING record of the photo the sample events name (as request_upload writes it)."""
    boto3.client("dynamodb").put_item(
        TableName=physical_name("PhotosTable"),
        Item={
            "petId": {"S": "rex"},
            "photoId": {"S": photo_id},
            "status": {"S": "PENDING"},
            "contentType": {"S": "image/jpeg"},
            "createdAt": {"S": "2026-11-22T04:30:00.000Z"},
            "expiresAt": {"N": "1795325700"},
        },
    )


SAMPLE_PHOTO_ID = "3f2b8c1d9e7a4b6c8d0e1f2a3b4c5d6e"
"""The photo the events/photos-* files name."""


def stored_record(photo_id: str) -> dict[str, Any]:
    item: dict[str, Any] = boto3.client("dynamodb").get_item(
        TableName=physical_name("PhotosTable"), Key={"petId": {"S": "rex"}, "photoId": {"S": photo_id}}
    )["Item"]
    return item


def listed(invoke: Invoke) -> dict[str, Any]:
    (photo,) = body_of(invoke("PhotosFunction", load_event("photos-list")))["items"]
    assert isinstance(photo, dict)
    return photo


def fetch(url: str) -> Image.Image:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


@pytest.fixture
def pipeline(invoke: Invoke) -> Pipeline:
    return Pipeline(invoke)


# ---------------------------------------------------------------------- end to end through the steps


def test_a_good_jpeg_goes_through_validate_resize_publish(
    invoke: Invoke, s3: Any, pipeline: Pipeline
) -> None:
    photo_id = add_pet_and_photo(invoke)
    data = jpeg((1600, 1200))
    validated = invoke("ValidatePhotoFunction", upload(s3, photo_id, data))
    assert validated == {
        "petId": "rex",
        "photoId": photo_id,
        "bucket": UPLOADS,
        "key": f"uploads/rex/{photo_id}",
        "sizeBytes": len(data),
        "contentType": "image/jpeg",
        "format": "JPEG",
        "width": 1600,
        "height": 1200,
    }
    resized = invoke("ResizePhotoFunction", validated)
    assert resized["renditions"] == [
        {"key": f"photos/rex/{photo_id}/1024.jpg", "width": 1024, "height": 768, "contentType": "image/jpeg"},
        {"key": f"photos/rex/{photo_id}/256.jpg", "width": 256, "height": 192, "contentType": "image/jpeg"},
    ]
    assert len(json.dumps(resized)) < 2000  # keys and sizes only: never image bytes in the state
    for rendition in resized["renditions"]:
        head = s3.head_object(Bucket=DISTRIBUTION, Key=rendition["key"])
        assert head["ContentType"] == "image/jpeg"
    published = invoke("PublishPhotoFunction", resized)
    assert published == {"petId": "rex", "photoId": photo_id, "status": "READY", "renditions": 2}

    photo = listed(invoke)
    assert (photo["status"], photo["width"], photo["height"], photo["reason"]) == ("READY", 1600, 1200, None)
    assert [fetch(r["url"]).size for r in photo["renditions"]] == [(1024, 768), (256, 192)]
    # the original upload is kept (the bucket's lifecycle rule expires it)
    assert s3.head_object(Bucket=UPLOADS, Key=f"uploads/rex/{photo_id}")["ContentLength"] == len(data)


def test_png_with_alpha_publishes_webp_renditions(invoke: Invoke, s3: Any, pipeline: Pipeline) -> None:
    photo_id = add_pet_and_photo(invoke, "image/png")
    image = Image.new("RGBA", (1200, 800), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 400, 400))
    assert pipeline.run(upload(s3, photo_id, encode(image, "PNG"), "image/png")) is not None
    photo = listed(invoke)
    assert [(r["width"], r["contentType"]) for r in photo["renditions"]] == [
        (1024, "image/webp"),
        (256, "image/webp"),
    ]
    rendition = fetch(photo["renditions"][0]["url"])
    assert rendition.format == "WEBP" and rendition.mode == "RGBA"
    assert rendition.getpixel((1000, 600))[3] == 0  # type: ignore[index]
    key = f"photos/rex/{photo_id}/1024.webp"
    assert s3.head_object(Bucket=DISTRIBUTION, Key=key)["ContentType"] == "image/webp"


def test_an_exif_rotated_photo_is_published_upright_without_metadata(
    invoke: Invoke, s3: Any, pipeline: Pipeline
) -> None:
    photo_id = add_pet_and_photo(invoke)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PetCam"
    data = encode(picture((1200, 800)), "JPEG", exif=exif.tobytes())
    assert pipeline.run(upload(s3, photo_id, data)) is not None
    photo = listed(invoke)
    assert (photo["width"], photo["height"]) == (800, 1200)
    assert [(r["width"], r["height"]) for r in photo["renditions"]] == [(800, 1200), (256, 384)]
    rendition = fetch(photo["renditions"][0]["url"])
    assert rendition.size == (800, 1200) and not dict(rendition.getexif())
    assert "exif" not in rendition.info


# ---------------------------------------------------------------------- refused uploads are recorded


def truncated() -> bytes:
    data = jpeg((800, 600))
    return data[: len(data) // 2]


def bomb() -> bytes:
    """A PNG of 100 bytes claiming 100k x 100k pixels (see test_imaging)."""
    from tests.photos.test_imaging import png_claiming

    return png_claiming(100_000, 100_000)


@pytest.mark.parametrize(
    ("data", "content_type", "reason"),
    [
        (truncated(), "image/jpeg", "The image file is damaged or incomplete"),
        (b"#!/bin/sh\necho not a photo\n" * 10, "image/jpeg", "The file is not a JPEG, PNG or WebP image"),
        (bomb(), "image/png", "The image is larger than the limit of 40 megapixels"),
        (
            encode(picture((64, 48)), "PNG"),
            "image/jpeg",
            "The file is a PNG image but was uploaded as image/jpeg",
        ),
    ],
    ids=["truncated", "text renamed .jpg", "decompression bomb", "type mismatch"],
)
def test_a_refused_upload_is_recorded_as_failed_with_its_reason(
    invoke: Invoke, s3: Any, pipeline: Pipeline, data: bytes, content_type: str, reason: str
) -> None:
    photo_id = add_pet_and_photo(invoke, content_type)
    assert pipeline.run(upload(s3, photo_id, data, content_type)) is None
    assert isinstance(pipeline.error, InvalidImage) and pipeline.error.message == reason
    assert pipeline.failure == {"petId": "rex", "photoId": photo_id, "recorded": True, "reason": reason}
    photo = listed(invoke)
    assert (photo["status"], photo["reason"], photo["renditions"]) == ("FAILED", reason, [])
    assert photo["updatedAt"]
    # kept for inspection; nothing was published
    assert s3.head_object(Bucket=UPLOADS, Key=f"uploads/rex/{photo_id}")["ContentLength"] == len(data)
    assert s3.list_objects_v2(Bucket=DISTRIBUTION).get("KeyCount") == 0


def test_an_upload_over_the_size_limit_is_refused_without_being_read(invoke: Invoke, s3: Any) -> None:
    photo_id = add_pet_and_photo(invoke)
    event = upload(s3, photo_id, jpeg((200, 100)))
    table = DynamoPhotoTable(physical_name("PhotosTable"))
    with pytest.raises(InvalidImage, match=r"The file is \d+ bytes; the limit is 1000 bytes"):
        validate_upload(
            event, S3Objects(), table, uploads_bucket=UPLOADS, max_bytes=1000, max_pixels=40_000_000
        )


def test_an_empty_upload_is_refused(invoke: Invoke, s3: Any, pipeline: Pipeline) -> None:
    photo_id = add_pet_and_photo(invoke)
    assert pipeline.run(upload(s3, photo_id, b"")) is None
    assert listed(invoke)["reason"] == "The file is empty"


def test_a_later_upload_cannot_replace_a_failed_photo(invoke: Invoke, s3: Any, pipeline: Pipeline) -> None:
    """The form is still valid, so S3 takes the file; the pipeline refuses it: ask for a new form."""
    photo_id = add_pet_and_photo(invoke)
    pipeline.run(upload(s3, photo_id, truncated()))
    failed = stored_record(photo_id)
    assert failed["status"] == {"S": "FAILED"}
    assert pipeline.run(upload(s3, photo_id, jpeg((300, 200)))) is None
    assert isinstance(pipeline.error, NotPending)
    assert pipeline.failure == {
        "petId": "rex",
        "photoId": photo_id,
        "recorded": False,
        "reason": GENERIC_REASON,
    }
    assert stored_record(photo_id) == failed
    assert s3.list_objects_v2(Bucket=DISTRIBUTION).get("KeyCount") == 0


# ---------------------------------------------------------------------- only a PENDING photo takes an upload


def rendition_objects(s3: Any) -> dict[str, tuple[bytes, Any]]:
    """Every rendition in the distribution bucket: its bytes and when it was written."""
    objects = {}
    for listed_object in s3.list_objects_v2(Bucket=DISTRIBUTION).get("Contents", []):
        stored = s3.get_object(Bucket=DISTRIBUTION, Key=listed_object["Key"])
        objects[listed_object["Key"]] = (stored["Body"].read(), stored["LastModified"])
    return objects


def test_processing_removes_expires_at(invoke: Invoke, s3: Any, pipeline: Pipeline) -> None:
    ready, failed = add_pet_and_photo(invoke), add_pet_and_photo(invoke)
    assert "expiresAt" in stored_record(ready) and "expiresAt" in stored_record(failed)
    assert pipeline.run(upload(s3, ready, jpeg((300, 200)))) is not None
    assert pipeline.run(upload(s3, failed, truncated())) is None
    assert stored_record(ready)["status"] == {"S": "READY"} and "expiresAt" not in stored_record(ready)
    assert stored_record(failed)["status"] == {"S": "FAILED"} and "expiresAt" not in stored_record(failed)


def test_a_form_posted_again_after_ready_leaves_the_photo_and_its_renditions(
    invoke: Invoke, s3: Any, pipeline: Pipeline
) -> None:
    """S3 accepts the second upload (the form is valid until it expires); validate refuses it before
    anything is written, and RecordFailure does not turn the refusal into FAILED."""
    photo_id = add_pet_and_photo(invoke)
    assert pipeline.run(upload(s3, photo_id, jpeg((1600, 1200)))) is not None
    record, renditions = stored_record(photo_id), rendition_objects(s3)
    assert record["status"] == {"S": "READY"} and len(renditions) == 2

    assert pipeline.run(upload(s3, photo_id, jpeg((640, 480)))) is None
    assert isinstance(pipeline.error, NotPending)
    assert pipeline.failure == {
        "petId": "rex",
        "photoId": photo_id,
        "recorded": False,
        "reason": GENERIC_REASON,
    }
    assert stored_record(photo_id) == record
    assert rendition_objects(s3) == renditions
    photo = listed(invoke)
    assert (photo["status"], photo["width"], photo["height"]) == ("READY", 1600, 1200)
    assert [fetch(r["url"]).size for r in photo["renditions"]] == [(1024, 768), (256, 192)]


@pytest.mark.parametrize("status", ["READY", "FAILED"])
def test_publish_and_record_failure_never_change_a_processed_photo(invoke: Invoke, status: str) -> None:
    """Whatever reaches them (a race between two uploads of one form), their updates are
    conditional on PENDING: a processed record is left exactly as it is."""
    put_pending_record(SAMPLE_PHOTO_ID)
    table = DynamoPhotoTable(physical_name("PhotosTable"))
    if status == "READY":
        table.mark_ready("rex", SAMPLE_PHOTO_ID, 10, 10, [], "2030-01-01T00:00:00.000Z")
    else:
        table.mark_failed("rex", SAMPLE_PHOTO_ID, "The file is empty", "2030-01-01T00:00:00.000Z")
    record = stored_record(SAMPLE_PHOTO_ID)
    with pytest.raises(NotPending, match=f"is {status}, not PENDING"):
        invoke("PublishPhotoFunction", load_event("photos-publish-input"))
    failure = invoke("RecordPhotoFailureFunction", load_event("photos-record-failure-input"))
    assert failure["recorded"] is False and failure["photoId"] == SAMPLE_PHOTO_ID
    with pytest.raises(NotPending, match=f"is {status}: the upload is refused"):
        invoke("ValidatePhotoFunction", load_event("photos-validate-input"))
    assert stored_record(SAMPLE_PHOTO_ID) == record


def test_a_refusal_is_never_recorded_as_a_failure(invoke: Invoke) -> None:
    """Even on a record that is PENDING again by then: a NotPending refusal marks nothing."""
    put_pending_record(SAMPLE_PHOTO_ID)
    state = {"petId": "rex", "photoId": SAMPLE_PHOTO_ID, "error": catch(NotPending("photo is READY"))}
    failure = invoke("RecordPhotoFailureFunction", state)
    assert failure == {
        "petId": "rex",
        "photoId": SAMPLE_PHOTO_ID,
        "recorded": False,
        "reason": GENERIC_REASON,
    }
    assert stored_record(SAMPLE_PHOTO_ID)["status"] == {"S": "PENDING"}


def test_an_upload_with_no_photo_record_is_refused_before_it_is_read(
    invoke: Invoke, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(S3Objects, "read", denied)  # never reached
    with pytest.raises(NotFound, match=f"no photo record rex/{SAMPLE_PHOTO_ID}"):
        invoke("ValidatePhotoFunction", load_event("photos-validate-input"))


# ---------------------------------------------------------------------- inputs this pipeline never produces


def test_an_object_in_another_bucket_or_outside_uploads_is_unexpected(invoke: Invoke) -> None:
    event = load_event("photos-object-created")
    event["detail"]["bucket"]["name"] = "someone-elses-bucket"
    with pytest.raises(UnexpectedInput, match="not the uploads bucket"):
        invoke("ValidatePhotoFunction", event)
    for key in ("uploads/rex", "uploads/rex/not-a-photo-id", "other/rex/3f2b8c1d9e7a4b6c8d0e1f2a3b4c5d6e"):
        event = load_event("photos-object-created")
        event["detail"]["object"]["key"] = key
        with pytest.raises(UnexpectedInput, match="is not uploads/<petId>/<photoId>"):
            invoke("ValidatePhotoFunction", event)


@pytest.mark.parametrize("step", ["validate", "resize", "publish"])
@pytest.mark.parametrize("state", [{}, {"detail": "x"}, {"petId": "rex"}], ids=["empty", "odd", "partial"])
def test_malformed_states_are_unexpected_input(invoke: Invoke, step: str, state: dict[str, Any]) -> None:
    with pytest.raises(UnexpectedInput):
        invoke(STEP_FUNCTIONS[step], state)


def test_a_failure_for_no_photo_is_not_recorded_but_answered(invoke: Invoke) -> None:
    state = {"detail": {"bucket": {"name": UPLOADS}, "object": {"key": "elsewhere/file.jpg"}}}
    result = invoke("RecordPhotoFailureFunction", {**state, "error": catch(UnexpectedInput("no"))})
    assert result == {"petId": None, "photoId": None, "recorded": False, "reason": GENERIC_REASON}


def test_a_failure_for_a_vanished_record_is_not_recorded(invoke: Invoke) -> None:
    state = load_event("photos-publish-input")
    with pytest.raises(NotFound):
        invoke("PublishPhotoFunction", state)
    result = invoke("RecordPhotoFailureFunction", {**state, "error": catch(NotFound("gone"))})
    assert result["recorded"] is False and result["photoId"] == state["photoId"]
    assert body_of(invoke("PhotosFunction", load_event("photos-list")))["items"] == []


# ---------------------------------------------------------------------- the reason shown to the user


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ({"Error": "States.Timeout", "Cause": ""}, GENERIC_REASON),
        ({"Error": "KeyError", "Cause": json.dumps({"errorMessage": "'secret internals'"})}, GENERIC_REASON),
        ({"Error": "TransientError", "Cause": json.dumps({"errorMessage": "SlowDown"})}, GENERIC_REASON),
        ({"Error": "InvalidImage", "Cause": "{not json"}, "{not json"),
        ({"Error": "InvalidImage", "Cause": json.dumps({"errorMessage": "Bad\nline\x00s"})}, "Bad line s"),
        ({"Error": "InvalidImage", "Cause": json.dumps({"errorMessage": "x" * 1000})}, "x" * 300),
        ({"Error": "InvalidImage", "Cause": json.dumps([1, 2])}, GENERIC_REASON),
        ({"Error": "InvalidImage", "Cause": None}, GENERIC_REASON),
        ({"Error": "InvalidImage"}, GENERIC_REASON),
        ("a string", GENERIC_REASON),
        (None, GENERIC_REASON),
    ],
)
def test_only_user_facing_errors_pass_their_message_on(invoke: Invoke, error: Any, reason: str) -> None:
    photo_id = add_pet_and_photo(invoke)
    state = {"petId": "rex", "photoId": photo_id, "error": error}
    assert invoke("RecordPhotoFailureFunction", state)["reason"] == reason
    assert listed(invoke)["reason"] == reason


# ---------------------------------------------------------------------- transient errors are named for Retry


def aws_error(code: str, status: int, operation: str) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


def throttled(*_: Any, **__: Any) -> None:
    raise aws_error("SlowDown", 503, "GetObject")


def denied(*_: Any, **__: Any) -> None:
    raise aws_error("AccessDenied", 403, "GetObject")


def test_s3_throttling_is_a_transient_error(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    put_pending_record(SAMPLE_PHOTO_ID)
    monkeypatch.setattr(S3Objects, "read", throttled)
    with pytest.raises(steps.TransientError):
        invoke("ValidatePhotoFunction", load_event("photos-validate-input"))


def test_a_permanent_aws_error_is_not_transient(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(S3Objects, "read", denied)
    with pytest.raises(ClientError):
        invoke("ResizePhotoFunction", load_event("photos-resize-input"))


def test_dynamodb_throttling_is_a_transient_error(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    def throttle(*_: Any, **__: Any) -> None:
        raise aws_error("ProvisionedThroughputExceededException", 400, "UpdateItem")

    monkeypatch.setattr(DynamoPhotoTable, "mark_failed", throttle)
    with pytest.raises(steps.TransientError):
        invoke("RecordPhotoFailureFunction", load_event("photos-record-failure-input"))


# ---------------------------------------------------------------------- the events/ files


def test_step_events_run_as_documented(invoke: Invoke, s3: Any) -> None:
    """The sample state of each step works with its function (as ``make invoke`` would run it)."""
    created = load_event("photos-object-created")
    assert load_event("photos-validate-input") == created  # the execution input is the event itself
    photo_id = created["detail"]["object"]["key"].rsplit("/", 1)[1]
    assert photo_id == SAMPLE_PHOTO_ID
    put_pending_record(photo_id)
    s3.put_object(
        Bucket=UPLOADS,
        Key=created["detail"]["object"]["key"],
        Body=jpeg((3000, 2000)),
        ContentType="image/jpeg",
    )

    validated = invoke("ValidatePhotoFunction", load_event("photos-validate-input"))
    expected_resize_input = load_event("photos-resize-input")
    assert {k: v for k, v in validated.items() if k != "sizeBytes"} == {
        k: v for k, v in expected_resize_input.items() if k != "sizeBytes"
    }
    resized = invoke("ResizePhotoFunction", load_event("photos-resize-input"))
    assert resized == load_event("photos-publish-input")
    assert invoke("PublishPhotoFunction", load_event("photos-publish-input"))["status"] == "READY"

    put_pending_record(photo_id)  # the failure event is of another upload of a PENDING photo
    failure = invoke("RecordPhotoFailureFunction", load_event("photos-record-failure-input"))
    assert failure == {
        "petId": "rex",
        "photoId": photo_id,
        "recorded": True,
        "reason": "The file is a PNG image but was uploaded as image/jpeg",
    }
