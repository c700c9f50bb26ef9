"""Custom resources run for real at deploy time: request, ResponseURL, answer, and the record kept
between deployments (no request when nothing changed, Update when something did).

The function is a small custom resource handler written here (it answers with urllib, as
cfn-response does), run in a worker against the ``echo_cloud`` backend.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcloud.custom_resources import CustomResourceRunner, cloudformation_strings, one_off_invoker
from localcloud.functions import FunctionSpec, InvocationResult
from localcloud.stack import LocalStack, deploy, support_of
from localcloud.template import load_template

from .conftest import Console, EchoCloud

HANDLER = """
import json
import urllib.request


def handler(event, context):
    props = event["ResourceProperties"]
    mode = props.get("Mode", "ok")
    print("request", event["RequestType"], json.dumps(props))
    if mode == "raise":
        raise RuntimeError("told to raise")
    if mode == "silent":
        return None
    answer = {
        "Status": "FAILED" if mode == "fail" else "SUCCESS",
        "Reason": "told to fail",
        "PhysicalResourceId": props.get("Id", "thing-1"),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {
            "Echo": json.dumps(
                {"type": event["RequestType"], "count": props.get("Count"), "old": event.get("OldResourceProperties")}
            )
        },
    }
    request = urllib.request.Request(event["ResponseURL"], data=json.dumps(answer).encode(), method="PUT")
    urllib.request.urlopen(request, timeout=5).close()
"""


class CountingInvoker:
    """The real one-off invoker, counting the requests sent."""

    def __init__(self, echo: EchoCloud) -> None:
        assert echo.cloud.backend is not None
        self._invoke = one_off_invoker(echo.cloud.backend.url, "us-east-1", Console())
        self.requests: list[str] = []

    def __call__(self, spec: FunctionSpec, event: dict[str, Any]) -> InvocationResult:
        self.requests.append(event["RequestType"])
        return self._invoke(spec, event)


def write_template(tmp_path: Path, **properties: Any) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "custom.py").write_text(HANDLER)
    template = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "CustomFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": str(code),
                    "Handler": "custom.handler",
                    "Runtime": "python3.13",
                    "Timeout": 5,
                },
            },
            "Thing": {
                "Type": "Custom::Thing",
                "Properties": {"ServiceToken": {"Fn::GetAtt": ["CustomFunction", "Arn"]}, **properties},
            },
            "UsesThing": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": {"Fn::GetAtt": ["Thing", "Echo"]}},
            },
        },
    }
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(template))
    return path


def deploy_with(echo: EchoCloud, path: Path, stack_name: str, invoker: CountingInvoker | None) -> LocalStack:
    assert echo.cloud.backend is not None
    runner = CustomResourceRunner(invoker, Console()) if invoker is not None else None
    try:
        return deploy(
            load_template(path, stack_name=stack_name),
            echo.cloud.backend.client,
            echo.cloud.backend.url,
            custom_resources=runner,
        )
    finally:
        if runner is not None:
            runner.close()


def echoed(stack: LocalStack) -> dict[str, Any]:
    return dict(json.loads(stack.physical["UsesThing"].ref))


@pytest.fixture
def stack_name() -> str:
    return f"custom-{uuid.uuid4().hex[:8]}"


def test_every_custom_type_is_emulated() -> None:
    assert support_of("Custom::Anything") == support_of("AWS::CloudFormation::CustomResource") == "emulated"


def test_properties_arrive_as_strings() -> None:
    assert cloudformation_strings({"a": 1, "b": [True, 2.5, {"c": None}], "d": "x"}) == {
        "a": "1",
        "b": ["true", "2.5", {"c": None}],
        "d": "x",
    }


def test_create_then_nothing_then_update(echo_cloud: EchoCloud, tmp_path: Path, stack_name: str) -> None:
    invoker = CountingInvoker(echo_cloud)
    path = write_template(tmp_path, Count=3)
    first = deploy_with(echo_cloud, path, stack_name, invoker)
    assert first.failures == []
    assert first.physical["Thing"].ref == "thing-1"
    assert echoed(first) == {"type": "Create", "count": "3", "old": None}  # GetAtt of the answer's Data
    again = deploy_with(echo_cloud, path, stack_name, invoker)  # a restart: nothing changed
    assert invoker.requests == ["Create"]
    assert echoed(again) == echoed(first) and again.physical["Thing"].ref == "thing-1"
    changed = deploy_with(echo_cloud, write_template(tmp_path, Count=4), stack_name, invoker)
    assert invoker.requests == ["Create", "Update"]
    update = echoed(changed)
    assert update["type"] == "Update" and update["count"] == "4" and update["old"]["Count"] == "3"


def test_an_update_with_a_new_physical_id_deletes_the_old_one(
    echo_cloud: EchoCloud, tmp_path: Path, stack_name: str
) -> None:
    invoker = CountingInvoker(echo_cloud)
    deploy_with(echo_cloud, write_template(tmp_path, Id="first"), stack_name, invoker)
    replaced = deploy_with(echo_cloud, write_template(tmp_path, Id="second"), stack_name, invoker)
    assert replaced.physical["Thing"].ref == "second"
    assert invoker.requests == ["Create", "Update", "Delete"]


def test_invoke_reuses_the_recorded_answer_without_running_anything(
    echo_cloud: EchoCloud, tmp_path: Path, stack_name: str
) -> None:
    path = write_template(tmp_path)
    deploy_with(echo_cloud, path, stack_name, CountingInvoker(echo_cloud))
    without_runner = deploy_with(echo_cloud, path, stack_name, None)
    assert without_runner.physical["Thing"].ref == "thing-1"
    never_deployed = deploy_with(echo_cloud, path, stack_name + "-x", None)
    assert any("custom resource not run here" in warning for warning in never_deployed.warnings)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("fail", "FAILED: told to fail"),
        ("raise", "the function failed without answering: RuntimeError: told to raise"),
        ("silent", "the function returned without answering at the ResponseURL"),
    ],
)
def test_a_failure_is_reported_by_name_and_never_hangs(
    echo_cloud: EchoCloud, tmp_path: Path, stack_name: str, mode: str, reason: str
) -> None:
    started = time.monotonic()
    stack = deploy_with(
        echo_cloud, write_template(tmp_path, Mode=mode), stack_name, CountingInvoker(echo_cloud)
    )
    assert time.monotonic() - started < 20
    assert stack.failures == [f"Thing (Custom::Thing): Create failed: {reason}"]
    assert "Thing" in stack.physical
    # what depends on its Data is left out and reported, as CloudFormation would not create it
    assert any(
        warning.startswith("UsesThing (AWS::Logs::LogGroup) is left out") for warning in stack.warnings
    )


def test_a_service_token_that_is_no_local_function_is_reported(echo_cloud: EchoCloud, tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Thing:\n    Type: Custom::Thing\n"
        "    Properties: {ServiceToken: 'arn:aws:sns:us-east-1:123456789012:topic'}\n"
    )
    stack = deploy_with(echo_cloud, path, f"sns-{uuid.uuid4().hex[:8]}", CountingInvoker(echo_cloud))
    assert any("SNS service tokens are not emulated" in warning for warning in stack.warnings)


def test_the_response_url_takes_one_put_per_request(echo_cloud: EchoCloud) -> None:
    import requests

    runner = CustomResourceRunner(CountingInvoker(echo_cloud), Console())
    try:
        url = runner._response_url("unknown-request")
        assert requests.put(url, data=b"{}", timeout=5).status_code == 403  # no such request pending
        assert requests.get(url, timeout=5).status_code == 405
    finally:
        runner.close()
