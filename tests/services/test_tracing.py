"""Tracing: the real Powertools Tracer wherever it traces, nothing (and no X-Ray SDK) elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Tracer
from store_common import tracing

ROOT = Path(__file__).resolve().parents[2]


def test_a_deployed_function_gets_the_real_tracer(monkeypatch: pytest.MonkeyPatch) -> None:
    """In Lambda, with tracing not disabled, Powertools would trace: so the Tracer is created."""
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)
    monkeypatch.delenv("AWS_CHALICE_CLI_MODE", raising=False)
    created: list[Any] = []

    class RecordingTracer(Tracer):  # Powertools' own rule decides; creating it is only recorded
        def __init__(self) -> None:
            created.append(self)

    monkeypatch.setattr(tracing, "Tracer", RecordingTracer)
    assert not tracing.tracing_disabled()
    assert tracing.new_tracer() is created[0]


@pytest.mark.parametrize(
    "environment",
    [
        {"POWERTOOLS_TRACE_DISABLED": "true", "LAMBDA_TASK_ROOT": "/var/task"},
        {"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"},
        {},  # outside Lambda
    ],
)
def test_where_powertools_would_not_trace_nothing_is_done(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name in ("POWERTOOLS_TRACE_DISABLED", "LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert tracing.tracing_disabled()
    tracer = tracing.new_tracer()
    assert isinstance(tracer, tracing.PassThroughTracer)

    def handler(event: Any, context: Any) -> str:
        return "done"

    assert tracer.capture_lambda_handler(handler) is handler
    assert tracer.capture_lambda_handler(capture_response=False)(handler) is handler
    assert tracer.capture_method(handler) is handler
    assert tracer.capture_method(capture_response=False)(handler) is handler
    tracer.put_annotation("key", "value")
    tracer.put_metadata("key", {"any": "value"})


def test_a_handler_module_imports_no_xray_sdk_when_tracing_is_off() -> None:
    """The ~130 ms of the X-Ray recorder are not paid where nothing is traced."""
    code = "import sys, store_common.http; print('aws_xray_sdk.core' in sys.modules)"
    environment = {
        **os.environ,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONPATH": str(ROOT / "shared"),
    }
    output = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"


def test_with_tracing_on_a_handler_runs_under_the_real_tracer() -> None:
    """What a deployed function does (Lambda environment, an X-Ray trace header): traced, and 200."""
    code = """
import json, sys
import store_common.http as http
app = http.create_app()

@app.get("/ping")
def ping() -> dict:
    return {"pong": True}

event = json.load(open(sys.argv[1]))
event["rawPath"] = event["requestContext"]["http"]["path"] = "/ping"
event["routeKey"] = "GET /ping"

class Context:
    function_name = "f"
    memory_limit_in_mb = "128"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    aws_request_id = "r"

status = http.lambda_entry(app)(event, Context())["statusCode"]
print(type(http.tracer).__name__, "aws_xray_sdk.core" in sys.modules, status)
"""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("POWERTOOLS_", "AWS_"))
    }
    environment.update(
        {
            "PYTHONPATH": str(ROOT / "shared"),
            "LAMBDA_TASK_ROOT": str(ROOT),
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_METRICS_NAMESPACE": "Test",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",  # UDP: nothing needs to listen
        }
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "events" / "pets-get.json")],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert completed.stdout.strip().splitlines()[-1] == "Tracer True 200", completed.stdout + completed.stderr
