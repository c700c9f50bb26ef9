"""The template is valid for CloudFormation and SAM, and keeps the production settings it promises."""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import RESOURCES, ROOT

BIN = Path(sys.executable).parent
OFFLINE_ENV = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
DYNAMODB_TABLE = "AWS::DynamoDB::Table"
# Resources holding data, which a function may reach only when the template hands them to it.
DATA_RESOURCE_TYPES = frozenset({DYNAMODB_TABLE, "AWS::S3::Bucket"})
# SAM policy templates that grant access to one table or bucket -> the argument naming it.
SAM_DATA_POLICIES = {
    "DynamoDBCrudPolicy": "TableName",
    "DynamoDBReadPolicy": "TableName",
    "DynamoDBWritePolicy": "TableName",
    "S3ReadPolicy": "BucketName",
    "S3WritePolicy": "BucketName",
    "S3CrudPolicy": "BucketName",
}


def run(*command: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=OFFLINE_ENV, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_cfn_lint_finds_nothing() -> None:
    result = run(str(BIN / "cfn-lint"), "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("compute", ["lambda", "fargate"])
def test_cfn_lint_finds_nothing_in_what_the_transform_deploys(compute: str, tmp_path: Path) -> None:
    """The SAM transform's output (what CloudFormation deploys), for each compute choice. W1028 is
    left out: SAM nests an ``Fn::If OnLambda`` inside the path it has already put under the same
    condition (a conditional function's HttpApi event), whose other branch can never be reached."""
    transformed = run(
        sys.executable, "-m", "localcloud", "transform", "--parameter-overrides", f"StoreCompute={compute}"
    )
    assert transformed.returncode == 0, transformed.stderr
    output = tmp_path / "transformed.json"
    output.write_text(transformed.stdout)
    result = run(str(BIN / "cfn-lint"), "--ignore-checks", "W1028", "--", str(output))
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_passes() -> None:
    result = run(str(BIN / "sam"), "validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_table_is_on_demand_recoverable_and_encrypted() -> None:
    tables = {k: r["Properties"] for k, r in RESOURCES.items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert set(tables) >= {"PetsTable", "FoodsTable", "CommentsTable", "IdempotencyTable"}
    for name, props in tables.items():
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert props["SSESpecification"]["SSEEnabled"] is True, name


def _logical_ids(fragment: Any) -> set[str]:
    """Every resource a template fragment refers to, through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    pending = [fragment]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key == "Ref" and isinstance(value, str):
                    found.add(value.split(".")[0])  # SAM's Function.Version / Function.Alias
                elif key == "Fn::GetAtt":
                    found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
                elif key == "Fn::Sub":
                    text, variables = (value, {}) if isinstance(value, str) else value
                    found.update(re.findall(r"\$\{([A-Za-z0-9]+)", text))
                    pending.append(variables)
                else:
                    pending.append(value)
    return found


def _tables(fragment: Any) -> set[str]:
    """The tables and buckets a fragment refers to."""
    return {
        name for name in _logical_ids(fragment) if RESOURCES.get(name, {}).get("Type") in DATA_RESOURCE_TYPES
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _granted_tables(logical_id: str, props: dict[str, Any]) -> set[str]:
    """Tables and buckets the function's permissions reach: SAM data policy templates, and the
    DynamoDB/S3 actions of inline statements and of an explicit Role (never on a wildcard)."""
    statements: list[dict[str, Any]] = []
    granted: set[str] = set()
    managed: list[Any] = []
    for policy in props.get("Policies", []):
        if not isinstance(policy, dict):
            managed.append(policy)
            continue
        assert len(policy) == 1, f"{logical_id}: one policy per entry"
        ((name, args),) = policy.items()
        if name == "Statement":
            statements.extend(args)
        elif name in SAM_DATA_POLICIES:
            granted.add(args[SAM_DATA_POLICIES[name]]["Ref"])
        else:
            assert not name.startswith(("DynamoDB", "S3")), f"{logical_id}: unlisted data policy {name}"
    if "Role" in props:
        role = RESOURCES[props["Role"]["Fn::GetAtt"][0]]["Properties"]
        for policy in role.get("Policies", []):
            statements.extend(policy["PolicyDocument"]["Statement"])
        managed.extend(role.get("ManagedPolicyArns", []))
    for arn in managed:
        text = str(arn).lower()
        assert "dynamodb" not in text and "s3" not in text, f"{logical_id}: managed policy {arn} reaches data"
    for statement in statements:
        actions = _as_list(statement["Action"])
        if not any(action.lower().startswith(("dynamodb:", "s3:")) or action == "*" for action in actions):
            continue
        assert not {"*", "dynamodb:*", "s3:*"} & set(actions), f"{logical_id}: {actions}"
        for resource in _as_list(statement["Resource"]):
            assert _tables(resource), (
                f"{logical_id}: a data statement must name a table or bucket, not {resource}"
            )
            granted |= _tables(resource)
    return granted


def _named_tables(logical_id: str, props: dict[str, Any]) -> set[str]:
    """Tables the template hands the function: its environment, the custom resources it serves,
    and the origin headers of the distribution that runs it at the edge (no environment there)."""
    named = _tables(props.get("Environment", {}))
    for resource in RESOURCES.values():
        if resource["Type"].startswith("Custom::"):
            properties = dict(resource["Properties"])
            if logical_id in _logical_ids(properties.pop("ServiceToken")):
                named |= _tables(properties)
        elif resource["Type"] == "AWS::CloudFront::Distribution":
            config = resource["Properties"]["DistributionConfig"]
            origins = {origin["Id"]: origin for origin in config["Origins"]}
            for behaviour in [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]:
                associations = behaviour.get("LambdaFunctionAssociations", [])
                if logical_id in _logical_ids(associations):
                    named |= _tables(origins[behaviour["TargetOriginId"]].get("OriginCustomHeaders", []))
    return named


def test_each_function_may_only_touch_the_tables_it_names() -> None:
    """Least privilege: a function's permissions reach exactly the tables the template hands it,
    and inline statements or an explicit role grant DynamoDB actions on those tables only."""
    functions = {k: r for k, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions
    for logical_id, resource in functions.items():
        props = resource["Properties"]
        assert _granted_tables(logical_id, props) == _named_tables(logical_id, props), logical_id


@pytest.mark.slow
def test_sam_build_succeeds(tmp_path: Path) -> None:
    env = {**OFFLINE_ENV, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.11.7:3.12.1:3.13.0")}
    result = subprocess.run(
        [
            str(BIN / "sam"),
            "build",
            "--build-dir",
            str(tmp_path / "build"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    layer = tmp_path / "build" / "SharedLayer" / "python"
    assert (layer / "store_common" / "http.py").is_file()
    assert list((layer / "pydantic_core").glob("*cpython-313-aarch64-linux-gnu.so")), (
        "needs arm64 py3.13 wheels"
    )
    for function, package in (
        ("PetsFunction", "pets"),
        ("FoodsFunction", "foods"),
        ("CommentsFunction", "comments"),
    ):
        assert (tmp_path / "build" / function / package / "handler.py").is_file()
