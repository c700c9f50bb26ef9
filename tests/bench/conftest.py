"""A local cloud of their own for the benchmark and load-test checks.

They write data (dozens of pets, comments, photos) that would change what other suites see in
the session's shared stack (a v1 list of more than 20 pets is a 400, for one), so they get a
``python -m localcloud dev`` of their own, started once for this folder.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localcloud.child import DevChild, stop_dev
from tests.support import E2E_CONFIG_URL, start_dev


@pytest.fixture(scope="package")
def bench_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChild]:
    if E2E_CONFIG_URL:
        pytest.skip("the benchmarks run against the local cloud only")
    dev = start_dev(tmp_path_factory.mktemp("bench-dev"))
    try:
        yield dev
    finally:
        stop_dev(dev.process)
