"""Fixtures for the edge tests: moto's in-process DynamoDB, a clock the test moves, fresh caches.

The mapping table is created from template.yaml's definition, under the name the sample events'
``x-version-table`` origin header gives, so the events route exactly as they would on CloudFront.
"""

import copy
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws  # imported before any boto3 client exists, so moto intercepts them

from tests.support import RESOURCES, ROOT

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from versioning import handler  # after the fake credentials are in place

EVENTS = ROOT / "events"
API_DOMAIN = "abc123defg.execute-api.us-east-1.amazonaws.com"
TABLE_NAME = "petstore-local-VersionMappingTable"
SEEDED = {
    "v1": {"version": {"S": "v1"}, "domainName": {"S": API_DOMAIN}, "originPath": {"S": "/v1"}},
    "v2": {"version": {"S": "v2"}, "domainName": {"S": API_DOMAIN}, "originPath": {"S": ""}},
}


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def request_of(event: dict[str, Any]) -> dict[str, Any]:
    return event["Records"][0]["cf"]["request"]


def header(request_or_response: dict[str, Any], name: str) -> str:
    return request_or_response["headers"][name][0]["value"]


def body_of(response: dict[str, Any]) -> Any:
    assert response["bodyEncoding"] == "text"
    return json.loads(response["body"])


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def create_mapping_table(name: str = TABLE_NAME, region: str = "us-east-1") -> Any:
    props = RESOURCES["VersionMappingTable"]["Properties"]
    client = boto3.client("dynamodb", region_name=region)
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=copy.deepcopy(props["AttributeDefinitions"]),
        KeySchema=copy.deepcopy(props["KeySchema"]),
    )
    return client


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None) -> Any:
    """The mapping table with the two rows the stack seeds; returns a DynamoDB client."""
    client = create_mapping_table()
    for item in SEEDED.values():
        client.put_item(TableName=TABLE_NAME, Item=item)
    return client


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeClock:
    """A fresh container: no routers, no config file read yet, and time under the test's control."""
    fake = FakeClock()
    monkeypatch.setattr(handler, "clock", fake)
    monkeypatch.setattr(handler, "_routers", {})
    monkeypatch.setattr(handler, "_file_config", None)
    monkeypatch.setattr(handler, "CONFIG_FILE", tmp_path / "edge_config.json")
    return fake


@pytest.fixture
def scans(aws: None) -> Iterator[list[str]]:
    """Table names of every DynamoDB Scan sent by clients created while the test runs."""
    calls: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(params["TableName"])

    events = boto3._get_default_session().events  # clients copy the session's hooks when created
    events.register("provide-client-params.dynamodb.Scan", record)
    yield calls
    events.unregister("provide-client-params.dynamodb.Scan", record)


Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def invoke(table: Any, clock: FakeClock) -> Invoke:
    """Call the edge handler as CloudFront would; returns what it returns."""

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return handler.lambda_handler(copy.deepcopy(event), None)

    return call
