"""Lambda entry point of the profiles service: GET and PUT /me, the caller's own profile.

Both routes sit behind the JWT authorizer (template.yaml); whose profile it is comes from the
verified token (``store_common.auth.caller_of``), never from the request.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from store_common.auth import caller_of
from store_common.config import TableSettings
from store_common.http import create_app, error_responses, lambda_entry, ok_response

from profiles.dal import DynamoProfileTable
from profiles.logic import Profiles
from profiles.models import Profile, ProfileIn

settings = TableSettings.from_environment()
profiles = Profiles(DynamoProfileTable(settings.table_name))

app = create_app()


@app.get(
    "/me",
    summary="Read your profile",
    operation_id="getMyProfile",
    description="404 until you have set a display name with PUT /me.",
    tags=["Profiles"],
    responses={**ok_response(Profile), **error_responses(404)},
)
def get_me() -> Profile:
    return profiles.get(caller_of(app.current_event).user_id)


@app.put(
    "/me",
    summary="Set your display name",
    operation_id="putMyProfile",
    description="Your comments show this name from then on (never your email or user id).",
    tags=["Profiles"],
    responses={**ok_response(Profile), **error_responses(400, 413, 415)},
)
def put_me(body: Annotated[ProfileIn, Body()]) -> Profile:
    return profiles.put(caller_of(app.current_event).user_id, body)


lambda_handler = lambda_entry(app)
