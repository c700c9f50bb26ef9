"""The commands as a developer runs them: ``dev``, ``invoke``, ``token`` (subprocesses)."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from localcloud.child import DevChild, stop_dev
from localcloud.intrinsics import Resolver
from localcloud.template import Template, load_template, load_yaml
from tests.support import start_dev

from .conftest import ECHO_TEMPLATE, REPO, relocatable_project_template

pytestmark = pytest.mark.slow
EVENTS = sorted((REPO / "events").glob("*.json"))
PYTHON = [sys.executable, "-m", "localcloud"]


def run(
    *arguments: str, timeout: float = 60, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PYTHON, *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
        env=env,
    )


def children_of(pid: int) -> list[int]:
    result = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(line) for line in result.stdout.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# ---------------------------------------------------------------------- dev
def test_port_in_use_is_one_line_and_exit_code_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("dev", "--web-port", str(port), "--api-port", "0", "--aws-port", "0", timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"localcloud: 127.0.0.1:{port} is already in use: stop what uses it or pass --web-port PORT"
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_edge_port_in_use_is_the_same_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = ["--web-port", "0", "--api-port", "0", "--aws-port", "0", "--edge-port", str(port)]
        result = run("dev", *ports, "--parameter-overrides", "DeployEdge=true", timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"localcloud: 127.0.0.1:{port} is already in use: stop what uses it or pass --edge-port PORT"
    )


def test_bad_template_is_exit_code_2(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text("Resources: [unclosed\n")
    result = run("dev", "--template", str(broken), "--web-port", "0", "--api-port", "0", "--aws-port", "0")
    assert result.returncode == 2
    assert result.stderr.startswith("localcloud: ") and "Traceback" not in result.stderr


def test_transform_prints_the_cloudformation_the_local_cloud_deploys() -> None:
    result = run("transform", "--parameter-overrides", "DeployEdge=true")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    types = {resource["Type"] for resource in document["Resources"].values()}
    assert "AWS::ApiGatewayV2::Api" in types and "AWS::Lambda::Alias" in types
    assert not [t for t in types if t.startswith("AWS::Serverless::")]
    refused = run("transform", "--parameter-overrides", "CorsAllowedOrigins=*")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("localcloud: parameter CorsAllowedOrigins='*' is not allowed")


def test_sigterm_stops_everything_cleanly(tmp_path: Path) -> None:
    dev = start_dev(tmp_path)
    try:
        assert requests.get(f"{dev.config['apiUrl']}/pets", timeout=30).status_code == 200  # starts a worker
        workers = children_of(dev.process.pid)
        assert workers, "a warm worker should be running"
    finally:
        code = stop_dev(dev.process)
    assert code == 0, dev.output()
    assert "localcloud: stopped" in dev.output()
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "orphan worker processes"


def test_persist_and_seed_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for run_dir in ("one", "two"):
        (tmp_path / run_dir).mkdir()
    first = start_dev(tmp_path / "one", "--persist", str(data), "--seed")
    try:
        api = first.config["apiUrl"]
        assert requests.get(f"{api}/pets/rex", timeout=30).json()["name"] == "Rex"
        token = run("token", "--config-url", f"{first.web_url}/config.json").stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        body: dict[str, Any] = {"name": "Kept", "species": "cat", "priceCents": 1}
        assert requests.put(f"{api}/pets/kept", json=body, headers=headers, timeout=30).status_code == 201
        pool_id = first.config["cognito"]["userPoolId"]
    finally:
        assert stop_dev(first.process) == 0
    assert "seeded" in first.output() and "saved AWS state" in first.output()
    assert "custom resource VersionMappingSeed: Create -> SUCCESS" in first.output()
    second = start_dev(tmp_path / "two", "--persist", str(data))
    try:
        assert second.config["cognito"]["userPoolId"] == pool_id
        assert requests.get(f"{second.config['apiUrl']}/pets/kept", timeout=30).json()["name"] == "Kept"
        # the custom resource's properties are unchanged: no request, as on CloudFormation; its rows remain
        assert "custom resource VersionMappingSeed" not in second.output()
        through_edge = requests.get(
            f"{second.config['edgeUrl']}/pets/kept", headers={"APIVER": "v1"}, timeout=30
        )
        assert through_edge.status_code == 200 and through_edge.json()["name"] == "Kept"
        again = run("token", "--config-url", f"{second.web_url}/config.json")  # the same user signs in again
        assert again.returncode == 0 and again.stdout.count(".") == 2
    finally:
        assert stop_dev(second.process) == 0


def test_a_route_added_to_the_template_works_locally(tmp_path: Path) -> None:
    """Copy of the project's template plus one function and route: reachable with no other change."""
    raw = relocatable_project_template()
    code = tmp_path / "hello"
    (code / "hello").mkdir(parents=True)
    (code / "hello" / "__init__.py").write_text("")
    (code / "hello" / "app.py").write_text(
        "import json\n\ndef handler(event, context):\n"
        "    return {'statusCode': 200, 'body': json.dumps({'hello': event['pathParameters']['name']})}\n"
    )
    raw["Resources"]["HelloFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": str(code),
            "Handler": "hello.app.handler",
            "Events": {
                "Hello": {
                    "Type": "HttpApi",
                    "Properties": {
                        "ApiId": {"Ref": "StoreApi"},
                        "Path": "/hello/{name}",
                        "Method": "GET",
                        "Auth": {"Authorizer": "NONE"},
                    },
                }
            },
        },
    }
    copy = tmp_path / "template.yaml"
    copy.write_text(yaml.safe_dump(raw, sort_keys=False))
    dev = start_dev(tmp_path, template=copy)
    try:
        response = requests.get(f"{dev.config['apiUrl']}/hello/world", timeout=30)
        assert response.status_code == 200, dev.output()
        assert response.json() == {"hello": "world"}
        assert requests.get(f"{dev.config['apis']['StoreApi/v1']}/hello/v1", timeout=30).json() == {
            "hello": "v1"
        }
    finally:
        stop_dev(dev.process)


# ---------------------------------------------------------------------- token
def test_token_prints_only_a_token(dev_process: DevChild) -> None:
    result = run("token", "--config-url", f"{dev_process.web_url}/config.json")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 and result.stdout.count(".") == 2
    id_token = run("token", "--id-token", "--config-url", f"{dev_process.web_url}/config.json")
    assert id_token.returncode == 0 and id_token.stdout != result.stdout


def test_token_without_a_local_cloud() -> None:
    result = run("token", "--config-url", "http://127.0.0.1:9/config.json")
    assert result.returncode == 2
    assert result.stderr.startswith("localcloud: cannot read http://127.0.0.1:9/config.json")
    assert result.stdout == ""


def test_token_with_a_wrong_password(dev_process: DevChild) -> None:
    run("token", "--config-url", f"{dev_process.web_url}/config.json", "--email", "pw@example.com")
    result = run(
        "token",
        "--config-url",
        f"{dev_process.web_url}/config.json",
        "--email",
        "pw@example.com",
        "--password",
        "No-Match1",
    )
    assert result.returncode == 2 and "cannot sign in" in result.stderr


# ---------------------------------------------------------------------- invoke
def test_invoke_refuses_a_stack_that_is_gone_unless_asked_for_a_temporary_backend(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "simple"}))
    gone = ["--template", str(ECHO_TEMPLATE), "--config-url", "http://127.0.0.1:9/config.json"]
    refused = run("invoke", "EchoFunction", str(event), *gone)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "is gone" in refused.stderr and "--temporary" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr

    common = ["--template", str(ECHO_TEMPLATE), "--temporary"]
    result = run("invoke", "EchoFunction", str(event), *common)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"hello": "world"}
    assert "temporary backend" in result.stderr
    failed = run("invoke", "EchoFunction", "-", *common, stdin=json.dumps({"action": "raise"}))
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorType"] == "ValueError"
    unknown = run("invoke", "NoSuchFunction", str(event), *common)
    assert unknown.returncode == 2 and "EchoFunction" in unknown.stderr


def test_the_tools_follow_the_recorded_local_cloud(dev_process: DevChild) -> None:
    """``make dev`` records where it runs; ``token`` and ``invoke`` find it whatever its ports."""
    from localcloud.state import STATE_DIR_VARIABLE, recorded_config_url

    state = dev_process.log.parent / "state"  # where start_dev has it record (LOCALCLOUD_STATE_DIR)
    environment = {**os.environ, STATE_DIR_VARIABLE: str(state)}
    recorded = json.loads((state / "stack.json").read_text())["configUrl"]
    assert recorded == f"{dev_process.web_url}/config.json"
    assert recorded_config_url(REPO) != recorded  # the project's own record is not the tests' business
    token = run("token", env=environment)
    assert token.returncode == 0, token.stderr
    assert token.stdout.count(".") == 2 and len(token.stdout.strip().splitlines()) == 1  # one JWT
    invoked = run("invoke", "PetsFunction", str(REPO / "events" / "pets-get-not-found.json"), env=environment)
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout)["statusCode"] == 404
    assert dev_process.web_url in invoked.stderr


def function_for_event(template: Template, raw: dict[str, Any], name: str, event: Any) -> str | None:
    """Which function of the template this event file is for, asked of the template itself.

    An HTTP API event: the function whose ``HttpApi`` event declares its routeKey. Otherwise the
    file prefix names the code folder; among its functions, the one whose handler the case
    names, or the one the template wires to this kind of event (CloudFront association, first
    Task of the state machine an EventBridge rule starts).
    """
    functions = {k: v for k, v in raw["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    if isinstance(event, dict) and "routeKey" in event:
        for logical_id, resource in functions.items():
            for source in (resource["Properties"].get("Events") or {}).values():
                props = source.get("Properties") or {}
                if (
                    source.get("Type") == "HttpApi"
                    and f"{str(props.get('Method')).upper()} {props.get('Path')}" == event["routeKey"]
                ):
                    return logical_id
        return None
    prefix, _, case = name.partition("-")
    candidates = [k for k, v in functions.items() if Path(v["Properties"]["CodeUri"]).name == prefix]
    named = [
        k
        for k in candidates
        if functions[k]["Properties"]["Handler"].rsplit(".", 1)[1] in case.replace("-", "_")
    ]
    if len(named) == 1:
        return named[0]
    if isinstance(event, dict) and event.get("Records") and "cf" in event["Records"][0]:
        event_type = event["Records"][0]["cf"]["config"]["eventType"]
        for resource in raw["Resources"].values():
            behaviour = ((resource.get("Properties") or {}).get("DistributionConfig") or {}).get(
                "DefaultCacheBehavior"
            ) or {}
            for association in behaviour.get("LambdaFunctionAssociations") or []:
                reference = association["LambdaFunctionARN"].get("Ref", "")
                if association["EventType"] == event_type and reference.split(".")[0] in candidates:
                    return str(reference.split(".")[0])
    if isinstance(event, dict) and "detail-type" in event:
        for resource in raw["Resources"].values():
            properties = resource.get("Properties") or {}
            triggered = any(
                e.get("Type") == "EventBridgeRule" for e in (properties.get("Events") or {}).values()
            )
            if resource["Type"] == "AWS::Serverless::StateMachine" and triggered:
                definition = load_yaml(REPO / properties["DefinitionUri"])
                first = definition["States"][definition["StartAt"]]["Resource"].strip("${}")
                target = properties["DefinitionSubstitutions"][first]["Ref"].split(".")[0]
                if target in candidates:
                    return str(target)
    return candidates[0] if len(candidates) == 1 else None


def overrides_enabling(template: Template, raw: dict[str, Any], logical_id: str) -> list[str] | None:
    """Parameter overrides (from AllowedValues) under which a conditional resource exists."""
    condition = raw["Resources"][logical_id].get("Condition")
    if condition is None:
        return []
    choices = {
        name: [str(value) for value in spec["AllowedValues"]]
        for name, spec in (raw.get("Parameters") or {}).items()
        if spec.get("AllowedValues") and len(spec["AllowedValues"]) <= 4
    }
    for values in itertools.islice(itertools.product(*choices.values()), 256):
        parameters = {**template.parameters, **dict(zip(choices, values, strict=True))}
        resolver = Resolver(parameters=parameters, pseudo_parameters=template.pseudo)
        results: dict[str, bool] = {}

        def evaluate(name: str, resolver: Resolver = resolver, results: dict[str, bool] = results) -> bool:
            if name not in results:
                results[name] = bool(resolver.resolve(raw["Conditions"][name]))
            return results[name]

        resolver.condition_evaluator = evaluate
        if evaluate(condition):
            return [f"{name}={value}" for name, value in zip(choices, values, strict=True)]
    return None


@pytest.fixture(scope="module")
def invoked(dev_process: DevChild) -> dict[str, tuple[str | None, subprocess.CompletedProcess[str] | str]]:
    """Every events/*.json file invoked against the running local cloud (a few at a time)."""
    template = load_template(REPO / "template.yaml")
    raw = load_yaml(REPO / "template.yaml")

    def invoke(path: Path) -> tuple[str | None, subprocess.CompletedProcess[str] | str]:
        event = json.loads(path.read_text())
        function = function_for_event(template, raw, path.stem, event)
        if function is None:
            return None, "no function of the template takes this event"
        overrides = overrides_enabling(template, raw, function)
        if overrides is None:
            return function, "its condition cannot be made true"
        extra = ["--parameter-overrides", *overrides] if overrides else []
        config_url = f"{dev_process.web_url}/config.json"
        return function, run("invoke", function, str(path), "--config-url", config_url, *extra, timeout=120)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip((path.name for path in EVENTS), pool.map(invoke, EVENTS), strict=True))


@pytest.mark.parametrize("event_file", [path.name for path in EVENTS])
def test_invoke_each_sample_event(invoked: dict[str, Any], event_file: str) -> None:
    function, result = invoked[event_file]
    assert function is not None, f"{event_file}: {result}"
    assert not isinstance(result, str), f"{event_file} -> {function}: {result}"
    assert result.returncode in (0, 1), result.stderr
    payload = json.loads(result.stdout)
    event = json.loads((REPO / "events" / event_file).read_text())
    if result.returncode == 1:
        # the handler raised on purpose (an invalid pipeline input): an error of the function, not of the runtime
        assert not str(payload["errorType"]).startswith(("Runtime.", "Sandbox.")), result.stderr
    elif isinstance(event, dict) and "routeKey" in event:
        assert payload["statusCode"] < 500, result.stderr
    elif isinstance(event, dict) and "cf" in (event.get("Records") or [{}])[0]:
        # the edge reads the local mapping table the event names: forwarded, or refused with a 403
        assert "uri" in payload or payload["status"] == "403", payload


def test_the_console_is_quiet_unless_verbose(dev_process: DevChild) -> None:
    """One line per request and per function log line; metrics JSON, Powertools' empty-metrics
    warnings and the list of what is not emulated only with --verbose (a one-line summary stays)."""
    from localcloud.cognito_user import sign_in_demo

    config = dev_process.config
    token = sign_in_demo(config)["AccessToken"]
    pet: dict[str, Any] = {"name": "Quiet", "species": "cat", "priceCents": 1}
    headers = {"Authorization": f"Bearer {token}", "If-None-Match": "*"}
    created = requests.put(f"{config['apiUrl']}/pets/{uuid_hex()}", json=pet, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    assert requests.get(f"{config['apiUrl']}/pets", timeout=30).status_code == 200  # no metric of its own
    output = dev_process.output()
    assert "template features are not emulated locally (ARGS=--verbose lists them" in output
    assert "localcloud: not emulated:" not in output
    noisy = [line for line in output.splitlines() if '{"_aws"' in line or "No application metrics" in line]
    assert noisy == []
    assert "-> 201" in output  # the gateway's line for the PUT


def uuid_hex() -> str:
    import uuid

    return f"quiet-{uuid.uuid4().hex[:10]}"


def test_make_dev_writes_the_env_vars_sam_local_invoke_needs(dev_process: DevChild) -> None:
    """Where Docker runs, ``sam local invoke --env-vars`` then reaches this local cloud: every
    function's template variables with their local values, and AWS_ENDPOINT_URL, which the template
    declares (empty) so that SAM CLI passes it on. Checked against the template; Docker is not needed."""
    from localcloud.template import load_template

    env_vars = json.loads((dev_process.log.parent / "state" / "sam-env-vars.json").read_text())
    template = load_template(REPO / "template.yaml", {"DeployEdge": "true"})
    functions = {r.logical_id: r for r in template.of_type("AWS::Lambda::Function")}
    with_environment = {name for name, r in functions.items() if r.properties.get("Environment")}
    assert set(env_vars) == with_environment and "PetsFunction" in env_vars
    for name, variables in env_vars.items():
        declared = set(functions[name].properties["Environment"]["Variables"])
        assert set(variables) == declared, name  # SAM CLI would ignore anything else
        assert variables["AWS_ENDPOINT_URL"] == dev_process.config["awsEndpointUrl"], name
    assert env_vars["PetsFunction"]["TABLE_NAME"] == "petstore-local-PetsTable"
    assert (
        "sam local invoke PetsFunction" in dev_process.output()
        and "--docker-network host" in dev_process.output()
    )
