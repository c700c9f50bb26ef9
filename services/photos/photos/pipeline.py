"""Domain logic of the image pipeline's steps: validate, resize, publish, record a failure.

Each step takes the previous step's JSON state and returns its own. Image bytes never travel
through the state machine: steps pass object keys, and each step that needs the pixels reads them.

Errors, and what the state machine does with them (``statemachines/image_pipeline.asl.json``):

- ``InvalidImage`` (``photos.imaging``): the upload is not an acceptable image. Permanent, never
  retried; its message is the reason the user sees.
- ``UnexpectedInput``: the step got a state this pipeline never produces (an object outside
  ``uploads/<petId>/<photoId>``, another bucket, a malformed event). Permanent.
- ``store_common.errors.NotFound``: the photo record is gone. Permanent.
- ``photos.errors.NotPending``: the photo is already READY or FAILED. Permanent. An upload form
  stays valid until it expires, so it can be posted again after its photo was processed; validate
  refuses such an upload before anything is written (the published renditions stay), and publish
  and record_failure change a record only while it is PENDING (a condition on ``status``).
- Anything else from AWS that is transient is raised as ``steps.TransientError`` and retried.
Every failure ends in ``record_failure``, which marks a PENDING photo FAILED: never silently PENDING.
A NotPending refusal marks nothing: the photo is left as it was, READY or FAILED.
"""

import json
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from store_common.errors import NotFound

from photos import imaging
from photos.errors import NotPending
from photos.imaging import InvalidImage
from photos.logic import parse_upload_key, rendition_key
from photos.models import (
    FailureRecorded,
    ObjectCreatedEvent,
    PhotoRef,
    PublishedPhoto,
    ResizedPhoto,
    StoredObject,
    StoredRendition,
    ValidatedUpload,
)

ModelT = TypeVar("ModelT", bound=BaseModel)

USER_FACING_ERRORS = frozenset({"InvalidImage"})
"""Errors whose message is written for the user; any other failure gets ``GENERIC_REASON``."""
GENERIC_REASON = "The photo could not be processed. Please try uploading it again."
MAX_REASON_CHARS = 300


class UnexpectedInput(Exception):
    """A step was given a state that this pipeline does not produce. Permanent."""


class ObjectStore(Protocol):
    def read(self, bucket: str, key: str, max_bytes: int) -> StoredObject: ...

    def write(self, bucket: str, key: str, data: bytes, content_type: str) -> None: ...


class PhotoStatusTable(Protocol):
    def status_of(self, pet_id: str, photo_id: str) -> str | None:
        """PENDING, READY or FAILED; None when there is no record."""
        ...

    def mark_ready(
        self,
        pet_id: str,
        photo_id: str,
        width: int,
        height: int,
        renditions: list[dict[str, Any]],
        now: str,
    ) -> None:
        """A PENDING record becomes READY; NotFound without a record, NotPending when not PENDING."""
        ...

    def mark_failed(self, pet_id: str, photo_id: str, reason: str, now: str) -> None:
        """A PENDING record becomes FAILED; NotFound without a record, NotPending when not PENDING."""
        ...


def validate_upload(
    event: Mapping[str, Any],
    objects: ObjectStore,
    table: PhotoStatusTable,
    *,
    uploads_bucket: str,
    max_bytes: int,
    max_pixels: int,
) -> ValidatedUpload:
    """Step 1: the upload is for a PENDING photo, and is a complete JPEG, PNG or WebP of its
    declared type, within limits."""
    created = _parse(ObjectCreatedEvent, event)
    if created.bucket != uploads_bucket:
        raise UnexpectedInput(f"object is in bucket {created.bucket!r}, not the uploads bucket")
    photo = parse_upload_key(created.key)
    if photo is None:
        raise UnexpectedInput(f"object key {created.key!r} is not uploads/<petId>/<photoId>")
    status = table.status_of(photo.petId, photo.photoId)
    if status is None:
        raise NotFound(f"no photo record {photo.petId}/{photo.photoId}")
    if status != "PENDING":
        raise NotPending(f"photo {photo.petId}/{photo.photoId} is {status}: the upload is refused")
    data, content_type = _read(objects, created.bucket, created.key, max_bytes)
    facts = imaging.inspect_image(data, declared_type=content_type, max_pixels=max_pixels)
    return ValidatedUpload(
        petId=photo.petId,
        photoId=photo.photoId,
        bucket=created.bucket,
        key=created.key,
        sizeBytes=len(data),
        contentType=facts.content_type,
        format=facts.format,
        width=facts.width,
        height=facts.height,
    )


def resize_upload(
    state: Mapping[str, Any],
    objects: ObjectStore,
    *,
    distribution_bucket: str,
    max_bytes: int,
    max_pixels: int,
) -> ResizedPhoto:
    """Step 2: write the renditions to the distribution bucket; pass on their keys and sizes.

    Keys are deterministic, so a retried step overwrites its own earlier output.
    """
    upload = _parse(ValidatedUpload, state)
    data, _ = _read(objects, upload.bucket, upload.key, max_bytes)
    facts, renditions = imaging.make_renditions(data, max_pixels=max_pixels)
    written: list[StoredRendition] = []
    for rendition in renditions:
        key = rendition_key(upload.petId, upload.photoId, rendition.width, rendition.extension)
        objects.write(distribution_bucket, key, rendition.data, rendition.content_type)
        written.append(
            StoredRendition(
                key=key, width=rendition.width, height=rendition.height, contentType=rendition.content_type
            )
        )
    return ResizedPhoto(
        petId=upload.petId, photoId=upload.photoId, width=facts.width, height=facts.height, renditions=written
    )


def publish_photo(state: Mapping[str, Any], table: PhotoStatusTable, now: str) -> PublishedPhoto:
    """Step 3: the PENDING photo record becomes READY with its size and renditions."""
    resized = _parse(ResizedPhoto, state)
    table.mark_ready(
        resized.petId,
        resized.photoId,
        resized.width,
        resized.height,
        [r.model_dump() for r in resized.renditions],
        now,
    )
    return PublishedPhoto(petId=resized.petId, photoId=resized.photoId, renditions=len(resized.renditions))


def record_failure(state: Mapping[str, Any], table: PhotoStatusTable, now: str) -> FailureRecorded:
    """On Catch: mark the PENDING photo FAILED with a reason for the user. The upload itself is kept.

    ``state`` is the failed step's input plus ``error`` (``{"Error", "Cause"}``, the Catch's
    ``ResultPath``). A state that names no photo, a photo whose record is gone, and a photo that is
    not PENDING (a refused re-upload: ``NotPending``) are reported as not recorded (the caller logs
    it): there is nothing to mark, and a READY or FAILED photo is never changed.
    """
    error = state.get("error")
    reason = failure_reason(error)
    photo = photo_of(state)
    if photo is None:
        return FailureRecorded(recorded=False, reason=reason)
    if is_refusal(error):
        return FailureRecorded(petId=photo.petId, photoId=photo.photoId, recorded=False, reason=reason)
    try:
        table.mark_failed(photo.petId, photo.photoId, reason, now)
    except (NotFound, NotPending):
        return FailureRecorded(petId=photo.petId, photoId=photo.photoId, recorded=False, reason=reason)
    return FailureRecorded(petId=photo.petId, photoId=photo.photoId, recorded=True, reason=reason)


def is_refusal(error: Any) -> bool:
    """Whether a Catch's ``{"Error", "Cause"}`` is the refusal of an upload to a processed photo."""
    return isinstance(error, Mapping) and error.get("Error") == NotPending.__name__


def photo_of(state: Mapping[str, Any]) -> PhotoRef | None:
    """The photo a state is about: its ``petId``/``photoId`` (later steps) or its object key (step 1)."""
    try:
        return PhotoRef.model_validate(state)
    except ValidationError:
        pass
    try:
        return parse_upload_key(ObjectCreatedEvent.model_validate(state).key)
    except ValidationError:
        return None


def failure_reason(error: Any) -> str:
    """The reason to show for a Catch's ``{"Error", "Cause"}``, parsed defensively.

    For a Lambda error, ``Cause`` is a JSON string ``{"errorMessage", "errorType", "stackTrace", ...}``.
    Only errors written for users (``InvalidImage``) pass their message on; anything else (a bug, an
    AWS error after the retries, a timeout) gets a generic reason, and its details stay in the logs.
    """
    if not isinstance(error, Mapping) or error.get("Error") not in USER_FACING_ERRORS:
        return GENERIC_REASON
    message = _error_message(error.get("Cause"))
    if not message:
        return GENERIC_REASON
    printable = " ".join("".join(c if c.isprintable() else " " for c in message).split())
    return printable[:MAX_REASON_CHARS] or GENERIC_REASON


def _error_message(cause: Any) -> str | None:
    if not isinstance(cause, str) or len(cause) > 256 * 1024:
        return None
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause  # a plain-text cause (e.g. from a Fail state) is the message itself
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return str(parsed["errorMessage"])
    return None


def _parse(model: type[ModelT], state: Mapping[str, Any]) -> ModelT:
    try:
        return model.model_validate(state)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'state'}: {e['msg']}" for e in error.errors()
        )
        raise UnexpectedInput(f"not a {model.__name__} state: {problems}") from None


def _read(objects: ObjectStore, bucket: str, key: str, max_bytes: int) -> tuple[bytes, str | None]:
    """The object's bytes and content type; a file over the limit or empty is an ``InvalidImage``."""
    stored = objects.read(bucket, key, max_bytes)
    if stored.data is None:
        raise InvalidImage(f"The file is {stored.size} bytes; the limit is {max_bytes} bytes")
    if not stored.data:
        raise InvalidImage("The file is empty")
    return stored.data, stored.content_type
