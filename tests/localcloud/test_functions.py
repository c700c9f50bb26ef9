"""Lambda functions in warm worker processes: environment, context, errors, limits, reloads."""

import dataclasses
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud.functions import FunctionRuntime, FunctionSpec, InvocationResult

from .conftest import ECHO_TEMPLATE, Console, EchoCloud


@pytest.fixture
def spec(echo_cloud: EchoCloud) -> FunctionSpec:
    return echo_cloud.cloud.stack.functions["EchoFunction"]  # type: ignore[union-attr]


@pytest.fixture
def runtime(echo_cloud: EchoCloud, spec: FunctionSpec) -> Iterator[FunctionRuntime]:
    assert echo_cloud.cloud.backend is not None
    functions = FunctionRuntime(
        {"EchoFunction": spec}, echo_cloud.cloud.backend.url, "us-east-1", Console(), 3
    )
    try:
        yield functions
    finally:
        functions.close()


def body(result: InvocationResult) -> dict[str, Any]:
    assert result.ok, result.error
    return dict(json.loads(result.payload["body"]))


def test_lambda_like_environment(
    runtime: FunctionRuntime, echo_cloud: EchoCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALCLOUD_TEST_LEAK", "1")
    environment = body(runtime.invoke("EchoFunction", {}))["environment"]
    assert environment["AWS_ENDPOINT_URL"] == echo_cloud.config["awsEndpointUrl"]
    assert environment["AWS_REGION"] == "us-east-1"  # reserved: the template's eu-west-3 does not win
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "echo-test-EchoFunction"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environment["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert environment["TABLE_NAME"] == "echo-test-EchoTable"
    assert environment["FROM_GLOBALS"] == "globals" and environment["OVERRIDDEN"] == "function"
    assert environment["_HANDLER"] == "echo_app.handler.lambda_handler"
    assert "LOCALCLOUD_TEST_LEAK" not in environment  # nothing inherited from the dev process


def test_code_root_layers_and_isolation(runtime: FunctionRuntime, spec: FunctionSpec) -> None:
    answer = body(runtime.invoke("EchoFunction", {}))
    assert answer["sys_path"][:2] == [str(spec.code_dir), str(spec.layer_dirs[0])]
    assert answer["cwd"] == str(spec.code_dir)
    assert answer["layer"] == "from-the-layer"
    assert not any(Path(entry) == Path(__file__).parents[2] for entry in answer["sys_path"])


def test_context(runtime: FunctionRuntime) -> None:
    result = runtime.invoke("EchoFunction", {}, request_id="req-1")
    context = body(result)["context"]
    assert context["function_name"] == "echo-test-EchoFunction"
    assert context["function_version"] == "$LATEST"
    assert (
        context["invoked_function_arn"]
        == "arn:aws:lambda:us-east-1:123456789012:function:echo-test-EchoFunction"
    )
    assert context["memory_limit_in_mb"] == "256"
    assert context["aws_request_id"] == "req-1"
    assert context["log_group_name"] == "/aws/lambda/echo-test-EchoFunction"
    assert 2000 < context["remaining_ms"] <= 3000


def test_warm_after_the_first_invocation(runtime: FunctionRuntime) -> None:
    first = runtime.invoke("EchoFunction", {})
    second = runtime.invoke("EchoFunction", {})
    assert first.init_ms is not None and second.init_ms is None
    assert body(first)["pid"] == body(second)["pid"]
    assert body(second)["invocations"] == body(first)["invocations"] + 1


def test_handler_error_is_a_lambda_error(runtime: FunctionRuntime) -> None:
    result = runtime.invoke("EchoFunction", {"action": "raise"})
    assert not result.ok and result.error is not None
    assert result.error["errorType"] == "ValueError"
    assert result.error["errorMessage"] == "boom on purpose"
    trace = "".join(result.error["stackTrace"])
    assert "handler.py" in trace and "lambda_worker" not in trace


def test_unserializable_result(runtime: FunctionRuntime) -> None:
    result = runtime.invoke("EchoFunction", {"action": "unserializable"})
    assert result.error is not None and result.error["errorType"] == "Runtime.MarshalError"


def test_timeout_kills_the_worker_and_the_next_call_works(runtime: FunctionRuntime) -> None:
    pid = body(runtime.invoke("EchoFunction", {}))["pid"]
    started = time.monotonic()
    result = runtime.invoke("EchoFunction", {"action": "sleep", "seconds": 30})
    assert time.monotonic() - started < 5
    assert result.error is not None and result.error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 3.00 seconds" in result.error["errorMessage"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert body(runtime.invoke("EchoFunction", {}))["pid"] != pid


def test_a_dead_worker_is_replaced(runtime: FunctionRuntime) -> None:
    result = runtime.invoke("EchoFunction", {"action": "exit"})
    assert result.error is not None and result.error["errorType"] == "Runtime.ExitError"
    assert runtime.invoke("EchoFunction", {}).ok


def test_concurrent_invocations_use_a_small_pool(runtime: FunctionRuntime) -> None:
    runtime.invoke("EchoFunction", {})  # one warm worker
    results: list[InvocationResult] = []
    lock = threading.Lock()

    def call() -> None:
        result = runtime.invoke("EchoFunction", {"action": "sleep", "seconds": 0.8})
        with lock:
            results.append(result)

    threads = [threading.Thread(target=call) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    elapsed = time.monotonic() - started
    assert all(result.ok for result in results) and len(results) == 4
    pids = {body(result)["pid"] for result in results}
    assert len(pids) == 3  # at most max_workers environments
    assert 1.5 < elapsed < 8  # the fourth waited for a free worker


def test_import_error_is_reported_like_lambda(spec: FunctionSpec, echo_cloud: EchoCloud) -> None:
    broken = dataclasses.replace(spec, handler="echo_app.missing.lambda_handler")
    functions = FunctionRuntime({"Broken": broken}, "http://127.0.0.1:9", "us-east-1", Console())
    try:
        result = functions.invoke("Broken", {})
        assert result.error is not None
        assert result.error["errorType"] == "Runtime.ImportModuleError"
        assert "echo_app.missing" in result.error["errorMessage"]
        missing = dataclasses.replace(spec, handler="echo_app.handler.nope")
    finally:
        functions.close()
    functions = FunctionRuntime({"Missing": missing}, "http://127.0.0.1:9", "us-east-1", Console())
    try:
        error = functions.invoke("Missing", {}).error
        assert error is not None and error["errorType"] == "Runtime.HandlerNotFound"
    finally:
        functions.close()


def test_unknown_function(runtime: FunctionRuntime) -> None:
    error = runtime.invoke("Nope", {}).error
    assert error is not None and error["errorType"] == "ResourceNotFoundException"


def test_output_goes_to_the_console_with_the_function_name(spec: FunctionSpec) -> None:
    console = Console()
    functions = FunctionRuntime({"EchoFunction": spec}, "http://127.0.0.1:9", "us-east-1", console)
    try:
        functions.invoke("EchoFunction", {"action": "simple"})
    finally:
        functions.close()
    assert "[EchoFunction] echo handler: action=simple" in console.lines


def test_code_changes_are_picked_up_when_watching(tmp_path: Path, spec: FunctionSpec) -> None:
    code = tmp_path / "src"
    shutil.copytree(ECHO_TEMPLATE.parent / "src", code)
    copy = dataclasses.replace(spec, code_dir=code)
    console = Console()
    functions = FunctionRuntime(
        {"EchoFunction": copy}, "http://127.0.0.1:9", "us-east-1", console, watch=True
    )
    try:
        assert functions.invoke("EchoFunction", {"action": "simple"}).payload == {"hello": "world"}
        handler = code / "echo_app" / "handler.py"
        handler.write_text(handler.read_text().replace('{"hello": "world"}', '{"hello": "edited"}'))
        os.utime(handler, (time.time() + 5, time.time() + 5))
        deadline = time.monotonic() + 10
        while "code changed" not in console.text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert functions.invoke("EchoFunction", {"action": "simple"}).payload == {"hello": "edited"}
    finally:
        functions.close()


def test_close_leaves_no_process(spec: FunctionSpec) -> None:
    functions = FunctionRuntime({"EchoFunction": spec}, "http://127.0.0.1:9", "us-east-1", Console())
    pid = body(functions.invoke("EchoFunction", {}))["pid"]
    functions.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
