"""Lambda entry point of the comments service: POST /comments, GET /comments/{pageId} and
DELETE /comments/{pageId}/{commentId}.

Which routes need a token is declared in template.yaml (the JWT authorizer); who the author is
comes from that verified token (``store_common.auth.caller_of``), never from the body.
"""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from store_common.auth import caller_of
from store_common.dynamo import dynamodb_client
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

from comments.dal import DynamoAuthorNames, DynamoCommentTable
from comments.logic import Comments
from comments.models import COMMENT_ID_PATTERN, Comment, CommentIn
from comments.settings import ApiSettings

settings = ApiSettings.from_environment()
dynamodb = dynamodb_client()  # one client for every table this function reads or writes
comments = Comments(
    DynamoCommentTable(settings.table_name, settings.pets_table_name, dynamodb),
    DynamoAuthorNames(settings.profiles_table_name, dynamodb),
)
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
CommentIdParam = Annotated[
    str, Path(pattern=COMMENT_ID_PATTERN, description="The comment's id: 32 hex digits.")
]


@app.exception_handler(IdempotencyValidationError)
def _key_reused(_: IdempotencyValidationError) -> Response:
    return json_error(HTTPStatus.CONFLICT, "Idempotency-Key was already used for a different comment")


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _key_in_progress(_: IdempotencyAlreadyInProgressError) -> Response:
    return json_error(
        HTTPStatus.CONFLICT, "A request with this Idempotency-Key is in progress; retry shortly"
    )


@idempotent_function(data_keyword_argument="request", persistence_store=idempotency_store, config=idempotency)
def post_once(request: dict[str, Any]) -> dict[str, Any]:
    data = CommentIn(pageId=request["pageId"], message=request["message"])
    return comments.post(request["authorId"], data).model_dump()


@app.post(
    "/comments",
    summary="Comment on a pet",
    operation_id="postComment",
    description=(
        "`pageId` is the pet's id: 404 when no such pet exists. The comment shows your display name "
        "(PUT /me) as `authorName`, or a neutral default until you have set one."
    ),
    tags=["Comments"],
    responses={
        **ok_response(Comment, "Created", status=201),
        **error_responses(400, 404, 409, 413, 415),
    },
)
def post_comment(
    body: Annotated[CommentIn, Body()], idempotency_key: IdempotencyKey = None
) -> Response[Comment]:
    author_id = caller_of(app.current_event).user_id
    if idempotency_key:
        idempotency.register_lambda_context(app.lambda_context)
        request = {"authorId": author_id, "idempotencyKey": idempotency_key, **body.model_dump()}
        comment = Comment.model_validate(post_once(request=request))
    else:
        comment = comments.post(author_id, body)
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


@app.delete(
    "/comments/<pageId>/<commentId>",
    summary="Delete a comment",
    operation_id="deleteComment",
    description="Its author may delete it, and so may store staff (moderation); anyone else gets 403.",
    tags=["Comments"],
    responses={204: {"description": "Deleted"}, **error_responses(400, 403, 404)},
)
def delete_comment(pageId: IdParam, commentId: CommentIdParam) -> Response[None]:
    caller = caller_of(app.current_event)
    comments.delete(pageId, commentId, caller.user_id, caller.is_staff)
    metrics.add_metric(name="CommentDeleted", unit="Count", value=1)
    return Response(status_code=HTTPStatus.NO_CONTENT)


lambda_handler = lambda_entry(app)
