"""Lambda entry point of the comments service: POST /comments, GET /comments/{pageId}."""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from store_common.config import IdempotentTableSettings
from store_common.dynamo import dynamodb_client
from store_common.errors import Unauthenticated
from store_common.http import (
    create_app,
    error_responses,
    json_error,
    lambda_entry,
    list_responses,
    metrics,
    ok_response,
    versioned_list,
)
from store_common.models import Page
from store_common.params import IdParam, Limit, NextToken

from comments.dal import DynamoCommentTable
from comments.logic import Comments
from comments.models import Author, Comment, CommentIn

settings = IdempotentTableSettings.from_environment()
dynamodb = dynamodb_client()  # one client for the comments and the idempotency records
comments = Comments(DynamoCommentTable(settings.table_name, dynamodb))
idempotency = IdempotencyConfig(
    event_key_jmespath="[authorId, idempotencyKey]",
    payload_validation_jmespath="[pageId, message]",
    expires_after_seconds=24 * 3600,
)
idempotency_store = DynamoDBPersistenceLayer(
    table_name=settings.idempotency_table_name, boto3_client=dynamodb
)

app = create_app()

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        pattern=r"^[\x21-\x7e]{1,128}$",
        description="Retrying a POST with the same key returns the first result instead of a new comment.",
    ),
]


@app.exception_handler(IdempotencyValidationError)
def _key_reused(_: IdempotencyValidationError) -> Response:
    return json_error(HTTPStatus.CONFLICT, "Idempotency-Key was already used for a different comment")


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _key_in_progress(_: IdempotencyAlreadyInProgressError) -> Response:
    return json_error(
        HTTPStatus.CONFLICT, "A request with this Idempotency-Key is in progress; retry shortly"
    )


def author_from_token() -> Author:
    """The author is whoever the JWT authorizer verified; the body cannot say otherwise."""
    claims: dict[str, Any] = app.current_event.request_context.authorizer.jwt_claim or {}
    subject = claims.get("sub")
    if not subject:
        raise Unauthenticated("Unauthorized")
    name = claims.get("email") or claims.get("username") or claims.get("cognito:username") or subject
    return Author(id=str(subject), name=str(name))


@idempotent_function(data_keyword_argument="request", persistence_store=idempotency_store, config=idempotency)
def post_once(request: dict[str, Any]) -> dict[str, Any]:
    author = Author(id=request["authorId"], name=request["authorName"])
    data = CommentIn(pageId=request["pageId"], message=request["message"])
    return comments.post(author, data).model_dump()


@app.post(
    "/comments",
    summary="Post a comment on a page",
    operation_id="postComment",
    tags=["Comments"],
    responses={
        **ok_response(Comment, "Created", status=201),
        **error_responses(400, 409, 413, 415),
    },
)
def post_comment(
    body: Annotated[CommentIn, Body()], idempotency_key: IdempotencyKey = None
) -> Response[Comment]:
    author = author_from_token()
    if idempotency_key:
        idempotency.register_lambda_context(app.lambda_context)
        request = {"authorId": author.id, "authorName": author.name, "idempotencyKey": idempotency_key}
        comment = Comment.model_validate(post_once(request={**request, **body.model_dump()}))
    else:
        comment = comments.post(author, body)
    metrics.add_metric(name="CommentPosted", unit="Count", value=1)
    return Response(status_code=HTTPStatus.CREATED, content_type=content_types.APPLICATION_JSON, body=comment)


@app.get(
    "/comments/<pageId>",
    summary="List a page's comments, newest first",
    operation_id="listComments",
    tags=["Comments"],
    responses=list_responses(Comment),
)
def list_comments(
    pageId: IdParam,
    limit: Limit = 20,
    next_token: NextToken = None,
) -> Page[Comment] | list[Comment]:
    return versioned_list(app, comments.list(pageId, limit, next_token))


lambda_handler = lambda_entry(app)
