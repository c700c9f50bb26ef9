"""``--seed``: two demo users and a small demo catalogue, loaded through the API like any client would.

The demo users are a staff member and a customer (``cognito_user.DEMO_STAFF``/``DEMO_CUSTOMER``),
signed up in the stack's user pool with their display names (``PUT /me``). The items go through
the real routes (``PUT /pets/{petId}``, ``PUT /foods/{foodId}``) with the staff member's access
token, so they are validated and stored by the handlers themselves --
never written into the tables behind the handlers' back. Each PUT is create-only
(``If-None-Match: *``): seeding twice, or over persisted data, leaves an item that is already there
as it is (a 412, counted as seeded), edits made since included, instead of overwriting it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from localcloud.cognito_user import DEMO_CUSTOMER, DEMO_STAFF, DemoUser, sign_in_demo

__all__ = ["DEMO_CATALOGUE", "DEMO_NAMES", "seed"]

#: the demo users' display names
DEMO_NAMES = {DEMO_STAFF: "Sam from the shop", DEMO_CUSTOMER: "Casey"}

#: route path -> items (each with its id)
DEMO_CATALOGUE: dict[str, list[dict[str, Any]]] = {
    "/pets": [
        {
            "id": "rex",
            "name": "Rex",
            "species": "dog",
            "breed": "Labrador",
            "ageMonths": 30,
            "priceCents": 45000,
        },
        {
            "id": "tom",
            "name": "Tom",
            "species": "cat",
            "breed": "Maine Coon",
            "ageMonths": 14,
            "priceCents": 38000,
        },
        {"id": "nemo", "name": "Nemo", "species": "fish", "ageMonths": 4, "priceCents": 1500},
        {
            "id": "kiwi",
            "name": "Kiwi",
            "species": "bird",
            "breed": "Budgerigar",
            "ageMonths": 8,
            "priceCents": 4000,
        },
    ],
    "/foods": [
        {
            "id": "crunchy-dog",
            "name": "Crunchy dog biscuits",
            "species": "dog",
            "priceCents": 1299,
            "weightGrams": 2000,
        },
        {"id": "tuna-cat", "name": "Tuna cat food", "species": "cat", "priceCents": 899, "weightGrams": 800},
        {
            "id": "flakes",
            "name": "Tropical fish flakes",
            "species": "fish",
            "priceCents": 499,
            "weightGrams": 100,
        },
    ],
}


def seed(config: dict[str, Any], route_keys: set[str], console: Callable[[str], None]) -> int:
    """Signs the demo users up, names them, and PUTs the demo catalogue; returns how many of its
    items are in place (created or already there).

    ``route_keys``: those of the main API.
    """
    sessions = {user: _session(config, user) for user in DEMO_NAMES}
    if "PUT /me" in route_keys:
        for user, name in DEMO_NAMES.items():
            response = sessions[user].put(f"{config['apiUrl']}/me", json={"displayName": name}, timeout=30)
            if response.status_code != 200:
                console(
                    f"localcloud: seed: PUT /me for {user.email} -> {response.status_code} {response.text}"
                )
    staff = sessions[DEMO_STAFF]
    stored = 0
    for collection, items in DEMO_CATALOGUE.items():
        put_route = next((key for key in route_keys if key.startswith(f"PUT {collection}/{{")), None)
        if put_route is None:
            console(f"localcloud: seed: the API has no PUT {collection}/{{id}} route, skipping {collection}")
            continue
        for item in items:
            response = staff.put(
                f"{config['apiUrl']}{collection}/{item['id']}",
                json=item,
                headers={"If-None-Match": "*"},  # create only: never overwrite what is there
                timeout=30,
            )
            if response.status_code in (201, 412):  # created, or already there
                stored += 1
            else:
                console(
                    f"localcloud: seed: PUT {collection}/{item['id']} -> {response.status_code} {response.text}"
                )
    return stored


def _session(config: dict[str, Any], user: DemoUser) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sign_in_demo(config, user)['AccessToken']}"
    return session
