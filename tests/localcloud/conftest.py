"""Fixtures of the local cloud's tests.

* ``echo_cloud``: the test template (``fixtures/echo``) running in this process, on free ports;
* ``start_dev`` / ``stop_dev``: ``python -m localcloud dev`` on the project's template as a
  subprocess, driven only through its config.json. The session's shared one (``dev_process``,
  ``stack_config``, or a deployed stack's config.json with ``E2E_CONFIG_URL``) is in
  ``tests/conftest.py``, for every test folder that drives the stack over HTTP.

Every process and server is stopped by a finalizer; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from localcloud.cloud import LocalCloud, Ports
from localcloud.template import load_template, load_yaml

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ECHO_TEMPLATE = FIXTURES / "echo" / "template.yaml"
E2E_CONFIG_URL = os.environ.get("E2E_CONFIG_URL")
START_TIMEOUT_SECONDS = 60


def relocatable_project_template() -> dict[str, Any]:
    """The project's template with its local paths (code, layer, state machine) made absolute, for
    a changed copy written elsewhere."""
    raw: dict[str, Any] = load_yaml(REPO / "template.yaml")
    for resource in raw["Resources"].values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(properties.get(key), str):
                properties[key] = str(REPO / properties[key])
    return raw


@dataclass
class Console:
    """Collects the lines a local cloud prints (thread-safe)."""

    lines: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.lines)


@dataclass
class EchoCloud:
    cloud: LocalCloud
    config: dict[str, Any]
    console: Console

    @property
    def api(self) -> str:
        return str(self.config["apiUrl"])

    def client(self, service: str) -> Any:
        assert self.cloud.backend is not None
        return self.cloud.backend.client(service)


@pytest.fixture(scope="session")
def echo_cloud() -> Iterator[EchoCloud]:
    template = load_template(ECHO_TEMPLATE, stack_name="echo-test")
    console = Console()
    cloud = LocalCloud(template, Ports(web=0, api=0, aws=0), max_workers=3, watch=False, console=console)
    config = cloud.start()
    try:
        yield EchoCloud(cloud, config, console)
    finally:
        cloud.stop()


def echo_user_tokens(echo: EchoCloud, email: str = "tester@example.com") -> dict[str, Any]:
    from localcloud.cognito_user import sign_in

    return sign_in(echo.config, email, "Echo-passw0rd")


# ---------------------------------------------------------------------- dev subprocesses
@dataclass
class DevProcess:
    process: subprocess.Popen[bytes]
    config: dict[str, Any]
    log: Path
    web_url: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")


#: what ``make dev`` passes (its LOCAL_PARAMETERS): the project's template runs with its edge
MAKE_DEV_PARAMETERS = ("--parameter-overrides", "DeployEdge=true")


def start_dev(tmp: Path, *extra: str, template: Path | None = None) -> DevProcess:
    """Starts ``python -m localcloud dev`` on free ports and waits (bounded) for its ready file.

    The project's template starts as ``make dev`` starts it (edge included); ``extra`` may add
    ``--parameter-overrides`` of its own (they add to, or override, these).
    """
    ready = tmp / "ready.json"
    log = tmp / "dev.log"
    command = [
        sys.executable,
        "-m",
        "localcloud",
        "dev",
        "--web-port",
        "0",
        "--api-port",
        "0",
        "--aws-port",
        "0",
        "--edge-port",
        "0",
    ]
    if template is None:
        command += MAKE_DEV_PARAMETERS
    command += ["--ready-file", str(ready), "--template", str(template or REPO / "template.yaml"), *extra]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dev did not start (exit {process.poll()}):\n{log.read_text()}")
            time.sleep(0.1)
        config = json.loads(ready.read_text())
        web_url = next(line.split()[-1] for line in log.read_text().splitlines() if "config.json" in line)
    except BaseException:
        stop_dev(process)
        raise
    return DevProcess(process, config, log, web_url.rsplit("/config.json", 1)[0])


def stop_dev(process: subprocess.Popen[bytes], timeout: float = 20) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return int(process.returncode)
