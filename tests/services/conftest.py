"""Fixtures for handler tests: the real Powertools resolvers against moto's in-process DynamoDB.

Tables are created from template.yaml's definitions and each function gets the environment the
template gives it, so the tests exercise what is deployed. Physical table names are the logical ids.
"""

import copy
import importlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import cfnlint.decode
import pytest
from moto import mock_aws  # imported before boto3 clients exist, so moto intercepts them

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"

BASE_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "PetStore",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
os.environ.update(BASE_ENV)
os.environ.pop("AWS_ENDPOINT_URL", None)


def load_template() -> dict[str, Any]:
    template, problems = cfnlint.decode.decode(str(ROOT / "template.yaml"))
    assert not problems, problems
    return template


TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def function_environment(logical_id: str) -> dict[str, str]:
    variables = RESOURCES[logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return {
        name: value["Ref"] if isinstance(value, dict) else str(value) for name, value in variables.items()
    }


def create_tables() -> None:
    client = boto3.client("dynamodb")
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        kwargs = {
            key: copy.deepcopy(props[key])
            for key in (
                "AttributeDefinitions",
                "KeySchema",
                "GlobalSecondaryIndexes",
                "LocalSecondaryIndexes",
            )
            if key in props
        }
        client.create_table(TableName=logical_id, BillingMode="PAY_PER_REQUEST", **kwargs)


class LambdaContext:
    function_name = "test-function"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id = "00000000-0000-0000-0000-000000000001"
    log_group_name = "/aws/lambda/test-function"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        create_tables()
        yield


@pytest.fixture
def invoke(aws: None, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invoke a template function's handler in-process; returns the API Gateway response dict."""

    def call(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        for name, value in function_environment(logical_id).items():
            monkeypatch.setenv(name, value)
        module_name, function_name = RESOURCES[logical_id]["Properties"]["Handler"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), function_name)
        return handler(copy.deepcopy(event), LambdaContext())

    return call


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None
