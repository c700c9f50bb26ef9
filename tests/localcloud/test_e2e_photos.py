"""Pet photos end to end, over HTTP only, through the URLs of config.json: staff upload, the image
pipeline, a form posted twice, deleting a photo, and a deleted pet's photos going with it.

Runs against ``python -m localcloud dev`` (the session's ``stack_config``/``api``), or a deployed
stack with ``E2E_CONFIG_URL``. Everything asynchronous (the pipeline, the PetDeleted delivery) is
polled, each wait bounded.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests
from PIL import Image

from tests.stack_client import PET, TIMEOUT, new_staff_tokens, new_user_tokens, unique

pytestmark = pytest.mark.slow

PIPELINE_SECONDS = 60
"""The longest a photo may stay PENDING after its upload (the pipeline takes a second or two locally)."""
DELIVERY_SECONDS = 15
"""The longest a deleted pet's photos may take to go (EventBridge delivers PetDeleted asynchronously)."""
STAFF_ONLY = "Only store staff may do this: it needs the staff role"


@pytest.fixture(scope="module")
def staff(stack_config: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_staff_tokens(stack_config, 'photo-staff')['AccessToken']}"}


@pytest.fixture(scope="module")
def customer(stack_config: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_user_tokens(stack_config, 'photo-customer')['AccessToken']}"}


def jpeg(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    image = io.BytesIO()
    Image.new("RGB", size, colour).save(image, "JPEG")
    return image.getvalue()


def new_pet(api: str, staff: dict[str, str]) -> str:
    pet_id = unique("photo-pet")
    body: dict[str, Any] = dict(PET)
    created = requests.put(f"{api}/pets/{pet_id}", json=body, headers=staff, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    return pet_id


def request_form(api: str, headers: dict[str, str], pet_id: str) -> requests.Response:
    return requests.post(
        f"{api}/pets/{pet_id}/photos", json={"contentType": "image/jpeg"}, headers=headers, timeout=TIMEOUT
    )


def post_form(ticket: dict[str, Any], content: bytes) -> None:
    form = ticket["upload"]
    uploaded = requests.post(
        form["url"], data=form["fields"], files={"file": ("pet.jpg", content, "image/jpeg")}, timeout=TIMEOUT
    )
    assert uploaded.status_code in (200, 201, 204), uploaded.text


def photos_of(api: str, pet_id: str) -> list[dict[str, Any]]:
    listed = requests.get(f"{api}/pets/{pet_id}/photos", params={"limit": 100}, timeout=TIMEOUT)
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


def photo_of(api: str, pet_id: str, photo_id: str) -> dict[str, Any] | None:
    return next((p for p in photos_of(api, pet_id) if p["photoId"] == photo_id), None)


def wait_until(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.25)


def settled(api: str, pet_id: str, photo_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        photo = photo_of(api, pet_id, photo_id)
        return photo if photo and photo["status"] != "PENDING" else None

    photo: dict[str, Any] = wait_until(done, PIPELINE_SECONDS, f"photo {photo_id} processed")
    return photo


def ready_photo(api: str, staff: dict[str, str], pet_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new READY photo of the pet, and the ticket whose form uploaded it."""
    ticket = request_form(api, staff, pet_id)
    assert ticket.status_code == 201, ticket.text
    post_form(ticket.json(), jpeg((1600, 1200), (200, 120, 40)))
    photo = settled(api, pet_id, ticket.json()["photoId"])
    assert photo["status"] == "READY", photo
    return photo, ticket.json()


def rendition_bytes(photo: dict[str, Any]) -> dict[int, bytes]:
    fetched = {}
    for rendition in photo["renditions"]:
        response = requests.get(rendition["url"], timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        fetched[rendition["width"]] = response.content
    return fetched


def pipeline_executions(stack_config: dict[str, Any], photo_id: str) -> list[dict[str, Any]] | None:
    """The image pipeline's executions for a photo, finished ones only, when the stack's Step
    Functions can be asked (the local cloud's AWS endpoint); None otherwise."""
    endpoint = stack_config.get("awsEndpointUrl")
    if not endpoint:
        return None
    states = boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name=stack_config["region"],
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e",
    )
    machines = [m for m in states.list_state_machines()["stateMachines"] if "ImagePipeline" in m["name"]]
    found: list[dict[str, Any]] = []
    for machine in machines:
        for execution in states.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            if execution["status"] == "RUNNING":
                continue
            described = states.describe_execution(executionArn=execution["executionArn"])
            if photo_id in described.get("input", ""):
                found.append(dict(described))
    return found


# ---------------------------------------------------------------------- upload


def test_staff_upload_a_photo_that_becomes_ready(api: str, staff: dict[str, str]) -> None:
    pet_id = new_pet(api, staff)
    photo, _ = ready_photo(api, staff, pet_id)
    assert sorted(r["width"] for r in photo["renditions"]) == [256, 1024]
    assert all(content[:2] == b"\xff\xd8" for content in rendition_bytes(photo).values())


def test_a_customer_may_not_request_an_upload(
    api: str, staff: dict[str, str], customer: dict[str, str]
) -> None:
    pet_id = new_pet(api, staff)
    refused = request_form(api, customer, pet_id)
    assert refused.status_code == 403, refused.text
    assert refused.json()["message"] == STAFF_ONLY
    assert photos_of(api, pet_id) == []
    assert request_form(api, {}, pet_id).status_code == 401  # no token: the JWT authorizer


def test_an_upload_for_a_missing_pet_is_404(api: str, staff: dict[str, str]) -> None:
    pet_id = unique("no-pet")
    missing = request_form(api, staff, pet_id)
    assert missing.status_code == 404, missing.text
    assert missing.json()["message"] == f"pet {pet_id!r} not found"


def test_posting_a_form_again_after_ready_changes_nothing(
    api: str, staff: dict[str, str], stack_config: dict[str, Any]
) -> None:
    """S3 takes the second file (the form is valid for 5 minutes); the pipeline refuses it and the
    photo stays READY with the same renditions."""
    pet_id = new_pet(api, staff)
    photo, ticket = ready_photo(api, staff, pet_id)
    before = rendition_bytes(photo)

    post_form(ticket, jpeg((800, 600), (10, 200, 90)))
    executions = pipeline_executions(stack_config, photo["photoId"])
    if executions is not None:  # wait for the refusing execution itself
        refused = wait_until(
            lambda: [
                e
                for e in pipeline_executions(stack_config, photo["photoId"]) or []
                if e["status"] == "FAILED"
            ],
            PIPELINE_SECONDS,
            "the second upload's execution",
        )
        assert [e.get("error") for e in refused] == ["NotPending"]
    else:  # a deployed stack: watch the photo for as long as the pipeline takes there
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert photo_of(api, pet_id, photo["photoId"]) is not None
            time.sleep(0.5)

    after = photo_of(api, pet_id, photo["photoId"])
    assert after is not None
    assert (after["status"], after["width"], after["height"]) == ("READY", 1600, 1200)
    assert after["updatedAt"] == photo["updatedAt"]
    assert rendition_bytes(after) == before


# ---------------------------------------------------------------------- delete


def test_staff_delete_a_photo_and_its_renditions_are_gone(
    api: str, staff: dict[str, str], customer: dict[str, str]
) -> None:
    pet_id = new_pet(api, staff)
    photo, _ = ready_photo(api, staff, pet_id)
    url = f"{api}/pets/{pet_id}/photos/{photo['photoId']}"

    refused = requests.delete(url, headers=customer, timeout=TIMEOUT)
    assert refused.status_code == 403 and refused.json()["message"] == STAFF_ONLY
    assert photo_of(api, pet_id, photo["photoId"]) is not None

    deleted = requests.delete(url, headers=staff, timeout=TIMEOUT)
    assert deleted.status_code == 204, deleted.text
    assert photo_of(api, pet_id, photo["photoId"]) is None
    for rendition in photo["renditions"]:  # the URLs are still signed; the objects are gone
        assert requests.get(rendition["url"], timeout=TIMEOUT).status_code in (403, 404)
    again = requests.delete(url, headers=staff, timeout=TIMEOUT)
    assert again.status_code == 404 and "not found" in again.json()["message"]


def test_deleting_a_pet_deletes_its_photos(api: str, staff: dict[str, str]) -> None:
    """The pets service publishes PetDeleted; the photos' cleanup function, subscribed on the bus,
    deletes the records, uploads and renditions (asynchronously: polled, bounded)."""
    pet_id = new_pet(api, staff)
    photo, _ = ready_photo(api, staff, pet_id)
    pending = request_form(api, staff, pet_id)
    assert pending.status_code == 201
    assert len(photos_of(api, pet_id)) == 2

    deleted = requests.delete(f"{api}/pets/{pet_id}", headers={**staff, "If-Match": '"1"'}, timeout=TIMEOUT)
    assert deleted.status_code == 204, deleted.text

    wait_until(lambda: photos_of(api, pet_id) == [], DELIVERY_SECONDS, "the deleted pet's photos gone")
    for rendition in photo["renditions"]:
        assert requests.get(rendition["url"], timeout=TIMEOUT).status_code in (403, 404)
    assert request_form(api, staff, pet_id).status_code == 404  # no pet, no new photo
