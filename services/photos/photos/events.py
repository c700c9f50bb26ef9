"""Lambda entry point of PhotosCleanupFunction: the store's events that concern photos.

``pet_deleted``: EventBridge delivers the pets service's ``PetDeleted`` (``detail``: ``petId``,
``version``, ``deletedAt``), and every photo of that pet created at or before ``deletedAt`` is
deleted, with its upload and renditions (``logic.delete_photos_of_deleted_pet``). A pet created again
under the same id after the deletion keeps its new photos. Running twice is harmless: the second run
finds nothing. An event that is not a well-formed ``PetDeleted`` raises, as does any AWS error, so
that Lambda's retries, then the dead-letter queue, get it (template.yaml).
"""

import functools
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from photos.dal import DynamoPhotoTable, S3PhotoStorage
from photos.logic import delete_photos_of_deleted_pet
from photos.models import PetDeletedEvent
from photos.settings import CleanupSettings

logger = Logger()


class InvalidEvent(ValueError):
    """The event is not a ``PetDeleted`` this function can act on. It is retried, then dead-lettered."""


@functools.cache
def _dependencies() -> tuple[DynamoPhotoTable, S3PhotoStorage]:
    settings = CleanupSettings.from_environment()
    return (
        DynamoPhotoTable(settings.table_name),
        S3PhotoStorage(settings.uploads_bucket, settings.distribution_bucket),
    )


@logger.inject_lambda_context(clear_state=True)
def pet_deleted(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        deleted = PetDeletedEvent.model_validate(event)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}" for e in error.errors()
        )
        logger.error("not a PetDeleted event", extra={"problems": problems})
        raise InvalidEvent(f"not a PetDeleted event: {problems}") from None
    pet_id, deleted_at = deleted.detail.petId, deleted.detail.deletedAt
    logger.append_keys(petId=pet_id)
    table, storage = _dependencies()
    count = delete_photos_of_deleted_pet(table, storage, pet_id, deleted_at)
    logger.info(
        f"deleted {count} photo(s) of the deleted pet", extra={"photos": count, "deletedAt": deleted_at}
    )
    return {"petId": pet_id, "deletedAt": deleted_at, "photosDeleted": count}
