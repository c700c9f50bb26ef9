"""Lambda entry points of the image pipeline, invoked by Step Functions: JSON state in, JSON state out.

One module serves four functions (``photos.steps.validate`` etc. in template.yaml). Each function
gets only its own environment and permissions, so settings and clients are made on first use, once
per process, and only those the step needs.

Errors leave as the exception's class name, which is the ``Error`` the state machine matches:
``InvalidImage``, ``UnexpectedInput`` and ``NotFound`` are permanent (caught, recorded);
``NotPending`` (an upload to a photo already READY or FAILED) is permanent and marks nothing;
AWS throttling and service errors become ``TransientError``, which the state machine retries
with backoff (boto3 has already retried them briefly by then).
"""

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
)
from botocore.exceptions import ReadTimeoutError as BotocoreReadTimeout
from pydantic import BaseModel
from store_common.clock import utc_now
from store_common.config import TableSettings
from store_common.tracing import new_tracer

from photos import pipeline
from photos.dal import DynamoPhotoTable, S3Objects
from photos.errors import NotPending
from photos.imaging import InvalidImage
from photos.settings import ResizeSettings, ValidateSettings

logger = Logger()
tracer = new_tracer()  # the X-Ray SDK only where it traces (see store_common.tracing)

StepHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalError",
        "InternalServerError",
        "InternalFailure",
        "TransactionConflictException",
    }
)
_CONNECTION_ERRORS = (
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    BotocoreReadTimeout,
)


class TransientError(Exception):
    """AWS throttled or failed for a moment; the state machine retries the step with backoff."""


def _is_transient(error: ClientError) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return code in _TRANSIENT_CODES or status >= 500


def _step(run: Callable[[dict[str, Any]], BaseModel]) -> StepHandler:
    """Logging (with the photo's ids), tracing, and the error names the state machine relies on."""

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @functools.wraps(run)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        photo = pipeline.photo_of(event) if isinstance(event, dict) else None
        if photo:
            logger.append_keys(petId=photo.petId, photoId=photo.photoId)
        try:
            return run(event).model_dump(mode="json")
        except InvalidImage as error:
            logger.warning("photo refused", extra={"reason": error.message})
            raise
        except NotPending as error:
            logger.warning("upload refused: its photo was already processed", extra={"reason": str(error)})
            raise
        except ClientError as error:
            if _is_transient(error):
                logger.warning("transient AWS error; the state machine retries", exc_info=True)
                raise TransientError(str(error)) from error
            logger.exception("AWS error")
            raise
        except _CONNECTION_ERRORS as error:
            logger.warning("AWS unreachable; the state machine retries", exc_info=True)
            raise TransientError(str(error)) from error
        except Exception:
            logger.exception("step failed")
            raise

    return handler


# ---------------------------------------------------------------------- per-step dependencies


@functools.cache
def _validate_settings() -> ValidateSettings:
    return ValidateSettings.from_environment()


@functools.cache
def _resize_settings() -> ResizeSettings:
    return ResizeSettings.from_environment()


@functools.cache
def _objects() -> S3Objects:
    return S3Objects()


@functools.cache
def _photo_table() -> DynamoPhotoTable:
    """The photos table (``TABLE_NAME``): validate reads a record's status, publish and
    record_failure update it."""
    return DynamoPhotoTable(TableSettings.from_environment().table_name)


# ---------------------------------------------------------------------- the steps


@_step
def validate(event: dict[str, Any]) -> BaseModel:
    """ValidatePhotoFunction: the S3 "Object Created" event of a PENDING photo -> ``ValidatedUpload``."""
    settings = _validate_settings()
    return pipeline.validate_upload(
        event,
        _objects(),
        _photo_table(),
        uploads_bucket=settings.uploads_bucket,
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_pixels,
    )


@_step
def resize(event: dict[str, Any]) -> BaseModel:
    """ResizePhotoFunction: ``ValidatedUpload`` -> ``ResizedPhoto`` (renditions written to S3)."""
    settings = _resize_settings()
    return pipeline.resize_upload(
        event,
        _objects(),
        distribution_bucket=settings.distribution_bucket,
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_pixels,
    )


@_step
def publish(event: dict[str, Any]) -> BaseModel:
    """PublishPhotoFunction: ``ResizedPhoto`` -> the PENDING record is READY."""
    return pipeline.publish_photo(event, _photo_table(), utc_now())


@_step
def record_failure(event: dict[str, Any]) -> BaseModel:
    """RecordPhotoFailureFunction: a failed step's input plus ``error`` -> the PENDING record is FAILED."""
    result = pipeline.record_failure(event, _photo_table(), utc_now())
    details = {"error": event.get("error"), "reason": result.reason}
    if result.recorded:
        logger.error("photo pipeline failed; the photo is marked FAILED", extra=details)
    elif pipeline.is_refusal(event.get("error")):
        logger.warning("an upload to an already processed photo was refused; the photo is unchanged")
    else:
        logger.error(
            "photo pipeline failed for an upload with no PENDING photo record to mark", extra=details
        )
    return result
