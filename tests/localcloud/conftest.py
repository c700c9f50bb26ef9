"""Fixtures of the local cloud's tests.

* ``echo_cloud``: the test template (``fixtures/echo``) running in this process, on free ports;
* ``start_dev`` (in ``tests/support.py``, as every suite uses it) / ``stop_dev``: ``python -m
  localcloud dev`` on the project's template as a subprocess, driven only through its config.json.
  The session's shared one (``dev_process``,
  ``stack_config``, or a deployed stack's config.json with ``E2E_CONFIG_URL``) is in
  ``tests/conftest.py``, for every test folder that drives the stack over HTTP.

Every process and server is stopped by a finalizer; every wait is bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from localcloud.cloud import LocalCloud, Ports
from localcloud.template import load_template, load_yaml
from tests.support import ROOT as REPO

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ECHO_TEMPLATE = FIXTURES / "echo" / "template.yaml"


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
