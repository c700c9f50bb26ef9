"""The stack under test, shared by every test folder that drives it over HTTP only.

``dev_process`` is ``python -m localcloud dev`` on the project's template, started once per session
on free ports; ``stack_config`` is its config.json -- or, with ``E2E_CONFIG_URL`` set, a deployed
stack's config.json instead, so the end-to-end, security and reliability suites run against AWS
unchanged. One session fixture for all of them: the local cloud starts once, not once per folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from localcloud.child import DevChild, stop_dev
from tests.localcloud.conftest import E2E_CONFIG_URL, start_dev


@pytest.fixture(scope="session")
def dev_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChild]:
    if E2E_CONFIG_URL:
        pytest.skip("runs against the local cloud only (E2E_CONFIG_URL is set)")
    tmp = tmp_path_factory.mktemp("dev")
    dev = start_dev(tmp)
    try:
        yield dev
    finally:
        stop_dev(dev.process)


@pytest.fixture(scope="session")
def stack_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """config.json of the stack under test: the local cloud, or ``E2E_CONFIG_URL``."""
    if E2E_CONFIG_URL:
        response = requests.get(E2E_CONFIG_URL, timeout=10)
        response.raise_for_status()
        return dict(response.json())
    dev: DevChild = request.getfixturevalue("dev_process")
    response = requests.get(f"{dev.web_url}/config.json", timeout=10)
    response.raise_for_status()
    return dict(response.json())


@pytest.fixture(scope="session")
def api(stack_config: dict[str, Any]) -> str:
    """The stack's API URL (v2), without a trailing slash."""
    return str(stack_config["apiUrl"]).rstrip("/")
