"""Lambda entry point of the photos API: POST and GET /pets/{petId}/photos.

Which route needs a token is declared in template.yaml (the JWT authorizer), not here.
"""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from store_common.dynamo import dynamodb_client
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

from photos.dal import DynamoPetDirectory, DynamoPhotoTable, S3PhotoStorage
from photos.logic import Photos
from photos.models import Photo, UploadRequest, UploadTicket
from photos.settings import ApiSettings

settings = ApiSettings.from_environment()
dynamodb = dynamodb_client()  # one client for both tables
photos = Photos(
    DynamoPhotoTable(settings.table_name, dynamodb),
    DynamoPetDirectory(settings.pets_table_name, dynamodb),
    S3PhotoStorage(settings.uploads_bucket, settings.distribution_bucket),
    max_upload_bytes=settings.max_upload_bytes,
)

app = create_app()


@app.post(
    "/pets/<petId>/photos",
    summary="Request an upload of a pet's photo",
    operation_id="requestPhotoUpload",
    description=(
        "Records a PENDING photo and returns a presigned S3 POST form: send every `fields` entry, "
        "then the file as `file`, to `url` within `expiresIn` seconds. The upload starts processing; "
        "the photo then lists as READY with its renditions, or FAILED with a reason."
    ),
    tags=["Photos"],
    responses={
        **ok_response(UploadTicket, "Created", status=201),
        **error_responses(400, 404, 413, 415),
    },
)
def request_upload(petId: IdParam, body: Annotated[UploadRequest, Body()]) -> Response[UploadTicket]:
    ticket = photos.request_upload(petId, body.contentType)
    metrics.add_metric(name="PhotoUploadRequested", unit="Count", value=1)
    return Response(status_code=HTTPStatus.CREATED, content_type=content_types.APPLICATION_JSON, body=ticket)


@app.get(
    "/pets/<petId>/photos",
    summary="List a pet's photos, newest first",
    operation_id="listPhotos",
    tags=["Photos"],
    responses=list_responses(Photo),
)
def list_photos(petId: IdParam, limit: Limit = 20, next_token: NextToken = None) -> Page[Photo] | list[Photo]:
    return versioned_list(app, photos.list(petId, limit, next_token))


lambda_handler = lambda_entry(app)
