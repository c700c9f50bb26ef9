"""Driving the stack under test over HTTP, as any client would: through its config.json only.

Shared by the end-to-end, security and reliability suites. Cognito is reached with boto3 at
``cognito.endpointUrl`` (absent for a deployed stack, where the caller's AWS credentials are used)
and users are confirmed with AdminConfirmSignUp, so the same code signs users in locally and on AWS.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import boto3

PASSWORD = "E2e-passw0rd-" + uuid.uuid4().hex[:6]
TIMEOUT = 15
PET: dict[str, Any] = {
    "name": "Rex",
    "species": "dog",
    "breed": "Labrador",
    "ageMonths": 30,
    "priceCents": 45000,
}
FOOD: dict[str, Any] = {"name": "Biscuits", "species": "dog", "priceCents": 1299, "weightGrams": 2000}
#: Set by CI against a deployed stack (e.g. ``gh123456789-1``): every name ``unique`` makes, user
#: emails included, then starts with ``<run id>-``, so that ``tools/delete_test_users.py`` can delete
#: exactly this run's users. Unset, names are as they always were.
RUN_ID_VARIABLE = "E2E_RUN_ID"
RUN_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")


def run_id() -> str:
    """This run's id (``E2E_RUN_ID``), or "" when unset; short and safe in ids and emails."""
    value = os.environ.get(RUN_ID_VARIABLE, "")
    if value and not RUN_ID_PATTERN.fullmatch(value):
        raise ValueError(f"{RUN_ID_VARIABLE}={value!r}: 1-24 lower-case letters, digits and '-'")
    return value


def unique(prefix: str) -> str:
    run = run_id()
    return f"{run}-{prefix}-{uuid.uuid4().hex[:12]}" if run else f"{prefix}-{uuid.uuid4().hex[:12]}"


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


STAFF_GROUP = "staff"  # template.yaml's StaffGroup


def sign_up_and_in(
    cognito: Any, pool_id: str, client_id: str, email: str, groups: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A new confirmed user's tokens (``AccessToken``, ``IdToken``, ``RefreshToken``), as a member
    of ``groups`` (their tokens carry them in ``cognito:groups``)."""
    cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD)
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    response = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return dict(response["AuthenticationResult"])


def new_pet(api: str, staff_auth: dict[str, str], prefix: str = "pet") -> str:
    """A new pet (staff create it; ``If-None-Match: *``); its id, a page that comments can go on."""
    import requests

    pet_id = unique(prefix)
    response = requests.put(
        f"{api}/pets/{pet_id}", json=PET, headers={**staff_auth, "If-None-Match": "*"}, timeout=TIMEOUT
    )
    response.raise_for_status()
    return pet_id


def new_user_tokens(
    config: dict[str, Any], prefix: str = "user", groups: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Tokens of a new user (a customer, unless ``groups`` say more) of the stack's own pool and app
    client."""
    cognito = config["cognito"]
    email = f"{unique(prefix)}@example.com"
    tokens = sign_up_and_in(
        cognito_client(config), cognito["userPoolId"], cognito["userPoolClientId"], email, groups
    )
    return {**tokens, "email": email}


def new_staff_tokens(config: dict[str, Any], prefix: str = "staff") -> dict[str, Any]:
    """Tokens of a new member of the staff group (catalogue writes, photo uploads, moderation)."""
    return new_user_tokens(config, prefix, (STAFF_GROUP,))
