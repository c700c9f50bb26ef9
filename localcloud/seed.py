"""``--seed``: a small demo catalogue, loaded through the API like any client would.

The items go through the real routes (``PUT /pets/{petId}``, ``PUT /foods/{foodId}``) with the
access token of the demo user, so they are validated and stored by the handlers themselves --
never written into the tables behind the handlers' back. Each PUT is create-only
(``If-None-Match: *``): seeding twice, or over persisted data, leaves an item that is already there
as it is (a 412, counted as seeded), edits made since included, instead of overwriting it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from localcloud.cognito_user import sign_in

__all__ = ["DEMO_CATALOGUE", "seed"]

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
    """PUTs the demo catalogue; returns how many of its items are in place (created or already there).

    ``route_keys``: those of the main API.
    """
    session = requests.Session()
    token = sign_in(config)["AccessToken"]
    session.headers["Authorization"] = f"Bearer {token}"
    stored = 0
    for collection, items in DEMO_CATALOGUE.items():
        put_route = next((key for key in route_keys if key.startswith(f"PUT {collection}/{{")), None)
        if put_route is None:
            console(f"localcloud: seed: the API has no PUT {collection}/{{id}} route, skipping {collection}")
            continue
        for item in items:
            response = session.put(
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
