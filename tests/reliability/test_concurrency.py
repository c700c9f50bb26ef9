"""Concurrent clients over HTTP: optimistic concurrency and idempotency hold under contention.

Why: ``If-Match`` and ``Idempotency-Key`` are promises about what happens when requests race --
exactly what sequential tests never exercise. These run real concurrent requests through the
gateway, the functions and DynamoDB's conditional writes (the local cloud, or ``E2E_CONFIG_URL``),
each bounded in count and in time (every request has a timeout, every retry loop a limit).
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import requests

from tests.stack_client import PET, TIMEOUT, new_pet, new_staff_tokens, unique

pytestmark = pytest.mark.slow
T = TypeVar("T")

SAME_VERSION_WRITERS = 50
IDEMPOTENT_POSTS = 20
COUNTER_WRITERS = 8
INCREMENTS_PER_WRITER = 5
MAX_ATTEMPTS_PER_INCREMENT = 60
COUNTER_DEADLINE_SECONDS = 90


@pytest.fixture(scope="module")
def auth(stack_config: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_staff_tokens(stack_config, 'race')['AccessToken']}"}


def run_together(count: int, request: Callable[[int], T]) -> list[T]:
    """``count`` calls of ``request(number)``, released at the same moment by a barrier."""
    barrier = threading.Barrier(count, timeout=30)

    def call(number: int) -> T:
        barrier.wait()
        return request(number)

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def test_concurrent_puts_with_the_same_if_match_have_exactly_one_winner(
    api: str, auth: dict[str, str]
) -> None:
    url = f"{api}/pets/{unique('race')}"
    assert requests.put(url, json=PET, headers=auth, timeout=TIMEOUT).status_code == 201

    def put(number: int) -> requests.Response:
        body = {**PET, "name": f"Writer {number}", "ageMonths": number}
        return requests.put(url, json=body, headers={**auth, "If-Match": '"1"'}, timeout=TIMEOUT)

    responses = run_together(SAME_VERSION_WRITERS, put)
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 1, 412: SAME_VERSION_WRITERS - 1}, statuses
    for refused in (r for r in responses if r.status_code == 412):
        assert "does not match" in refused.json()["message"]
    (winner,) = (r.json() for r in responses if r.status_code == 200)
    assert winner["version"] == 2
    assert requests.get(url, timeout=TIMEOUT).json() == winner


def test_concurrent_posts_with_one_idempotency_key_store_one_comment(api: str, auth: dict[str, str]) -> None:
    page_id = new_pet(api, auth, "idem-race")  # a comment's page is a pet
    headers = {**auth, "Idempotency-Key": unique("key")}
    body = {"pageId": page_id, "message": "posted once, however often it is retried"}

    def post(_: int) -> requests.Response:
        return requests.post(f"{api}/comments", json=body, headers=headers, timeout=TIMEOUT)

    responses = run_together(IDEMPOTENT_POSTS, post)
    created = [r.json() for r in responses if r.status_code == 201]
    in_progress = [r.json() for r in responses if r.status_code == 409]
    assert len(created) + len(in_progress) == IDEMPOTENT_POSTS, [r.status_code for r in responses]
    assert created, "at least the first request stores the comment"
    assert len({comment["commentId"] for comment in created}) == 1, "every 201 is the same comment"
    assert all("in progress" in problem["message"] for problem in in_progress), in_progress
    stored = requests.get(f"{api}/comments/{page_id}", timeout=TIMEOUT).json()["items"]
    assert stored == [created[0]]


def test_read_modify_write_with_if_match_loses_no_update(api: str, auth: dict[str, str]) -> None:
    """Each writer increments ``ageMonths`` by one, ``INCREMENTS_PER_WRITER`` times, by GET then
    PUT with the version it read, retrying on 412; the final value counts every increment."""
    url = f"{api}/pets/{unique('counter')}"
    assert requests.put(url, json={**PET, "ageMonths": 0}, headers=auth, timeout=TIMEOUT).status_code == 201
    deadline = time.monotonic() + COUNTER_DEADLINE_SECONDS
    conflicts = Counter[int]()

    def writer(number: int) -> int:
        session = requests.Session()
        done = 0
        for _ in range(INCREMENTS_PER_WRITER):
            for _attempt in range(MAX_ATTEMPTS_PER_INCREMENT):
                assert time.monotonic() < deadline, "the counter run took too long"
                current = session.get(url, timeout=TIMEOUT).json()
                body = {**PET, "ageMonths": current["ageMonths"] + 1}
                headers = {**auth, "If-Match": str(current["version"])}
                response = session.put(url, json=body, headers=headers, timeout=TIMEOUT)
                if response.status_code == 200:
                    done += 1
                    break
                assert response.status_code == 412, response.text
                conflicts[number] += 1
            else:
                raise AssertionError(f"writer {number} never got an increment in")
        return done

    done = run_together(COUNTER_WRITERS, writer)
    expected = COUNTER_WRITERS * INCREMENTS_PER_WRITER
    assert sum(done) == expected
    final = requests.get(url, timeout=TIMEOUT).json()
    assert final["ageMonths"] == expected, (final, dict(conflicts))
    assert final["version"] == 1 + expected


BLIND_WRITERS = 10
UPDATES_PER_BLIND_WRITER = 5


def test_read_modify_write_without_if_match_loses_no_update(api: str, auth: dict[str, str]) -> None:
    """Ten writers each add 1 to ``ageMonths`` five times by GET then PUT, starting WITHOUT If-Match.

    This kept 9 updates of 50 when a PUT without If-Match replaced blindly. Now such a PUT of an
    existing pet is a 428 that changes nothing; the writer then sends the version it read, and
    either wins or gets a 412 and reads again. No update is lost.
    """
    url = f"{api}/pets/{unique('blind')}"
    assert requests.put(url, json={**PET, "ageMonths": 0}, headers=auth, timeout=TIMEOUT).status_code == 201
    deadline = time.monotonic() + COUNTER_DEADLINE_SECONDS
    statuses = Counter[int]()
    lock = threading.Lock()

    def writer(number: int) -> int:
        session = requests.Session()
        send_version = False
        done = 0
        for _ in range(UPDATES_PER_BLIND_WRITER):
            for _attempt in range(MAX_ATTEMPTS_PER_INCREMENT):
                assert time.monotonic() < deadline, "the blind writers took too long"
                current = session.get(url, timeout=TIMEOUT).json()
                body = {**PET, "ageMonths": current["ageMonths"] + 1}
                headers = {**auth, "If-Match": str(current["version"])} if send_version else auth
                response = session.put(url, json=body, headers=headers, timeout=TIMEOUT)
                with lock:
                    statuses[response.status_code] += 1
                if response.status_code == 200:
                    done += 1
                    break
                assert response.status_code in (412, 428), response.text
                send_version = send_version or response.status_code == 428
            else:
                raise AssertionError(f"writer {number} never got an update in")
        return done

    done = run_together(BLIND_WRITERS, writer)
    expected = BLIND_WRITERS * UPDATES_PER_BLIND_WRITER
    assert sum(done) == expected
    final = requests.get(url, timeout=TIMEOUT).json()
    assert final["ageMonths"] == expected, (final, dict(statuses))
    assert final["version"] == 1 + expected
    assert statuses[428] == BLIND_WRITERS and statuses[200] == expected, dict(statuses)
