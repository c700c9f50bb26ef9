"""The one module that reaches into moto: fails loudly when moto changes under it."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import moto
import pytest
from botocore.exceptions import ClientError
from moto.awslambda.models import LambdaFunction
from moto.events.models import Rule

from localcloud import moto_internals
from localcloud.aws_backend import AwsBackend
from localcloud.cognito_user import sign_in

from .conftest import EchoCloud


def test_written_for_the_installed_moto() -> None:
    assert moto.__version__ == moto_internals.MOTO_VERSION, (
        "moto changed: re-check localcloud/moto_internals.py (server app, pickling, Lambda and "
        "EventBridge patches) against the new version, then update MOTO_VERSION"
    )


def test_the_patched_methods_still_have_the_signatures_we_replace() -> None:
    import inspect

    assert list(inspect.signature(moto_internals._original_invoke).parameters) == [
        "self",
        "body",
        "request_headers",
        "response_headers",
    ]
    assert list(inspect.signature(moto_internals._original_send_to_targets).parameters) == [
        "self",
        "original_event",
        "transform_input",
    ]
    assert "self.targets" in inspect.getsource(Rule.__init__)


@pytest.fixture
def restore_patches() -> Iterator[None]:
    invoke, send = LambdaFunction.invoke, Rule.send_to_targets
    try:
        yield
    finally:
        LambdaFunction.invoke = invoke  # type: ignore[method-assign]
        Rule.send_to_targets = send  # type: ignore[method-assign]


@pytest.mark.usefixtures("restore_patches")
def test_install_and_uninstall() -> None:
    def invoker(name: str, event: Any) -> tuple[bool, Any]:
        return True, {}

    moto_internals.install_local_integrations(invoker, None, "http://127.0.0.1:9")
    assert LambdaFunction.invoke is not moto_internals._original_invoke
    assert Rule.send_to_targets is not moto_internals._original_send_to_targets
    moto_internals.install_local_integrations(None)
    assert LambdaFunction.invoke is moto_internals._original_invoke
    assert Rule.send_to_targets is moto_internals._original_send_to_targets


def test_state_round_trip(echo_cloud: EchoCloud, tmp_path: Path) -> None:
    """Pickling every backend (Cognito keys included) and loading it back keeps users and items."""
    tokens = sign_in(echo_cloud.config, "persist@example.com", "Persist-passw0rd")
    table = echo_cloud.cloud.stack.physical["EchoTable"].ref  # type: ignore[union-attr]
    dynamodb = echo_cloud.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "persisted"}, "sk": {"S": "1"}})
    blob, failed = moto_internals.save_state()
    assert failed == []
    assert moto_internals.load_state(blob) == []
    assert dynamodb.get_item(TableName=table, Key={"pk": {"S": "persisted"}, "sk": {"S": "1"}})["Item"]
    again = sign_in(echo_cloud.config, "persist@example.com", "Persist-passw0rd")
    assert again["AccessToken"] != tokens["AccessToken"]


def test_backend_reports_a_port_in_use() -> None:
    from localcloud.servers import PortInUseError

    first = AwsBackend(port=0)
    port = int(first.url.rsplit(":", 1)[1])
    try:
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port} is already in use"):
            AwsBackend(port=port)
    finally:
        first.stop()


def test_server_mode_jwks_route(echo_cloud: EchoCloud) -> None:
    import requests

    pool = echo_cloud.config["cognito"]["userPoolId"]
    keys = requests.get(
        f"{echo_cloud.config['awsEndpointUrl']}/{pool}/.well-known/jwks.json", timeout=10
    ).json()
    assert [key["kid"] for key in keys["keys"]] == ["dummy"]
    assert json.dumps(keys)


def test_an_unreadable_state_file_is_set_aside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_PORT", os.environ.get("MOTO_PORT", "5000"))  # restored afterwards
    state = tmp_path / "aws-state.pickle"
    state.write_bytes(b"not a pickle")
    lines: list[str] = []
    backend = AwsBackend(port=0, state_file=state, console=lines.append).start()
    try:
        assert (tmp_path / "aws-state.unreadable").read_bytes() == b"not a pickle"
        assert any("cannot restore" in line for line in lines)
    finally:
        backend.stop()
    assert state.exists()  # saved afresh on stop


def test_revoke_token_retires_the_refresh_token(echo_cloud: EchoCloud) -> None:
    """Cognito's RevokeToken (the web client's sign-out), which moto lacks; after it, refreshing is
    refused as Cognito refuses it."""
    tokens = sign_in(echo_cloud.config, "revoke@example.com", "Revoke-passw0rd!")
    cognito = echo_cloud.client("cognito-idp")
    client_id = echo_cloud.config["cognito"]["userPoolClientId"]
    refresh = {"REFRESH_TOKEN": tokens["RefreshToken"]}
    assert cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=refresh)
    with pytest.raises(ClientError, match="not issued to this client"):
        cognito.revoke_token(Token=tokens["RefreshToken"], ClientId="someone-else")
    cognito.revoke_token(Token=tokens["RefreshToken"], ClientId=client_id)
    cognito.revoke_token(Token=tokens["RefreshToken"], ClientId=client_id)  # again: accepted
    with pytest.raises(ClientError, match="Refresh Token has been revoked"):
        cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=refresh)
