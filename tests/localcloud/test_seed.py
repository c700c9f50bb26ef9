"""``--seed`` over data that is already there (a restart over ``--persist``): nothing is overwritten.

A PUT without ``If-Match`` of an existing item is a 428, so the seed writes create-only
(``If-None-Match: *``) and counts a 412 as "already there".
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from localcloud.child import DevChild
from localcloud.cognito_user import sign_in_demo
from localcloud.seed import DEMO_CATALOGUE, seed

pytestmark = pytest.mark.slow

ROUTE_KEYS = {"PUT /pets/{petId}", "PUT /foods/{foodId}"}
TOTAL = sum(len(items) for items in DEMO_CATALOGUE.values())


def test_seeding_again_keeps_what_is_there(dev_process: DevChild) -> None:
    config: dict[str, Any] = requests.get(f"{dev_process.web_url}/config.json", timeout=10).json()
    api = config["apiUrl"].rstrip("/")
    said: list[str] = []
    assert seed(config, ROUTE_KEYS, said.append) == TOTAL and said == []
    rex = requests.get(f"{api}/pets/rex", timeout=10).json()
    token = sign_in_demo(config)["AccessToken"]
    edited = requests.put(
        f"{api}/pets/rex",
        json={**rex, "priceCents": rex["priceCents"] + 1},
        headers={"Authorization": f"Bearer {token}", "If-Match": str(rex["version"])},
        timeout=10,
    )
    assert edited.status_code == 200, edited.text

    assert seed(config, ROUTE_KEYS, said.append) == TOTAL and said == []  # as after a restart
    assert requests.get(f"{api}/pets/rex", timeout=10).json() == edited.json()


def test_the_demo_users_are_a_named_staff_member_and_a_named_customer(dev_process: DevChild) -> None:
    from localcloud.cognito_user import DEMO_CUSTOMER, DEMO_STAFF, token_groups
    from localcloud.seed import DEMO_NAMES

    config: dict[str, Any] = requests.get(f"{dev_process.web_url}/config.json", timeout=10).json()
    said: list[str] = []
    seed(config, {*ROUTE_KEYS, "PUT /me"}, said.append)
    assert said == []
    for user in (DEMO_STAFF, DEMO_CUSTOMER):
        token = sign_in_demo(config, user)["AccessToken"]
        assert ("staff" in token_groups(token)) == (user is DEMO_STAFF)
        me = requests.get(f"{config['apiUrl']}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.status_code == 200 and me.json()["displayName"] == DEMO_NAMES[user]
