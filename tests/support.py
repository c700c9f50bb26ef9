"""What the in-process tests share: the template, the events, and the template deployed as the
local cloud deploys it.

``stack()`` deploys template.yaml once per session into a throwaway in-process moto, with the local
cloud's own code (``localcloud.stack``): each function's environment then holds the same physical
names (``petstore-local-<LogicalId>``) as under ``make dev``, so the ``events/`` files work in both.
``create_data_stores()`` makes the template's tables and buckets inside a test's own ``mock_aws``,
again with the local cloud's resource handlers, so no test writes a table definition of its own.
"""

import copy
import importlib
import json
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws  # before any boto3 client exists, so moto intercepts them all

from localcloud import ACCOUNT_ID, child
from localcloud.child import DevChild
from localcloud.resource_types import DeployContext
from localcloud.stack import REGISTRY, LocalStack, deploy_in_memory, in_process_clients
from localcloud.template import load_yaml

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
TEMPLATE_PATH = ROOT / "template.yaml"
TEMPLATE: dict[str, Any] = load_yaml(TEMPLATE_PATH)
"""The raw template document (intrinsics unresolved), for checks of what the template declares."""
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # what every function gets (Globals): a module that imports store_common before any handler
        # runs (a test of its own) must find it too, as Powertools reads it once, at import
        "POWERTOOLS_METRICS_NAMESPACE": TEMPLATE["Globals"]["Function"]["Environment"]["Variables"][
            "POWERTOOLS_METRICS_NAMESPACE"
        ],
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

#: what in-process handler tests need created: where services keep data and send events
DATA_STORE_TYPES = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Events::EventBus")


@cache
def stack() -> LocalStack:
    with mock_aws():
        return deploy_in_memory(TEMPLATE_PATH)


def create_data_stores(logical_ids: tuple[str, ...] | None = None) -> None:
    """Inside an active ``mock_aws``: the template's tables and buckets (or only ``logical_ids``)."""
    deployed = stack()
    region = deployed.region
    resolver = deployed.resolver()
    context = DeployContext(
        template=deployed.template,
        region=region,
        account_id=ACCOUNT_ID,
        stack_name=deployed.stack_name,
        client=in_process_clients(region),
        resolve=resolver.resolve,
    )
    for resource in deployed.template.of_type(*DATA_STORE_TYPES):
        if logical_ids is None or resource.logical_id in logical_ids:
            REGISTRY[resource.type].deploy(resource, context)


def add_pet(pet_id: str) -> None:
    """A pet in the pets table (owned by the pets service), as its PUT would have stored it."""
    boto3.client("dynamodb").put_item(
        TableName=physical_name("PetsTable"),
        Item={
            "id": {"S": pet_id},
            "version": {"N": "1"},
            "name": {"S": "Rex"},
            "species": {"S": "dog"},
            "priceCents": {"N": "45000"},
            "createdAt": {"S": "2026-11-22T04:00:00.000Z"},
            "updatedAt": {"S": "2026-11-22T04:00:00.000Z"},
        },
    )


def physical_name(logical_id: str) -> str:
    return str(stack().physical[logical_id].ref)


def function_environment(logical_id: str) -> dict[str, str]:
    """The function's environment variables as the template resolves them."""
    return dict(stack().functions[logical_id].environment)


def set_function_environment(logical_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Puts the function's template environment into ``os.environ`` for the test's duration."""
    for name, value in function_environment(logical_id).items():
        monkeypatch.setenv(name, value)


Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


def invoker(monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invokes a template function's handler in-process, as Lambda would, with the environment the
    template gives it; exceptions propagate."""

    def call(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        set_function_environment(logical_id, monkeypatch)
        result: dict[str, Any] = lambda_handler(logical_id)(copy.deepcopy(event), LambdaContext())
        return result

    return call


def lambda_handler(logical_id: str) -> Callable[[dict[str, Any], Any], Any]:
    """The function's handler, imported as Lambda would (its code folder is on pytest's pythonpath)."""
    module_name, function_name = stack().functions[logical_id].handler.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), function_name)


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


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


# ---------------------------------------------------------------------- dev subprocesses
#: a deployed stack's config.json: the end-to-end, security and reliability suites run against it
E2E_CONFIG_URL = os.environ.get("E2E_CONFIG_URL")
START_TIMEOUT_SECONDS = 60
#: what ``make dev`` passes (its LOCAL_PARAMETERS): the project's template runs with its edge
MAKE_DEV_PARAMETERS = ("--parameter-overrides", "DeployEdge=true")


def start_dev(tmp: Path, *extra: str, template: Path | None = None) -> DevChild:
    """``python -m localcloud dev`` on free ports, waited for (bounded) through its ready file.

    The project's template starts as ``make dev`` starts it (edge included); ``extra`` may add
    ``--parameter-overrides`` of its own (they add to, or override, these).
    """
    defaults = MAKE_DEV_PARAMETERS if template is None else ()
    template_path = str(template or ROOT / "template.yaml")
    return child.start_dev(tmp, *defaults, "--template", template_path, *extra, timeout=START_TIMEOUT_SECONDS)
