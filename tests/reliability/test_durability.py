"""``--persist DIR``: what the local cloud acknowledged survives the process being killed.

Why: a developer's data (users, catalogue, comments, idempotency records) lives only in the
local cloud's memory; ``--persist`` promises it across restarts. Here the process is killed with
SIGKILL right after the last 2xx -- no stop handler runs, no snapshot is taken -- and everything
that was answered with a success must be there after a restart on the same folder (the journal
of ``localcloud.aws_backend``), and still after a graceful stop and a third start. Then a journal
whose last record was torn (the process died while appending it) must still restore everything
before that record. (``tests/localcloud/test_cli.py`` restarts gracefully with ``--seed``.)
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import requests

from localcloud.child import DevChild, stop_dev
from tests.stack_client import (
    PASSWORD,
    PET,
    TIMEOUT,
    cognito_client,
    new_pet,
    new_staff_tokens,
    sign_up_and_in,
    unique,
)
from tests.support import start_dev

pytestmark = pytest.mark.slow

SEQUENTIAL_WRITES = 10
CONCURRENT_WRITES = 10


def kill(dev: DevChild) -> None:
    """SIGKILL: nothing of the local cloud runs after this (no save on stop)."""
    os.kill(dev.process.pid, signal.SIGKILL)
    dev.process.wait(10)


def write_everything(dev: DevChild) -> dict[str, Any]:
    """Writes of every kind the API acknowledges; returns what must be read back."""
    api = dev.config["apiUrl"]
    tokens = new_staff_tokens(dev.config, "durable")
    auth = {"Authorization": f"Bearer {tokens['AccessToken']}"}
    pets: dict[str, dict[str, Any]] = {}
    for number in range(SEQUENTIAL_WRITES):
        response = requests.put(
            f"{api}/pets/seq-{number}", json={**PET, "ageMonths": number}, headers=auth, timeout=TIMEOUT
        )
        assert response.status_code == 201, response.text
        pets[f"seq-{number}"] = response.json()

    def put(number: int) -> requests.Response:
        body = {**PET, "name": f"Concurrent {number}"}
        return requests.put(f"{api}/pets/con-{number}", json=body, headers=auth, timeout=TIMEOUT)

    with concurrent.futures.ThreadPoolExecutor(CONCURRENT_WRITES) as pool:
        for response in pool.map(put, range(CONCURRENT_WRITES)):
            assert response.status_code == 201, response.text
            pets[response.json()["id"]] = response.json()
    replaced = requests.put(
        f"{api}/pets/seq-0",
        json={**PET, "name": "Replaced"},
        headers={**auth, "If-Match": "1"},
        timeout=TIMEOUT,
    )
    assert replaced.status_code == 200, replaced.text
    pets["seq-0"] = replaced.json()

    def conditional_put(number: int) -> requests.Response:  # all on version 1 of seq-2: one wins
        body = {**PET, "name": f"Contender {number}"}
        headers = {**auth, "If-Match": "1"}
        return requests.put(f"{api}/pets/seq-2", json=body, headers=headers, timeout=TIMEOUT)

    with concurrent.futures.ThreadPoolExecutor(CONCURRENT_WRITES) as pool:
        contenders = list(pool.map(conditional_put, range(CONCURRENT_WRITES)))
    winners = [response for response in contenders if response.status_code == 200]
    assert len(winners) == 1 and sorted(r.status_code for r in contenders).count(412) == CONCURRENT_WRITES - 1
    pets["seq-2"] = winners[0].json()  # replayed in the order of effect, the winner wins again
    deleted = requests.delete(f"{api}/pets/seq-1", headers={**auth, "If-Match": "1"}, timeout=TIMEOUT)
    assert deleted.status_code == 204
    del pets["seq-1"]
    comment_headers = {**auth, "Idempotency-Key": "durable-comment-1"}
    comment_body = {"pageId": new_pet(api, auth, "durable-page"), "message": "acknowledged, then killed"}
    comment = requests.post(f"{api}/comments", json=comment_body, headers=comment_headers, timeout=TIMEOUT)
    assert comment.status_code == 201, comment.text
    return {
        "pets": pets,
        "comment": comment.json(),
        "comment_request": (comment_body, comment_headers),
        "email": tokens["email"],
        "pool": dev.config["cognito"],
    }


def check_everything_is_back(dev: DevChild, written: dict[str, Any]) -> None:
    api = dev.config["apiUrl"]
    assert dev.config["cognito"]["userPoolId"] == written["pool"]["userPoolId"]
    for pet_id, stored in written["pets"].items():
        response = requests.get(f"{api}/pets/{pet_id}", timeout=TIMEOUT)
        assert response.status_code == 200, (pet_id, response.text, dev.output()[-4000:])
        assert response.json() == stored
    assert requests.get(f"{api}/pets/seq-1", timeout=TIMEOUT).status_code == 404  # the delete too
    listed = requests.get(f"{api}/comments/{written['comment']['pageId']}", timeout=TIMEOUT).json()["items"]
    assert listed == [written["comment"]]
    body, headers = written["comment_request"]  # the idempotency record survived: same comment
    retried = requests.post(f"{api}/comments", json=body, headers=headers, timeout=TIMEOUT)
    assert retried.status_code == 201 and retried.json() == written["comment"]
    # the user signed up before the kill can still sign in
    cognito = cognito_client(dev.config)
    signed_in = cognito.initiate_auth(
        ClientId=written["pool"]["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": written["email"], "PASSWORD": PASSWORD},
    )
    assert signed_in["AuthenticationResult"]["AccessToken"]


def test_a_sigkill_right_after_the_last_2xx_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "one").mkdir()
    first = start_dev(tmp_path / "one", "--persist", str(data))
    try:
        written = write_everything(first)
    finally:
        kill(first)
    assert "saved AWS state" not in first.output()  # the stop handler never ran
    assert (data / "aws-state.journal").stat().st_size > 0
    (tmp_path / "two").mkdir()
    second = start_dev(tmp_path / "two", "--persist", str(data))
    try:
        assert "replayed" in second.output()
        check_everything_is_back(second, written)
    finally:
        assert stop_dev(second.process) == 0
    # and a graceful stop after the replay (snapshot, empty journal) keeps it all once more
    assert "saved AWS state" in second.output()
    assert (data / "aws-state.journal").stat().st_size == 0
    (tmp_path / "three").mkdir()
    third = start_dev(tmp_path / "three", "--persist", str(data))
    try:
        assert "replayed" not in third.output()
        check_everything_is_back(third, written)
    finally:
        assert stop_dev(third.process) == 0


def test_a_torn_last_journal_record_is_ignored_and_the_rest_restored(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "one").mkdir()
    first = start_dev(tmp_path / "one", "--persist", str(data))
    try:
        api = first.config["apiUrl"]
        cognito = first.config["cognito"]
        tokens = sign_up_and_in(
            cognito_client(first.config),
            cognito["userPoolId"],
            cognito["userPoolClientId"],
            f"{unique('torn')}@example.com",
            ("staff",),  # it writes a pet
        )
        auth = {"Authorization": f"Bearer {tokens['AccessToken']}"}
        kept = requests.put(f"{api}/pets/kept", json=PET, headers=auth, timeout=TIMEOUT)
        assert kept.status_code == 201
    finally:
        kill(first)
    journal = data / "aws-state.journal"
    with journal.open("ab") as file:  # what a kill in the middle of an append leaves behind
        file.write(b"\x00\x00\x10\x00\xde\xad\xbe\xefhalf a rec")
    (tmp_path / "two").mkdir()
    second = start_dev(tmp_path / "two", "--persist", str(data))
    try:
        assert "ignored the journal's incomplete last record" in second.output()
        response = requests.get(f"{second.config['apiUrl']}/pets/kept", timeout=TIMEOUT)
        assert response.status_code == 200, second.output()[-4000:]
        assert response.json() == kept.json()
    finally:
        assert stop_dev(second.process) == 0
