"""Lambda entry point of the photos API: POST and GET /pets/{petId}/photos, DELETE one photo.

Which route needs a token is declared in template.yaml (the JWT authorizer); that uploading and
deleting are for staff only is declared here, with ``store_common.auth.staff_only_route``.
"""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from store_common.auth import staff_only_route
from store_common.http import (
    create_app,
    error_responses,
    lambda_entry,
    list_responses,
    metrics,
    ok_response,
    versioned_list,
)
from store_common.models import Page
from store_common.params import IdParam, Limit, NextToken

from photos.dal import DynamoPhotoTable, S3PhotoStorage
from photos.logic import Photos
from photos.models import PHOTO_ID_PATTERN, Photo, UploadRequest, UploadTicket
from photos.settings import ApiSettings

settings = ApiSettings.from_environment()
photos = Photos(
    DynamoPhotoTable(settings.table_name, pets_table_name=settings.pets_table_name),
    S3PhotoStorage(settings.uploads_bucket, settings.distribution_bucket),
    max_upload_bytes=settings.max_upload_bytes,
)

PhotoIdParam = Annotated[str, Path(pattern=PHOTO_ID_PATTERN, description="The photo's id: 32 hex digits.")]

app = create_app()


@app.post(
    "/pets/<petId>/photos",
    summary="Request an upload of a pet's photo",
    operation_id="requestPhotoUpload",
    description=(
        "Staff only. Records a PENDING photo and returns a presigned S3 POST form: send every "
        "`fields` entry, then the file as `file`, to `url` within `expiresIn` seconds. The upload "
        "starts processing; the photo then lists as READY with its renditions, or FAILED with a "
        "reason. A form uploads once: posting it again after the photo is READY or FAILED changes "
        "nothing. A photo whose form expired unused is no longer listed, and is deleted later."
    ),
    tags=["Photos"],
    **staff_only_route(
        {
            **ok_response(UploadTicket, "Created", status=201),
            **error_responses(400, 404, 409, 413, 415),
        }
    ),
)
def request_upload(petId: IdParam, body: Annotated[UploadRequest, Body()]) -> Response[UploadTicket]:
    ticket = photos.request_upload(petId, body.contentType)
    metrics.add_metric(name="PhotoUploadRequested", unit="Count", value=1)
    return Response(status_code=HTTPStatus.CREATED, content_type=content_types.APPLICATION_JSON, body=ticket)


@app.get(
    "/pets/<petId>/photos",
    summary="List a pet's photos, newest first",
    operation_id="listPhotos",
    description=(
        "PENDING photos whose upload form expired unused are left out, by the same Query that reads "
        "the page: a page may then hold fewer than `limit` photos, even none, and still have a "
        "`nextToken`. Follow `nextToken` until it is null."
    ),
    tags=["Photos"],
    responses=list_responses(Photo),
)
def list_photos(petId: IdParam, limit: Limit = 20, next_token: NextToken = None) -> Page[Photo] | list[Photo]:
    return versioned_list(app, photos.list(petId, limit, next_token))


@app.delete(
    "/pets/<petId>/photos/<photoId>",
    summary="Delete a pet's photo",
    operation_id="deletePhoto",
    description=(
        "Staff only. Deletes the photo's upload and renditions, then its record. Safe to retry: a "
        "retry after a partial failure finishes the job."
    ),
    tags=["Photos"],
    **staff_only_route({204: {"description": "Deleted"}, **error_responses(400, 404)}),
)
def delete_photo(petId: IdParam, photoId: PhotoIdParam) -> Response[None]:
    photos.delete(petId, photoId)
    metrics.add_metric(name="PhotoDeleted", unit="Count", value=1)
    return Response(status_code=HTTPStatus.NO_CONTENT)


lambda_handler = lambda_entry(app)
