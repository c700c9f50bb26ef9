"""Domain logic of pet photos: request an upload, list a pet's photos. Knows nothing of API Gateway.

A photo starts as a PENDING record and a presigned S3 POST form for ``uploads/<petId>/<photoId>``.
The upload itself starts the image pipeline (``photos.pipeline``), which marks the record READY
with its renditions or FAILED with a reason. Listing is one Query on the table's ``byCreatedAt``
local index, newest first, with rendition URLs presigned for an hour (the bucket is private).
"""

import re
import uuid
from typing import Any, Protocol

from store_common.catalogue import utc_now
from store_common.errors import NotFound
from store_common.models import ID_PATTERN, Page
from store_common.pagination import decode_token, encode_token

from photos.models import Photo, PhotoRecord, PhotoRef, Rendition, UploadForm, UploadTicket

UPLOAD_PREFIX = "uploads/"
RENDITION_PREFIX = "photos/"
UPLOAD_FORM_SECONDS = 300
RENDITION_URL_SECONDS = 3600

KEY_NAMES = ("petId", "photoId", "createdAt")
"""Attributes of a ``LastEvaluatedKey`` of the ``byCreatedAt`` index (table key + index key)."""
CREATED_AT_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"

_UPLOAD_KEY_RE = re.compile(
    "^" + re.escape(UPLOAD_PREFIX) + "(" + ID_PATTERN.strip("^$") + ")/([0-9a-f]{32})$"
)


def upload_key(pet_id: str, photo_id: str) -> str:
    return f"{UPLOAD_PREFIX}{pet_id}/{photo_id}"


def parse_upload_key(key: str) -> PhotoRef | None:
    """The photo an uploaded object belongs to, or None when the key is not ``uploads/<petId>/<photoId>``."""
    match = _UPLOAD_KEY_RE.match(key)
    return PhotoRef(petId=match.group(1), photoId=match.group(2)) if match else None


def rendition_key(pet_id: str, photo_id: str, width: int, extension: str) -> str:
    return f"{RENDITION_PREFIX}{pet_id}/{photo_id}/{width}.{extension}"


class PhotoTable(Protocol):
    def insert(self, item: dict[str, Any]) -> None: ...

    def newest_first(
        self, pet_id: str, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]: ...


class PetDirectory(Protocol):
    def exists(self, pet_id: str) -> bool: ...


class PhotoStorage(Protocol):
    def upload_form(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]: ...

    def download_url(self, key: str, expires_in: int) -> str: ...


class Photos:
    def __init__(
        self, table: PhotoTable, pets: PetDirectory, storage: PhotoStorage, max_upload_bytes: int
    ) -> None:
        self.table = table
        self.pets = pets
        self.storage = storage
        self.max_upload_bytes = max_upload_bytes

    def request_upload(self, pet_id: str, content_type: str) -> UploadTicket:
        """Record a PENDING photo and return the form that uploads its file (size and type bounded)."""
        if not self.pets.exists(pet_id):
            raise NotFound(f"pet {pet_id!r} not found")
        photo_id = uuid.uuid4().hex
        record = PhotoRecord(
            petId=pet_id, photoId=photo_id, status="PENDING", contentType=content_type, createdAt=utc_now()
        )
        # The record is written first: the pipeline that the upload starts expects to find it.
        self.table.insert(record.model_dump(exclude_none=True, exclude={"renditions"}))
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
        """A pet's photos, newest first. A pet with no photos (or no such pet) has an empty list."""
        start = None
        if next_token:
            start = decode_token(
                next_token, KEY_NAMES, sort_key_pattern=CREATED_AT_PATTERN, partition=(pet_id, "pet")
            )
        items, last_key = self.table.newest_first(pet_id, limit, start)
        return Page[Photo](
            items=[self._photo(PhotoRecord.model_validate(item)) for item in items],
            nextToken=encode_token(last_key) if last_key else None,
        )

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
