"""Domain logic of pet photos: request an upload, list, delete, and delete a deleted pet's photos.

Knows nothing of API Gateway or EventBridge.

A photo starts as a PENDING record and a presigned S3 POST form for ``uploads/<petId>/<photoId>``.
The record is written in one transaction with a check that its pet exists, so no photo is ever
recorded for a pet that does not exist, or whose deletion has begun. The upload itself starts the
image pipeline (``photos.pipeline``), which marks the record READY with its renditions or FAILED with
a reason, and only while it is PENDING: a form cannot replace a processed photo.

Unused forms expire. A PENDING record carries ``expiresAt`` (epoch seconds, the table's TTL
attribute): its form's expiry plus :data:`PENDING_GRACE_SECONDS`, the longest an upload made just
before the form expired may take to reach the pipeline (EventBridge keeps retrying for an hour).
Listing stops showing a PENDING photo once its form has expired; DynamoDB deletes the record some
time after ``expiresAt``. Publishing (READY) or recording a failure (FAILED) removes ``expiresAt``.

Listing is one Query on the table's ``byCreatedAt`` local index, newest first, with rendition URLs
presigned for an hour (the bucket is private). Expired PENDING records are filtered out by that
Query, so a page may hold fewer than ``limit`` photos (even none) and still have a ``nextToken``:
follow it until it is null.

Deleting a photo deletes its objects first and its record last, so a retry after a partial failure
finds the record, and with it the keys, and finishes the job.
"""

import re
import time
import uuid
from typing import Any, Protocol

from store_common.clock import utc_now
from store_common.errors import NotFound
from store_common.models import ID_PATTERN, Page
from store_common.pagination import decode_token, encode_token

from photos.models import (
    CREATED_AT_PATTERN,
    Photo,
    PhotoRecord,
    PhotoRef,
    Rendition,
    UploadForm,
    UploadTicket,
)

UPLOAD_PREFIX = "uploads/"
RENDITION_PREFIX = "photos/"
UPLOAD_FORM_SECONDS = 300
PENDING_GRACE_SECONDS = 3600
"""How long after its form expired a PENDING record is kept: an upload made just before may still be
on its way to the pipeline (the start rule's ``MaximumEventAgeInSeconds``, template.yaml)."""
RENDITION_URL_SECONDS = 3600

KEY_NAMES = ("petId", "photoId", "createdAt")
"""Attributes of a ``LastEvaluatedKey`` of the ``byCreatedAt`` index (table key + index key)."""

_UPLOAD_KEY_RE = re.compile(
    "^" + re.escape(UPLOAD_PREFIX) + "(" + ID_PATTERN.strip("^$") + ")/([0-9a-f]{32})$"
)


def epoch_seconds() -> int:
    """Now, in whole seconds since the epoch: the clock of upload expiries (tests move it)."""
    return int(time.time())


def upload_key(pet_id: str, photo_id: str) -> str:
    return f"{UPLOAD_PREFIX}{pet_id}/{photo_id}"


def parse_upload_key(key: str) -> PhotoRef | None:
    """The photo an uploaded object belongs to, or None when the key is not ``uploads/<petId>/<photoId>``."""
    match = _UPLOAD_KEY_RE.match(key)
    return PhotoRef(petId=match.group(1), photoId=match.group(2)) if match else None


def rendition_key(pet_id: str, photo_id: str, width: int, extension: str) -> str:
    return f"{RENDITION_PREFIX}{pet_id}/{photo_id}/{width}.{extension}"


class PhotoTable(Protocol):
    def insert_for_pet(self, item: dict[str, Any]) -> None:
        """Write a new record in one transaction with a check that its pet exists: NotFound (nothing
        written) when the pet does not exist, Conflict when it was being written at that moment."""
        ...

    def newest_first(
        self, pet_id: str, limit: int, start_key: dict[str, str] | None, pending_cutoff: int
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """One page (one Query) of the pet's records, newest first, without those whose
        ``expiresAt`` is at or before ``pending_cutoff``."""
        ...

    def get(self, pet_id: str, photo_id: str) -> dict[str, Any] | None: ...

    def delete(self, pet_id: str, photo_id: str) -> dict[str, Any] | None:
        """Delete the record; return it as it was when deleted, or None when it was absent."""
        ...

    def created_up_to(
        self, pet_id: str, created_at: str, start_key: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """One page (one Query of the ``byCreatedAt`` index) of the pet's records created at or
        before ``created_at``."""
        ...


class PhotoStorage(Protocol):
    def upload_form(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]: ...

    def download_url(self, key: str, expires_in: int) -> str: ...

    def delete_upload(self, key: str) -> None:
        """Delete an object of the uploads bucket; an absent one is no error."""
        ...

    def delete_rendition(self, key: str) -> None:
        """Delete an object of the distribution bucket; an absent one is no error."""
        ...


def discard(record: PhotoRecord, table: PhotoTable, storage: PhotoStorage) -> bool:
    """Delete a photo: its upload and renditions first, its record last. True when this call
    deleted the record, False when it was already gone.

    The record's last state comes back with its deletion: renditions that a pipeline published
    between the read of ``record`` and the deletion are deleted too. Every step is idempotent, so a
    retry after a partial failure finishes the job.
    """
    deleted: set[str] = set()
    storage.delete_upload(upload_key(record.petId, record.photoId))
    for rendition in record.renditions:
        storage.delete_rendition(rendition.key)
        deleted.add(rendition.key)
    last = table.delete(record.petId, record.photoId)
    if last is None:
        return False
    for rendition in PhotoRecord.model_validate(last).renditions:
        if rendition.key not in deleted:
            storage.delete_rendition(rendition.key)
    return True


class Photos:
    def __init__(self, table: PhotoTable, storage: PhotoStorage, max_upload_bytes: int) -> None:
        self.table = table
        self.storage = storage
        self.max_upload_bytes = max_upload_bytes

    def request_upload(self, pet_id: str, content_type: str) -> UploadTicket:
        """Record a PENDING photo and return the form that uploads its file (size and type bounded)."""
        photo_id = uuid.uuid4().hex
        record = PhotoRecord(
            petId=pet_id,
            photoId=photo_id,
            status="PENDING",
            contentType=content_type,
            createdAt=utc_now(),
            expiresAt=epoch_seconds() + UPLOAD_FORM_SECONDS + PENDING_GRACE_SECONDS,
        )
        # The record is written first: the pipeline that the upload starts expects to find it.
        self.table.insert_for_pet(record.model_dump(exclude_none=True, exclude={"renditions"}))
        form = self.storage.upload_form(
            upload_key(pet_id, photo_id), content_type, self.max_upload_bytes, UPLOAD_FORM_SECONDS
        )
        return UploadTicket(
            photoId=photo_id,
            upload=UploadForm.model_validate(form),
            expiresIn=UPLOAD_FORM_SECONDS,
            maxBytes=self.max_upload_bytes,
        )

    def list(self, pet_id: str, limit: int, next_token: str | None) -> Page[Photo]:
        """A pet's photos, newest first, without PENDING ones whose form has expired. A pet with no
        photos (or no such pet) has an empty list; a page may be short (see the module's doc)."""
        start = None
        if next_token:
            start = decode_token(
                next_token, KEY_NAMES, sort_key_pattern=CREATED_AT_PATTERN, partition=(pet_id, "pet")
            )
        # expiresAt = form expiry + grace: the form has expired once expiresAt <= now + grace
        cutoff = epoch_seconds() + PENDING_GRACE_SECONDS
        items, last_key = self.table.newest_first(pet_id, limit, start, cutoff)
        return Page[Photo](
            items=[self._photo(PhotoRecord.model_validate(item)) for item in items],
            nextToken=encode_token(last_key) if last_key else None,
        )

    def delete(self, pet_id: str, photo_id: str) -> None:
        """Delete the photo, its upload and its renditions; NotFound when there is no such photo."""
        item = self.table.get(pet_id, photo_id)
        if item is None or not discard(PhotoRecord.model_validate(item), self.table, self.storage):
            raise NotFound(f"photo {photo_id!r} of pet {pet_id!r} not found")

    def _photo(self, record: PhotoRecord) -> Photo:
        """The API view of a record: renditions (with URLs) only once the photo is READY."""
        renditions = [
            Rendition(
                width=r.width,
                height=r.height,
                contentType=r.contentType,
                url=self.storage.download_url(r.key, RENDITION_URL_SECONDS),
            )
            for r in (record.renditions if record.status == "READY" else [])
        ]
        return Photo(
            photoId=record.photoId,
            status=record.status,
            reason=record.reason,
            width=record.width,
            height=record.height,
            renditions=renditions,
            createdAt=record.createdAt,
            updatedAt=record.updatedAt,
        )


def delete_photos_of_deleted_pet(
    table: PhotoTable, storage: PhotoStorage, pet_id: str, deleted_at: str
) -> int:
    """On ``PetDeleted``: delete every photo of the pet created at or before ``deleted_at``, with its
    upload and renditions; return how many records this call deleted (0 when run again).

    Photos of a pet created again under the same id after the deletion are newer, and stay. Pages
    of the index are read one at a time, each photo deleted as ``discard`` does.
    """
    deleted = 0
    start: dict[str, str] | None = None
    while True:
        items, start = table.created_up_to(pet_id, deleted_at, start)
        for item in items:
            deleted += discard(PhotoRecord.model_validate(item), table, storage)
        if start is None:
            return deleted
