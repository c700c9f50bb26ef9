"""The catalogue's end-to-end tests again, with ``StoreCompute=fargate``: the pets and foods services
as ECS tasks behind the VPC link, the rest of the stack unchanged.

The tests are the same functions as on Lambda (imported from ``test_e2e`` and ``test_e2e_people``),
run against a local cloud of their own, so the two compute choices answer the same requests the
same way -- statuses, bodies, the v1 stage's bare arrays, CORS, the cascade of a deleted pet's
comments through EventBridge. The tests below them are the container's own: who may write, and that
a client cannot pass itself off as API Gateway.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from localcloud.child import DevChild, stop_dev
from tests.localcloud.conftest import E2E_CONFIG_URL, start_dev
from tests.localcloud.test_e2e import (  # noqa: F401 - the fixtures and tests, run here again
    ITEMS,
    auth,
    test_catalogue_crud,
    test_cors_on_responses,
    test_invalid_puts_are_400_with_a_message,
    test_list_pages_through_everything,
    test_v1_stage_lists_are_bare_arrays,
    tokens,
)
from tests.localcloud.test_e2e_people import (  # noqa: F401
    ada,
    bearer,
    staff,
    test_a_deleted_pets_comments_go_but_not_those_of_the_pet_recreated_under_its_id,
)
from tests.stack_client import TIMEOUT, unique

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fargate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChild]:
    if E2E_CONFIG_URL:
        pytest.skip("runs against the local cloud only (E2E_CONFIG_URL is set)")
    dev = start_dev(tmp_path_factory.mktemp("fargate"), "--parameter-overrides", "StoreCompute=fargate")
    try:
        yield dev
    finally:
        stop_dev(dev.process)


@pytest.fixture(scope="module")
def stack_config(fargate: DevChild) -> dict[str, Any]:
    return fargate.config  # config.json, as the ready file holds it


@pytest.fixture(scope="module")
def api(stack_config: dict[str, Any]) -> str:
    return str(stack_config["apiUrl"]).rstrip("/")


def test_the_catalogue_is_served_by_the_ecs_tasks(api: str, fargate: DevChild) -> None:
    for collection in ("pets", "foods"):
        assert requests.get(f"{api}/{collection}", timeout=TIMEOUT).status_code == 200
    output = fargate.output()
    assert "PetsService/" in output and "FoodsService/" in output
    gateway = [line for line in output.splitlines() if line.startswith("[StoreApi]")]
    assert not [line for line in gateway if "PetsFunction" in line or "FoodsFunction" in line]


@pytest.mark.parametrize("collection", ["pets", "foods"])
def test_a_customer_cannot_write_even_with_headers_that_claim_to_be_api_gateway(
    api: str,
    ada: dict[str, Any],  # noqa: F811 - the fixture imported above
    collection: str,
) -> None:
    url = f"{api}/{collection}/{unique(collection)}"
    forged = {"x-apigw-claim-sub": "someone-else", "x-apigw-stage-api-version": "v1"}
    answer = requests.put(url, json=ITEMS[collection], headers={**bearer(ada), **forged}, timeout=TIMEOUT)
    assert answer.status_code == 403, answer.text
    assert "staff" in answer.json()["message"]
    assert requests.get(url, timeout=TIMEOUT).status_code == 404
