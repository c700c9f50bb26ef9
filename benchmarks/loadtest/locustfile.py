"""A realistic mix of traffic from signed-in users, for Locust (started by ``benchmarks/loadtest/run.py``).

Each simulated user takes one of the Cognito users the runner created (``LOADTEST_USERS_FILE``),
signs in with ``USER_PASSWORD_AUTH`` against the stack's user pool (config.json of
``LOADTEST_CONFIG_FILE``), creates two pets and a food of its own, then loops with a pause of
``LOADTEST_WAIT`` seconds (``min,max``) between tasks:

* browsing lists: ``GET /pets``, ``GET /foods``, ``GET /comments/{pageId}``;
* reading items: ``GET /pets/{petId}``, ``GET /foods/{foodId}``;
* writing a pet with optimistic concurrency: ``GET`` it, then ``PUT`` with ``If-Match: <version>``;
* posting a comment (half of them with an ``Idempotency-Key``).

Every request is named by its route (``/pets/{petId}``) so the statistics group by route. On stop,
each user deletes its pets and food (outside the statistics) with ``If-Match: *``: a replace or
delete without ``If-Match`` is a 428 once the item exists. Do not import this module in a test
process: importing Locust monkey-patches the standard library with gevent.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import time
import uuid
from typing import Any

import requests
from locust import HttpUser, between, events, task

CONFIG: dict[str, Any] = {}
CREDENTIALS: list[dict[str, str]] = []
_next_user = itertools.count()
_cognito: Any = None


@events.init.add_listener
def _load(environment: Any, **_: Any) -> None:
    """Reads what the runner prepared; creates the one Cognito client all users share."""
    global _cognito
    with open(os.environ["LOADTEST_CONFIG_FILE"], encoding="utf-8") as file:
        CONFIG.update(json.load(file))
    with open(os.environ["LOADTEST_USERS_FILE"], encoding="utf-8") as file:
        CREDENTIALS.extend(json.load(file))
    from localcloud.cognito_user import cognito_client

    _cognito = cognito_client(CONFIG)


def _wait_bounds() -> tuple[float, float]:
    low, _, high = os.environ.get("LOADTEST_WAIT", "0.5,2").partition(",")
    return float(low), float(high or low)


class StoreUser(HttpUser):
    """One signed-in customer of the store."""

    wait_time = between(*_wait_bounds())

    def on_start(self) -> None:
        credentials = CREDENTIALS[next(_next_user) % len(CREDENTIALS)]
        self.tag = credentials["email"].split("@", 1)[0]
        self.token = self._sign_in(credentials)
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.pets = [f"{self.tag}-pet-{n}" for n in range(2)]
        self.food = f"{self.tag}-food"
        for pet_id in self.pets:
            self.client.put(
                f"/pets/{pet_id}", json=self._pet(), headers=self.auth, name="/pets/{petId} [create]"
            )
        food = {"name": "Load test kibble", "species": "dog", "priceCents": 999, "weightGrams": 500}
        self.client.put(f"/foods/{self.food}", json=food, headers=self.auth, name="/foods/{foodId} [create]")

    def _sign_in(self, credentials: dict[str, str]) -> str:
        """USER_PASSWORD_AUTH, recorded in the statistics as ``cognito InitiateAuth``."""
        started = time.perf_counter()
        exception = None
        token = ""
        try:
            response = _cognito.initiate_auth(
                ClientId=CONFIG["cognito"]["userPoolClientId"],
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": credentials["email"], "PASSWORD": credentials["password"]},
            )
            token = response["AuthenticationResult"]["AccessToken"]
        except Exception as error:  # reported as a failure of the sign-in
            exception = error
        elapsed = (time.perf_counter() - started) * 1000
        self.environment.events.request.fire(
            request_type="cognito",
            name="InitiateAuth (USER_PASSWORD_AUTH)",
            response_time=elapsed,
            response_length=len(token),
            exception=exception,
            context={},
        )
        if exception is not None:
            raise exception
        return token

    def _pet(self) -> dict[str, Any]:
        return {
            "name": random.choice(["Rex", "Tom", "Kiwi", "Nemo", "Bella"]),
            "species": random.choice(["dog", "cat", "bird", "fish"]),
            "ageMonths": random.randint(1, 120),
            "priceCents": random.randint(500, 90_000),
        }

    # ------------------------------------------------------------------ browsing
    @task(4)
    def list_pets(self) -> None:
        self.client.get("/pets?limit=20", name="/pets")

    @task(2)
    def list_foods(self) -> None:
        self.client.get("/foods?limit=20", name="/foods")

    @task(2)
    def list_comments(self) -> None:
        self.client.get(f"/comments/{random.choice(self.pets)}?limit=10", name="/comments/{pageId}")

    # ------------------------------------------------------------------ reading
    @task(5)
    def get_pet(self) -> None:
        self.client.get(f"/pets/{random.choice(self.pets)}", name="/pets/{petId}")

    @task(2)
    def get_food(self) -> None:
        self.client.get(f"/foods/{self.food}", name="/foods/{foodId}")

    # ------------------------------------------------------------------ writing
    @task(2)
    def update_pet(self) -> None:
        pet_id = random.choice(self.pets)
        current = self.client.get(f"/pets/{pet_id}", name="/pets/{petId}")
        if current.status_code != 200:
            return
        version = current.json()["version"]
        self.client.put(
            f"/pets/{pet_id}",
            json=self._pet(),
            headers={**self.auth, "If-Match": str(version)},
            name="/pets/{petId} [PUT If-Match]",
        )

    @task(1)
    def post_comment(self) -> None:
        headers = dict(self.auth)
        if random.random() < 0.5:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        body = {"pageId": random.choice(self.pets), "message": "Lovely! Is it house-trained?"}
        self.client.post("/comments", json=body, headers=headers, name="/comments [POST]")

    def on_stop(self) -> None:
        """Removes this user's pets and food; not part of the statistics."""
        with requests.Session() as session:
            session.headers.update(self.auth)
            for path in [*(f"/pets/{pet_id}" for pet_id in self.pets), f"/foods/{self.food}"]:
                with contextlib.suppress(requests.RequestException):  # whatever version it has now
                    session.delete(f"{self.host}{path}", headers={"If-Match": "*"}, timeout=10)
