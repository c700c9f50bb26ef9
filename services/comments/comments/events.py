"""Lambda entry point of CommentsCleanupFunction: EventBridge's ``PetDeleted`` events (template.yaml).

A deleted pet's comments go with it: those written at or before ``deletedAt``, so that a pet
re-created under the same id keeps the comments written since. Idempotent: EventBridge and Lambda
may deliver an event more than once, and a second run finds nothing left to delete. An event that
is not a valid ``PetDeleted`` raises, so Lambda retries it and the dead-letter queue keeps it.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from store_common.config import TableSettings
from store_common.tracing import new_tracer

from comments.dal import DynamoCommentCleaner
from comments.logic import delete_comments_up_to
from comments.models import PetDeletedEvent

logger = Logger()
tracer = new_tracer()  # the X-Ray SDK only where it traces (see store_common.tracing)

settings = TableSettings.from_environment()
cleaner = DynamoCommentCleaner(settings.table_name)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def pet_deleted(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = PetDeletedEvent.model_validate(event).detail
    logger.append_keys(petId=detail.petId, petVersion=detail.version)
    deleted = delete_comments_up_to(cleaner, detail.petId, detail.deletedAt)
    logger.info(
        f"deleted {deleted} comments of deleted pet {detail.petId!r}",
        extra={"deletedComments": deleted, "deletedAt": detail.deletedAt},
    )
    return {"petId": detail.petId, "deletedComments": deleted}
