"""Signing a user up and in with the standard Cognito API only (what ``make token`` does).

Works the same against the local cloud (boto3 pointed at ``cognito.endpointUrl`` of config.json)
and against a deployed stack (no endpoint: real Cognito, with the caller's AWS credentials for
``AdminConfirmSignUp``, or ``--code`` with the emailed confirmation code).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from botocore.exceptions import ClientError

from localcloud.aws_backend import aws_client

__all__ = ["DEMO_EMAIL", "DEMO_PASSWORD", "ConfigError", "SignInError", "fetch_config", "sign_in"]

DEMO_EMAIL = "demo@example.com"
#: satisfies the template's password policy (upper, lower, digit, 8+); a local demo secret only
DEMO_PASSWORD = "Demo-passw0rd"  # noqa: S105
DEFAULT_CONFIG_URL = "http://127.0.0.1:3000/config.json"


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


def sign_in(
    config: dict[str, Any],
    email: str = DEMO_EMAIL,
    password: str = DEMO_PASSWORD,
    confirmation_code: str | None = None,
) -> dict[str, Any]:
    """Returns Cognito's ``AuthenticationResult`` (AccessToken, IdToken, RefreshToken...).

    Signs the user up and confirms them first when they cannot sign in yet.
    """
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
