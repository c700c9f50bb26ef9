"""Photos of a pet: API bodies, the stored record, and the state passed between pipeline steps.

Step Functions carries only these small JSON documents from step to step (keys, sizes, dimensions),
never image bytes: a state is limited to 256 KB.

The API function and the pipeline's steps share this module, and each uses a few of its models:
all but the stored record (which every API route and step reads or writes) are built on first use.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from store_common.models import BuiltOnFirstUse, ResourceId

PHOTO_ID_PATTERN = r"^[0-9a-f]{32}$"

PhotoId = Annotated[str, Field(pattern=PHOTO_ID_PATTERN, description="32 hex digits (a UUID4).")]
PhotoStatus = Literal["PENDING", "READY", "FAILED"]
UploadContentType = Literal["image/jpeg", "image/png", "image/webp"]


# ---------------------------------------------------------------------- API


class UploadRequest(BuiltOnFirstUse):
    """Body of POST /pets/{petId}/photos."""

    model_config = ConfigDict(extra="forbid")

    contentType: UploadContentType = Field(
        description="The type of the file that will be uploaded; the upload must send exactly this."
    )


class UploadForm(BuiltOnFirstUse):
    url: str = Field(description="POST a multipart/form-data request here.")
    fields: dict[str, str] = Field(
        description="Send every one of these as a form field, then the file as the last field, `file`."
    )


class UploadTicket(BuiltOnFirstUse):
    """A presigned S3 upload for one photo: where and how to send the file."""

    photoId: PhotoId
    upload: UploadForm
    expiresIn: int = Field(description="Seconds the form stays valid.")
    maxBytes: int = Field(description="Largest file the form accepts.")


class Rendition(BuiltOnFirstUse):
    width: int
    height: int
    contentType: str
    url: str = Field(description="A presigned GET URL, valid for an hour.")


class Photo(BuiltOnFirstUse):
    photoId: PhotoId
    status: PhotoStatus = Field(description="PENDING until processed, then READY or FAILED.")
    reason: str | None = Field(default=None, description="Why the photo FAILED, for the user.")
    width: int | None = Field(default=None, description="Of the upload, as displayed (READY only).")
    height: int | None = None
    renditions: list[Rendition] = Field(default_factory=list, description="Largest first (READY only).")
    createdAt: str
    updatedAt: str | None = None


# ---------------------------------------------------------------------- stored


class StoredRendition(BaseModel):
    key: str = Field(description="Object key in the distribution bucket.")
    width: int
    height: int
    contentType: str


class PhotoRecord(BaseModel):
    """An item of the photos table (partition ``petId``, sort ``photoId``)."""

    model_config = ConfigDict(extra="ignore")

    petId: ResourceId
    photoId: PhotoId
    status: PhotoStatus
    contentType: str
    createdAt: str
    updatedAt: str | None = None
    reason: str | None = None
    width: int | None = None
    height: int | None = None
    renditions: list[StoredRendition] = Field(default_factory=list)
    expiresAt: int | None = Field(
        default=None,
        description=(
            "PENDING only: epoch seconds when DynamoDB's TTL may delete the record (its form's expiry "
            "plus a grace period); removed when the photo becomes READY or FAILED, so that it stays."
        ),
    )


# ---------------------------------------------------------------------- events from other services


CREATED_AT_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
"""``createdAt`` and ``deletedAt``: UTC with milliseconds (``store_common.clock.utc_now``)."""


class _PetDeletedDetail(BuiltOnFirstUse):
    model_config = ConfigDict(extra="ignore")

    petId: ResourceId
    version: Annotated[int, Field(ge=1, strict=True)]
    deletedAt: Annotated[str, Field(pattern=CREATED_AT_PATTERN)]


class PetDeletedEvent(BuiltOnFirstUse):
    """The ``PetDeleted`` event the pets service publishes on the store's bus (only what is used)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    source: Literal["petstore.pets"]
    detail_type: Literal["PetDeleted"] = Field(alias="detail-type")
    detail: _PetDeletedDetail


# ---------------------------------------------------------------------- pipeline state


class _S3Bucket(BuiltOnFirstUse):
    name: str = Field(min_length=1)


class _S3Object(BuiltOnFirstUse):
    key: str = Field(min_length=1, max_length=1024)
    size: int | None = Field(default=None, ge=0)


class _ObjectCreatedDetail(BuiltOnFirstUse):
    bucket: _S3Bucket
    object_: _S3Object = Field(alias="object")


class ObjectCreatedEvent(BuiltOnFirstUse):
    """The S3 "Object Created" event EventBridge starts the pipeline with (only what is used)."""

    detail: _ObjectCreatedDetail

    @property
    def bucket(self) -> str:
        return self.detail.bucket.name

    @property
    def key(self) -> str:
        return self.detail.object_.key


class PhotoRef(BuiltOnFirstUse):
    petId: ResourceId
    photoId: PhotoId


class ValidatedUpload(PhotoRef):
    """Output of the validate step."""

    bucket: str
    key: str
    sizeBytes: int
    contentType: str
    format: str
    width: int
    height: int


class ResizedPhoto(PhotoRef):
    """Output of the resize step: where the renditions are, and the upload's displayed size."""

    width: int
    height: int
    renditions: list[StoredRendition] = Field(min_length=1)


class PublishedPhoto(PhotoRef):
    """Output of the publish step."""

    status: Literal["READY"] = "READY"
    renditions: int


class FailureRecorded(BuiltOnFirstUse):
    """Output of the record-failure step: which photo was marked FAILED, if any could be."""

    petId: str | None = None
    photoId: str | None = None
    recorded: bool
    reason: str


@dataclass(frozen=True)
class StoredObject:
    """An uploaded object as read by the pipeline."""

    size: int
    content_type: str | None
    data: bytes | None
    """None when the object is larger than the reader's limit: nothing beyond the limit is read."""
