"""Handler tests: the real Powertools resolvers against moto's in-process DynamoDB.

Each test gets its own ``mock_aws`` with the template's tables, and each function is invoked with
the environment the template gives it (see ``tests.support``).
"""

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.support import LambdaContext, create_data_stores, function_environment, lambda_handler

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        create_data_stores()
        yield


@pytest.fixture
def invoke(aws: None, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invoke a template function's handler in-process; returns the API Gateway response dict."""

    def call(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        for name, value in function_environment(logical_id).items():
            monkeypatch.setenv(name, value)
        result: dict[str, Any] = lambda_handler(logical_id)(copy.deepcopy(event), LambdaContext())
        return result

    return call
