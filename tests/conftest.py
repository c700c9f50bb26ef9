"""The stack under test, shared by every test folder that drives it over HTTP only.

``dev_process`` is ``python -m localcloud dev`` on the project's template, started once per session
on free ports; ``stack_config`` is its config.json -- or, with ``E2E_CONFIG_URL`` set, a deployed
stack's config.json instead, so the end-to-end, security and reliability suites run against AWS
unchanged. One session fixture for all of them: the local cloud starts once, not once per folder
(once per pytest-xdist worker that needs it).

Tests that start a stack -- a local cloud, as a process or in this one, or a browser -- are marked
``stack`` here, by the fixtures they use (``STACK_FIXTURES``) or because their module starts one
itself (it holds one of ``STACK_STARTERS``): ``make quick`` runs ``-m "not stack"``.
"""

from __future__ import annotations

import sys

from tools.code_roots import code_roots

# Lambda's sys.path, for the tests that import handlers and the layer in this process: every code
# folder of template.yaml (each layer's ContentUri, each function's CodeUri), before any service
# code is imported. A new service in the template needs no entry anywhere else.
sys.path[0:0] = [str(root) for root in code_roots() if str(root) not in sys.path]

from collections.abc import Iterator  # noqa: E402 - after the code roots are on sys.path
from typing import Any  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402

from localcloud import child, cloud  # noqa: E402
from localcloud.aws_backend import AwsBackend  # noqa: E402
from localcloud.child import DevChild, stop_dev  # noqa: E402
from tests import support  # noqa: E402
from tests.support import E2E_CONFIG_URL, start_dev  # noqa: E402

#: fixtures that start a stack: ``localcloud dev`` (dev_process and what reads it), the echo
#: template's LocalCloud, the web client's cloud and its Chromium, the benchmarks' cloud, the
#: edge suite's short-TTL cloud, the OpenAPI-body LocalCloud
STACK_FIXTURES = frozenset(
    {
        "dev_process",
        "stack_config",
        "api",
        "echo_cloud",
        "web_cloud",
        "browser",
        "page",
        "bench_dev",
        "short_ttl_dev",
        "documented",
    }
)
#: a test module that holds one of these starts a local cloud itself
STACK_STARTERS = (child.start_dev, support.start_dev, cloud.LocalCloud)


#: moto's server in this process (the echo LocalCloud, an AwsBackend) serves moto's global state,
#: which any other test's ``mock_aws`` resets, whenever it runs on the same worker. So the tests that
#: use one are marked ``in_process_moto``, and make test and make quick run them in a pytest of their
#: own, in one process, after the others (in file order, as they were written to run).
IN_PROCESS_MOTO_FIXTURES = frozenset({"echo_cloud", "documented"})
IN_PROCESS_MOTO = (cloud.LocalCloud, AwsBackend)


def _holds(module: object, values: tuple[object, ...], cache: dict[str, bool]) -> bool:
    name = getattr(module, "__name__", "")
    if module is not None and name not in cache:
        cache[name] = any(v is held for held in vars(module).values() for v in values)
    return module is not None and cache[name]


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    starts_a_stack: dict[str, bool] = {}
    serves_moto: dict[str, bool] = {}
    for item in items:
        module = getattr(item, "module", None)
        fixtures = set(getattr(item, "fixturenames", ()))
        if _holds(module, STACK_STARTERS, starts_a_stack) or STACK_FIXTURES & fixtures:
            item.add_marker(pytest.mark.stack)
        if _holds(module, IN_PROCESS_MOTO, serves_moto) or IN_PROCESS_MOTO_FIXTURES & fixtures:
            item.add_marker(pytest.mark.in_process_moto)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store-compute",
        choices=("lambda", "fargate"),
        default="lambda",
        help="StoreCompute of the local cloud the stack tests start: where pets and foods run "
        "(make test runs the end-to-end suite with each)",
    )


@pytest.fixture(scope="session")
def store_compute(request: pytest.FixtureRequest) -> str:
    """The template's StoreCompute under test (``--store-compute``)."""
    return str(request.config.getoption("--store-compute"))


@pytest.fixture(scope="session")
def dev_process(tmp_path_factory: pytest.TempPathFactory, store_compute: str) -> Iterator[DevChild]:
    if E2E_CONFIG_URL:
        pytest.skip("runs against the local cloud only (E2E_CONFIG_URL is set)")
    tmp = tmp_path_factory.mktemp("dev")
    dev = start_dev(tmp, "--parameter-overrides", f"StoreCompute={store_compute}")
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
