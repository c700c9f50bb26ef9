"""Signing a user up and in with the standard Cognito API only (what ``make token`` does).

Works the same against the local cloud (boto3 pointed at ``cognito.endpointUrl`` of config.json)
and against a deployed stack (no endpoint: real Cognito, with the caller's AWS credentials for
``AdminConfirmSignUp``, or ``--code`` with the emailed confirmation code).
"""

from __future__ import annotations

import base64
import json
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from localcloud.aws_backend import aws_client

__all__ = [
    "DEMO_CUSTOMER",
    "DEMO_STAFF",
    "STAFF_GROUP",
    "ConfigError",
    "DemoUser",
    "SignInError",
    "add_to_group",
    "fetch_config",
    "sign_in",
    "sign_in_demo",
]

#: template.yaml's StaffGroup: catalogue writes, photo uploads, moderation
STAFF_GROUP = "staff"


@dataclass(frozen=True)
class DemoUser:
    email: str
    #: satisfies the template's password policy; a local demo secret only
    password: str
    groups: tuple[str, ...] = ()


DEMO_STAFF = DemoUser("staff@example.com", "Staff-passw0rd!", (STAFF_GROUP,))
DEMO_CUSTOMER = DemoUser("customer@example.com", "Customer-passw0rd")


class ConfigError(RuntimeError):
    """config.json could not be read."""


class SignInError(RuntimeError):
    """The user could not be signed in; the message says why."""


def fetch_config(url: str, timeout: float = 2.0) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{url} is not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked
            document = json.loads(response.read())
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read {url}: {error}") from None
    if not isinstance(document, dict) or "cognito" not in document:
        raise ConfigError(f"{url} is not a config.json of this project")
    return document


def cognito_client(config: dict[str, Any]) -> Any:
    cognito = config["cognito"]
    return aws_client("cognito-idp", cognito.get("endpointUrl"), cognito["region"])


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def sign_in_demo(config: dict[str, Any], user: DemoUser = DEMO_STAFF) -> dict[str, Any]:
    """A demo user's tokens (the staff member by default), created on first use."""
    return sign_in(config, user.email, user.password, groups=user.groups)


def add_to_group(config: dict[str, Any], email: str, group: str = STAFF_GROUP) -> None:
    """AdminAddUserToGroup: their next sign-in (or token refresh) carries the group."""
    try:
        cognito_client(config).admin_add_user_to_group(
            UserPoolId=config["cognito"]["userPoolId"], Username=email, GroupName=group
        )
    except ClientError as error:
        raise SignInError(f"cannot add {email} to {group}: {error}") from None


def token_groups(access_token: str) -> set[str]:
    """``cognito:groups`` of a token, read without verifying it (it comes straight from Cognito)."""
    payload = access_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return set(claims.get("cognito:groups") or [])


def sign_in(
    config: dict[str, Any],
    email: str,
    password: str,
    confirmation_code: str | None = None,
    groups: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Returns Cognito's ``AuthenticationResult`` (AccessToken, IdToken, RefreshToken...).

    Signs the user up and confirms them first when they cannot sign in yet, and makes them a
    member of ``groups`` (AdminAddUserToGroup: the local cloud, or AWS credentials allowed to).
    """
    tokens = _sign_in(config, email, password, confirmation_code)
    missing = [group for group in groups if group not in token_groups(tokens["AccessToken"])]
    for group in missing:
        add_to_group(config, email, group)
    return _sign_in(config, email, password, None) if missing else tokens


def _sign_in(
    config: dict[str, Any], email: str, password: str, confirmation_code: str | None
) -> dict[str, Any]:
    client = cognito_client(config)
    pool_id = config["cognito"]["userPoolId"]
    client_id = config["cognito"]["userPoolClientId"]

    def initiate() -> dict[str, Any]:
        response = client.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        if "AuthenticationResult" not in response:
            raise SignInError(
                f"Cognito asks for a challenge ({response.get('ChallengeName')}), not supported here"
            )
        return dict(response["AuthenticationResult"])

    try:
        return initiate()
    except ClientError as error:
        if _error_code(error) not in (
            "NotAuthorizedException",
            "UserNotFoundException",
            "UserNotConfirmedException",
        ):
            raise SignInError(str(error)) from None
    try:
        client.sign_up(
            ClientId=client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
    except ClientError as error:
        if _error_code(error) != "UsernameExistsException":
            raise SignInError(str(error)) from None
    try:
        if confirmation_code:
            client.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=confirmation_code)
        else:
            client.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
    except ClientError as error:
        # an already confirmed user (wrong password, most likely) fails again below, with the reason
        if _error_code(error) not in ("NotAuthorizedException",):
            raise SignInError(str(error)) from None
    try:
        return initiate()
    except ClientError as error:
        raise SignInError(f"{email} cannot sign in: {error}") from None
