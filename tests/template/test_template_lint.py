"""The template is valid for CloudFormation and SAM, and keeps the production settings it promises."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services.conftest import RESOURCES, ROOT

BIN = Path(sys.executable).parent
OFFLINE_ENV = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}


def run(*command: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=OFFLINE_ENV, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_cfn_lint_finds_nothing() -> None:
    result = run(str(BIN / "cfn-lint"), "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


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


def test_each_function_may_only_touch_the_tables_it_names() -> None:
    """Least privilege: a function's policies name exactly the tables its environment names."""
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        env_tables = {
            value["Ref"]
            for value in props.get("Environment", {}).get("Variables", {}).values()
            if isinstance(value, dict)
            and RESOURCES.get(value.get("Ref"), {}).get("Type") == "AWS::DynamoDB::Table"
        }
        policy_tables = set()
        for policy in props.get("Policies", []):
            assert isinstance(policy, dict) and len(policy) == 1, f"{logical_id}: use SAM policy templates"
            ((name, args),) = policy.items()
            assert name.startswith("DynamoDB"), f"{logical_id}: unexpected policy {name}"
            policy_tables.add(args["TableName"]["Ref"])
        assert policy_tables == env_tables, logical_id


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
