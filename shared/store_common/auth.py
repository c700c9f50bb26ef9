"""Who is calling, and the one rule about roles: staff-only routes.

API Gateway's JWT authorizer has verified the access token before any code runs (template.yaml:
signature, issuer, app client, expiry, and the ``aws.cognito.signin.user.admin`` scope that only
access tokens carry). What it passes on in ``requestContext.authorizer.jwt.claims`` is therefore
trusted here: ``sub`` is the user, ``cognito:groups`` their Cognito groups. API Gateway passes a
list claim as one string, ``"[staff other]"``; a list is read too (other gateways, tests).

Roles: members of the Cognito group :data:`STAFF_GROUP` (``StaffGroup`` in template.yaml) edit the
catalogue, upload photos and moderate; every other signed-in user is a customer. A route is made
staff-only by :func:`staff_only_route`, which adds the guard :func:`staff_only` (a Powertools route
middleware: 403 with a JSON message for anyone else) and marks the route ``x-required-group: staff``
in openapi.json. The template names the same routes with a ``# staff only`` comment.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from store_common.errors import Unauthenticated
from store_common.http import error_responses, json_error

STAFF_GROUP = "staff"
STAFF_ONLY_MESSAGE = "Only store staff may do this: it needs the staff role"


@dataclass(frozen=True)
class Caller:
    user_id: str
    groups: frozenset[str]

    @property
    def is_staff(self) -> bool:
        return STAFF_GROUP in self.groups


def groups_of(claims: Mapping[str, Any]) -> frozenset[str]:
    raw = claims.get("cognito:groups")
    if isinstance(raw, list | tuple):
        return frozenset(str(group) for group in raw)
    if isinstance(raw, str):
        return frozenset(raw.strip().removeprefix("[").removesuffix("]").replace(",", " ").split())
    return frozenset()


def caller_of(event: APIGatewayProxyEventV2) -> Caller:
    """The verified caller of a route behind the JWT authorizer; 401 when there is none."""
    claims: Mapping[str, Any] = event.request_context.authorizer.jwt_claim or {}
    subject = claims.get("sub")
    if not subject:
        raise Unauthenticated("Unauthorized")
    return Caller(user_id=str(subject), groups=groups_of(claims))


def staff_only(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response]) -> Response:
    """Route middleware: staff go on, everyone else gets 403."""
    if not caller_of(app.current_event).is_staff:
        return json_error(HTTPStatus.FORBIDDEN, STAFF_ONLY_MESSAGE)
    return next_middleware(app)


def staff_only_route(responses: dict[int, Any]) -> dict[str, Any]:
    """Keyword arguments of a staff-only route: the guard, its 403, and its mark in openapi.json."""
    return {
        "middlewares": [staff_only],
        "openapi_extensions": {"x-required-group": STAFF_GROUP},
        "responses": {**responses, **error_responses(403)},
    }
