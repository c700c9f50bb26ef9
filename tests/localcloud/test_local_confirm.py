"""The local-only confirm action of the web server: ``POST /local/confirm-sign-up {"email"}``.

Locally no email is sent, so the web client confirms a sign-up through this action
(AdminConfirmSignUp on the local backend). It is advertised in config.json as ``localConfirmUrl``.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.localcloud.conftest import EchoCloud

PASSWORD = "Confirm-passw0rd"


def sign_up(echo: EchoCloud, email: str) -> None:
    echo.client("cognito-idp").sign_up(
        ClientId=echo.config["cognito"]["userPoolClientId"],
        Username=email,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )


def user_status(echo: EchoCloud, email: str) -> str:
    user = echo.client("cognito-idp").admin_get_user(
        UserPoolId=echo.config["cognito"]["userPoolId"], Username=email
    )
    return str(user["UserStatus"])


def test_config_json_advertises_the_confirm_url(echo_cloud: EchoCloud) -> None:
    assert echo_cloud.config["localConfirmUrl"] == f"{echo_cloud.cloud.web_url}/local/confirm-sign-up"


def test_confirm_sign_up_lets_the_user_sign_in(echo_cloud: EchoCloud) -> None:
    email = f"confirm-{uuid.uuid4().hex[:8]}@example.com"
    sign_up(echo_cloud, email)
    assert user_status(echo_cloud, email) == "UNCONFIRMED"

    response = requests.post(echo_cloud.config["localConfirmUrl"], json={"email": email}, timeout=10)

    assert response.status_code == 200, response.text
    assert response.json() == {"email": email, "confirmed": True}
    assert "access-control-allow-origin" not in response.headers  # same origin as the page only
    assert user_status(echo_cloud, email) == "CONFIRMED"
    tokens = echo_cloud.client("cognito-idp").initiate_auth(
        ClientId=echo_cloud.config["cognito"]["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    assert tokens["AuthenticationResult"]["AccessToken"]


def test_unknown_user_is_404(echo_cloud: EchoCloud) -> None:
    response = requests.post(
        echo_cloud.config["localConfirmUrl"], json={"email": "nobody-here@example.com"}, timeout=10
    )
    assert response.status_code == 404
    assert response.json()["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"mail": "x@example.com"}', "application/json", 400),
        (b'{"email": ""}', "application/json", 400),
        (b'["x@example.com"]', "application/json", 400),
        (b"{not json", "application/json", 400),
        (b'{"email": "x@example.com"}', "text/plain", 415),  # no preflight: refused
        (b'{"email": "' + b"x" * 5000 + b'"}', "application/json", 413),
    ],
)
def test_bad_requests_are_refused_with_a_message(
    echo_cloud: EchoCloud, body: bytes, content_type: str, status: int
) -> None:
    response = requests.post(
        echo_cloud.config["localConfirmUrl"], data=body, headers={"content-type": content_type}, timeout=10
    )
    assert response.status_code == status, response.text
    assert response.json()["message"]


def test_only_post(echo_cloud: EchoCloud) -> None:
    response = requests.get(echo_cloud.config["localConfirmUrl"], timeout=10)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
