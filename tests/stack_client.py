"""Driving the stack under test over HTTP, as any client would: through its config.json only.

Shared by the end-to-end, security and reliability suites. Cognito is reached with boto3 at
``cognito.endpointUrl`` (absent for a deployed stack, where the caller's AWS credentials are used)
and users are confirmed with AdminConfirmSignUp, so the same code signs users in locally and on AWS.
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3

PASSWORD = "E2e-passw0rd-" + uuid.uuid4().hex[:6]
TIMEOUT = 15
PET = {"name": "Rex", "species": "dog", "breed": "Labrador", "ageMonths": 30, "priceCents": 45000}
FOOD = {"name": "Biscuits", "species": "dog", "priceCents": 1299, "weightGrams": 2000}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def cognito_client(config: dict[str, Any]) -> Any:
    cognito = config["cognito"]
    if cognito.get("endpointUrl"):
        return boto3.client(
            "cognito-idp",
            endpoint_url=cognito["endpointUrl"],
            region_name=cognito["region"],
            aws_access_key_id="e2e",
            aws_secret_access_key="e2e",
        )
    return boto3.client("cognito-idp", region_name=cognito["region"])


def sign_up_and_in(cognito: Any, pool_id: str, client_id: str, email: str) -> dict[str, Any]:
    """A new confirmed user's tokens (``AccessToken``, ``IdToken``, ``RefreshToken``)."""
    cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD)
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
    response = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return dict(response["AuthenticationResult"])


def new_user_tokens(config: dict[str, Any], prefix: str = "user") -> dict[str, Any]:
    """Tokens of a new user of the stack's own pool and app client."""
    cognito = config["cognito"]
    email = f"{unique(prefix)}@example.com"
    tokens = sign_up_and_in(cognito_client(config), cognito["userPoolId"], cognito["userPoolClientId"], email)
    return {**tokens, "email": email}
