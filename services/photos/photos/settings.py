"""Configuration of the photo functions, read once per process from the environment template.yaml sets.

Each function gets only the variables (and so the tables and buckets) it needs, so each step has its
own settings model: the API function knows nothing of the pixel limit, the publish step nothing of S3.
"""

import os
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field
from store_common.config import TableSettings

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
# The steps hold an upload in memory while checking it, hence the upper bound.
MaxUploadBytes = Annotated[int, Field(alias="MAX_UPLOAD_BYTES", ge=1, le=100 * 1024**2)]
MaxPixels = Annotated[int, Field(alias="MAX_PIXELS", ge=1, le=1_000_000_000)]


class ApiSettings(TableSettings):
    """PhotosFunction: the photos table, the pets table (a new photo's pet must exist), both buckets
    for presigning and for deleting a photo's objects."""

    pets_table_name: str = Field(alias="PETS_TABLE_NAME", min_length=3)
    uploads_bucket: str = Field(alias="UPLOADS_BUCKET", min_length=3)
    distribution_bucket: str = Field(alias="DISTRIBUTION_BUCKET", min_length=3)
    max_upload_bytes: MaxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES


class CleanupSettings(TableSettings):
    """PhotosCleanupFunction: a deleted pet's records, uploads and renditions."""

    uploads_bucket: str = Field(alias="UPLOADS_BUCKET", min_length=3)
    distribution_bucket: str = Field(alias="DISTRIBUTION_BUCKET", min_length=3)


class _StepSettings(BaseModel):
    # Built when a step reads them: the API function imports this module too and never does.
    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)

    @classmethod
    def from_environment(cls) -> Self:
        return cls.model_validate(dict(os.environ))


class _UploadReaderSettings(_StepSettings):
    """A step that reads uploads, within the limits."""

    uploads_bucket: str = Field(alias="UPLOADS_BUCKET", min_length=3)
    max_upload_bytes: MaxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES
    max_pixels: MaxPixels = DEFAULT_MAX_PIXELS


class ValidateSettings(_UploadReaderSettings):
    """ValidatePhotoFunction: reads uploads, and the status of their photo records (only PENDING
    photos take an upload)."""

    table_name: str = Field(alias="TABLE_NAME", min_length=3)


class ResizeSettings(_UploadReaderSettings):
    """ResizePhotoFunction: reads uploads, writes renditions."""

    distribution_bucket: str = Field(alias="DISTRIBUTION_BUCKET", min_length=3)
