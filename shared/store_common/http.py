"""The HTTP side shared by every service: resolver, error mapping, preconditions, entry point.

Every 4xx and 5xx body is JSON with a human-readable ``message``; validation errors also list the
offending fields. Nothing from a stack trace leaves the function.
"""

import base64
import json
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, NamedTuple

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from store_common.dynamo import AnyVersion
from store_common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unauthenticated,
)
from store_common.models import ErrorResponse, ItemT, Page
from store_common.tracing import new_tracer

MAX_BODY_BYTES = 64 * 1024
MAX_NUMBER_DIGITS = 20
"""Digits a number in a body may have (an int64 has 19): the JSON text is screened before any number
is converted, so a 4,301-digit integer is a 400, not Python's int-conversion limit raising a 500."""
NOT_UTF8 = (
    "not valid UTF-8 (a U+FFFD replacement character counts as such: gateways put it in place of "
    "bytes that are not UTF-8)"
)
UNSUPPORTED_MEDIA_TYPE = "Unsupported Media Type: send the body as application/json"
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})

logger = Logger()
tracer = new_tracer()  # the X-Ray SDK only where it traces (see store_common.tracing)
metrics = Metrics()

_STATUS_OF: dict[type[DomainError], HTTPStatus] = {
    InvalidInput: HTTPStatus.BAD_REQUEST,
    NotFound: HTTPStatus.NOT_FOUND,
    PreconditionFailed: HTTPStatus.PRECONDITION_FAILED,
    PreconditionRequired: HTTPStatus.PRECONDITION_REQUIRED,
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    Conflict: HTTPStatus.CONFLICT,
}


def status_of(error: DomainError) -> HTTPStatus:
    """The status of a domain error, or of its nearest base class that has one (else 400)."""
    return next(
        (_STATUS_OF[kind] for kind in type(error).__mro__ if kind in _STATUS_OF), HTTPStatus.BAD_REQUEST
    )


def json_error(status: HTTPStatus, message: str, errors: list[dict[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = errors
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body)


def error_responses(*statuses: int) -> dict[int, Any]:
    """OpenAPI ``responses`` entries for the error statuses a route can return."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"model": ErrorResponse}},
        }
        for status in statuses
    }


def ok_response(model: Any, description: str = "OK", status: int = 200) -> dict[int, Any]:
    """The OpenAPI ``responses`` entry of a success (Powertools omits it once errors are listed)."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


def list_responses(item_model: type[BaseModel]) -> dict[int, Any]:
    """OpenAPI ``responses`` of a list route: a page in v2, a bare array in v1 (``versioned_list``)."""
    shape = Page[item_model] | list[item_model]  # type: ignore[valid-type]
    return {**ok_response(shape, "v2: a page of items; v1: a bare array"), **error_responses(400)}


def _describe(error: dict[str, Any]) -> dict[str, str]:
    location = ".".join(str(part) for part in error.get("loc", ()))
    if error.get("type") == "json_invalid":
        return {"field": "body", "problem": "body is not valid JSON"}
    return {"field": location, "problem": str(error.get("msg", error.get("type", "invalid")))}


def create_app() -> APIGatewayHttpResolver:
    """A resolver with request validation and the project's error mapping."""
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        problems = [_describe(e) for e in error.errors()]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return json_error(HTTPStatus.BAD_REQUEST, f"Invalid request: {summary}", problems)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_type(_: RequestUnsupportedContentType) -> Response:
        return json_error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE)

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        return json_error(status_of(error), error.message)

    @app.not_found
    def _no_route(_: NotFoundError) -> Response:
        return json_error(HTTPStatus.NOT_FOUND, "Not found")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        return json_error(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")

    return app


def _screen_content_type(event: dict[str, Any]) -> tuple[HTTPStatus, str] | None:
    """Bodies are JSON only: any other declared media type is a 415, decided here.

    Why here: Powertools parses form and multipart bodies too (so a form could have written an
    item), answers other types with an exception our generic handler turned into a 500, and
    compares ``application/json`` case-sensitively. A JSON type in any case is normalised to
    ``application/json`` for it; a missing content type is read as JSON, as Powertools does.
    """
    headers = event.get("headers") or {}
    name = next((key for key in headers if key.lower() == "content-type"), None)
    if name is None:
        return None
    media_type = str(headers[name]).split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        headers[name] = "application/json"
        return None
    method = str((event.get("requestContext") or {}).get("http", {}).get("method", "")).upper()
    if event.get("body") or method in _METHODS_WITH_BODY:
        return HTTPStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE
    return None


class Refusal(NamedTuple):
    """Why a request is refused before routing: its status, message and offending fields."""

    status: HTTPStatus
    message: str
    errors: list[dict[str, str]] | None = None


def _invalid(field: str, problem: str) -> Refusal:
    """A 400 naming the field, shaped as request validation's own (``message`` and ``errors``)."""
    return Refusal(
        HTTPStatus.BAD_REQUEST, f"Invalid request: {field}: {problem}", [{"field": field, "problem": problem}]
    )


class _LongNumber:
    """Stands in, while a body is screened, for a number literal with too many digits."""


def _path_of(document: Any, target: object) -> str:
    """Where ``target`` sits in a parsed body, as validation names fields (``body.a.0``)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ("body",))]
    while stack:  # iterative: the body may be nested as deep as the parser allows
        value, path = stack.pop()
        if value is target:
            return ".".join(path)
        if isinstance(value, dict):
            stack.extend((child, (*path, str(key))) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, (*path, str(index))) for index, child in enumerate(value))
    return "body"


def _encodable(text: str) -> bool:
    """False when ``text`` holds a lone surrogate: it came from bytes that were not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def screen_body(event: dict[str, Any]) -> Refusal | None:
    """Refuse what request validation cannot see, or would see too late: a Refusal, or None if fine.

    - a body over MAX_BODY_BYTES (413);
    - a body (or a POST/PUT/PATCH) declared as anything but JSON (415);
    - a body that is not UTF-8, however it came (base64 or text), or holds U+FFFD (400);
    - a number with more than MAX_NUMBER_DIGITS digits, checked on the JSON text before any
      conversion (400 naming the field);
    - JSON with a repeated key: ambiguous, since parsers differ on which value wins (400);
    - JSON nested too deeply for the parser (400).
    Other not-JSON bodies pass through: request validation reports them with the field name.
    """
    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        return Refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"Body larger than {MAX_BODY_BYTES} bytes")
    unsupported = _screen_content_type(event)
    if unsupported:
        return Refusal(*unsupported)
    if event.get("isBase64Encoded"):  # API Gateway's choice for a body sent with a non-text type
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except UnicodeDecodeError:
            return _invalid("body", NOT_UTF8)
        except ValueError:
            return _invalid("body", "the gateway's base64 encoding of the body is broken")
    if "\ufffd" in body or not _encodable(body):  # a text body that was not UTF-8, as delivered
        return _invalid("body", NOT_UTF8)
    if not body:
        return None
    duplicated: set[str] = set()
    long_number = _LongNumber()
    long_seen = False

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        duplicated.update(k for k in keys if keys.count(k) > 1)
        return dict(pairs)

    def number_hook(text: str) -> Any:
        nonlocal long_seen
        if sum(character.isdigit() for character in text) > MAX_NUMBER_DIGITS:
            long_seen = True
            return long_number
        return 0  # the value itself is of no use here: validation parses the body again

    try:
        document = json.loads(
            body, object_pairs_hook=pairs_hook, parse_int=number_hook, parse_float=number_hook
        )
    except ValueError:
        if long_seen:  # invalid JSON after a long number: Powertools' parser would raise on it
            return _invalid("body", f"a number has more than {MAX_NUMBER_DIGITS} digits")
        return None
    except RecursionError:
        return Refusal(HTTPStatus.BAD_REQUEST, "Invalid request: body is nested too deeply")
    if long_seen:
        return _invalid(_path_of(document, long_number), f"number has more than {MAX_NUMBER_DIGITS} digits")
    if duplicated:
        return Refusal(
            HTTPStatus.BAD_REQUEST, f"Invalid request: body has duplicate keys {sorted(duplicated)}"
        )
    return None


_VERSION_RE = re.compile(r'(?:W/)?"(0|[1-9][0-9]{0,17})"|(0|[1-9][0-9]{0,17})')


def parse_if_match(value: str | None) -> int | str | None:
    """``If-Match`` value -> expected version: an int, ``"*"`` (must exist) or None (no header).

    Exactly ``N``, ``"N"``, ``W/"N"`` or ``*``: anything else (``"1``, ``1"``, a list) is a 400.
    """
    if value is None:
        return None
    value = value.strip()
    if value == AnyVersion:
        return AnyVersion
    match = _VERSION_RE.fullmatch(value)
    if not match:
        raise InvalidInput(
            f'If-Match must be an item version: N, "N" or W/"N" (such as "3"), or *; not {value[:20]!r}'
        )
    return int(match.group(1) or match.group(2))


def parse_if_none_match(value: str | None) -> bool:
    """``If-None-Match``: ``*`` makes a write create-only (True); no header, False; else a 400."""
    if value is None:
        return False
    if value.strip() != "*":
        raise InvalidInput("If-None-Match supports only * (write only if the item does not exist yet)")
    return True


def parse_preconditions(if_match: str | None, if_none_match: str | None) -> tuple[int | str | None, bool]:
    """Both precondition headers of a PUT -> (expected version, create only)."""
    expected, create_only = parse_if_match(if_match), parse_if_none_match(if_none_match)
    if expected is not None and create_only:
        raise InvalidInput("send If-Match (replace that version) or If-None-Match: * (create only), not both")
    return expected, create_only


def versioned_list(app: APIGatewayHttpResolver, page: Page[ItemT]) -> Page[ItemT] | list[ItemT]:
    """A list in the shape of the API version that was called (the stage variable ``apiVersion``).

    v2 (current, and the default) answers the page with its ``nextToken``. v1, the legacy shape,
    answers a bare array and refuses with a 400 a list that does not fit in one page.
    """
    if app.current_event.stage_variables.get("apiVersion") != "v1":
        return page
    if page.nextToken:
        raise InvalidInput(
            f"Too many results: API v1 returns at most {len(page.items)} items (raise limit, up to 100); "
            "API v2 pages through any number"
        )
    return page.items


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def lambda_entry(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler of a service: logging with the request's correlation id, tracing, metrics."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        refused = screen_body(event)
        if refused:
            body: dict[str, Any] = {"message": refused.message}
            if refused.errors:
                body["errors"] = refused.errors
            return {
                "statusCode": refused.status.value,
                "headers": {"Content-Type": content_types.APPLICATION_JSON},
                "body": json.dumps(body),
                "isBase64Encoded": False,
            }
        return app.resolve(event, context)

    return handler
