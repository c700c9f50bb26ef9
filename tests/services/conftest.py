"""Handler tests: the real Powertools resolvers against moto's in-process DynamoDB.

Each test gets its own ``mock_aws`` with the template's tables, and each function is invoked with
the environment the template gives it (see ``tests.support``).
"""

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.support import Invoke, create_data_stores, invoker, stack


@pytest.fixture
def aws() -> Iterator[None]:
    stack()  # deployed in a moto of its own: the whole stack's rules and functions stay out of this one
    with mock_aws():
        create_data_stores()
        yield


@pytest.fixture
def invoke(aws: None, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invoke a template function's handler in-process; returns the API Gateway response dict."""
    return invoker(monkeypatch)
