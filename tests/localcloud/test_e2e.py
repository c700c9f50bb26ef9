"""End to end, over HTTP only, through the URLs of config.json.

Runs against ``python -m localcloud dev`` on the project's template, or -- with
``E2E_CONFIG_URL=https://.../config.json`` -- against a deployed stack, unchanged: Cognito is
reached with boto3 at ``cognito.endpointUrl`` (absent for AWS), users are confirmed with
AdminConfirmSignUp (the caller's credentials on AWS). Attacks on the authorizer are in
``tests/security/test_token_attacks.py``; the client helpers are ``tests/stack_client.py``.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import jwt
import pytest
import requests

from tests.stack_client import TIMEOUT, cognito_client, new_pet, sign_up_and_in, unique

pytestmark = pytest.mark.slow

ALLOWED_ORIGIN = os.environ.get("E2E_ALLOWED_ORIGIN", "http://127.0.0.1:3000")


@pytest.fixture(scope="module")
def tokens(stack_config: dict[str, Any]) -> dict[str, Any]:
    cognito = stack_config["cognito"]
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    return sign_up_and_in(  # staff: these tests edit the catalogue
        cognito_client(stack_config), cognito["userPoolId"], cognito["userPoolClientId"], email, ("staff",)
    )


@pytest.fixture(scope="module")
def auth(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['AccessToken']}"}


def test_config_json(stack_config: dict[str, Any]) -> None:
    assert set(stack_config) >= {"region", "apiUrl", "apis", "edgeUrl", "cognito", "awsEndpointUrl"}
    assert set(stack_config["cognito"]) >= {"region", "userPoolId", "userPoolClientId", "endpointUrl"}
    assert stack_config["apiUrl"] in stack_config["apis"].values()


ITEMS: dict[str, dict[str, Any]] = {
    "pets": {"name": "Rex", "species": "dog", "breed": "Labrador", "ageMonths": 30, "priceCents": 45000},
    "foods": {"name": "Biscuits", "species": "dog", "priceCents": 1299, "weightGrams": 2000},
}


@pytest.mark.parametrize("collection", ["pets", "foods"])
def test_catalogue_crud(api: str, auth: dict[str, str], collection: str) -> None:
    item_id = unique(collection)
    url = f"{api}/{collection}/{item_id}"
    created = requests.put(url, json=ITEMS[collection], headers=auth, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    stored = created.json()
    assert stored["id"] == item_id and stored["version"] == 1
    assert created.headers["etag"] == '"1"'
    assert {k: stored[k] for k in ITEMS[collection]} == ITEMS[collection]

    fetched = requests.get(url, timeout=TIMEOUT)
    assert fetched.status_code == 200 and fetched.json() == stored

    replaced = requests.put(
        url, json={**ITEMS[collection], "priceCents": 1}, headers={**auth, "If-Match": '"1"'}, timeout=TIMEOUT
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2 and replaced.json()["priceCents"] == 1

    stale = requests.put(url, json=ITEMS[collection], headers={**auth, "If-Match": "1"}, timeout=TIMEOUT)
    assert stale.status_code == 412 and "message" in stale.json()

    blind = requests.put(url, json=ITEMS[collection], headers=auth, timeout=TIMEOUT)  # no If-Match
    assert blind.status_code == 428 and "If-Match" in blind.json()["message"]
    assert requests.delete(url, headers=auth, timeout=TIMEOUT).status_code == 428

    deleted = requests.delete(url, headers={**auth, "If-Match": '"2"'}, timeout=TIMEOUT)
    assert deleted.status_code == 204 and deleted.content == b""
    assert requests.get(url, timeout=TIMEOUT).status_code == 404
    again = requests.delete(url, headers=auth, timeout=TIMEOUT)
    assert again.status_code == 404 and "message" in again.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "someone-else"}, "id"),
        ({"colour": "brown"}, "colour"),
        ({"priceCents": -1}, "priceCents"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_puts_are_400_with_a_message(
    api: str, auth: dict[str, str], change: dict[str, Any], field: str
) -> None:
    response = requests.put(
        f"{api}/pets/{unique('bad')}", json={**ITEMS["pets"], **change}, headers=auth, timeout=TIMEOUT
    )
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]


def test_list_pages_through_everything(api: str, auth: dict[str, str]) -> None:
    created = set()
    for _ in range(3):
        item_id = unique("page")
        assert requests.put(f"{api}/foods/{item_id}", json=ITEMS["foods"], headers=auth, timeout=TIMEOUT).ok
        created.add(item_id)
    seen: set[str] = set()
    token = None
    for _ in range(200):  # bounded: one page per item at most
        params: dict[str, Any] = {"limit": 2}
        if token:
            params["nextToken"] = token
        page = requests.get(f"{api}/foods", params=params, timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen.update(item["id"] for item in body["items"])
        token = body["nextToken"]
        if not token:
            break
    assert created <= seen
    assert requests.get(f"{api}/foods", params={"limit": 0}, timeout=TIMEOUT).status_code == 400


def test_comments(api: str, auth: dict[str, str], tokens: dict[str, Any]) -> None:
    page_id = new_pet(api, auth, "page")  # a comment's page is a pet
    subject = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})["sub"]
    posted = []
    for number in range(3):
        response = requests.post(
            f"{api}/comments",
            json={"pageId": page_id, "message": f"comment {number}"},
            headers=auth,
            timeout=TIMEOUT,
        )
        assert response.status_code == 201, response.text
        comment = response.json()
        assert comment["pageId"] == page_id and comment["authorId"] == subject
        posted.append(comment)
        time.sleep(0.01)
    first = requests.get(f"{api}/comments/{page_id}", params={"limit": 2}, timeout=TIMEOUT).json()
    assert [c["message"] for c in first["items"]] == ["comment 2", "comment 1"]
    assert first["nextToken"]
    rest = requests.get(
        f"{api}/comments/{page_id}", params={"limit": 2, "nextToken": first["nextToken"]}, timeout=TIMEOUT
    ).json()
    assert [c["message"] for c in rest["items"]] == ["comment 0"] and rest["nextToken"] is None


def test_comment_idempotency_key(api: str, auth: dict[str, str]) -> None:
    page_id = new_pet(api, auth, "idem")
    headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
    body = {"pageId": page_id, "message": "once"}
    first = requests.post(f"{api}/comments", json=body, headers=headers, timeout=TIMEOUT)
    second = requests.post(f"{api}/comments", json=body, headers=headers, timeout=TIMEOUT)
    assert first.status_code == 201, first.text
    assert second.json()["commentId"] == first.json()["commentId"]
    assert len(requests.get(f"{api}/comments/{page_id}", timeout=TIMEOUT).json()["items"]) == 1


@pytest.mark.parametrize("collection", ["pets", "foods"])
def test_a_customer_cannot_write_even_with_headers_that_claim_to_be_api_gateway(
    api: str, stack_config: dict[str, Any], collection: str
) -> None:
    """On Fargate the integration overwrites every ``x-apigw-*`` header the container reads (a
    client's own never arrive); on Lambda they are plain headers. Either way: 403, nothing stored."""
    cognito = stack_config["cognito"]
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    customer = sign_up_and_in(
        cognito_client(stack_config), cognito["userPoolId"], cognito["userPoolClientId"], email
    )
    url = f"{api}/{collection}/{unique(collection)}"
    forged = {"x-apigw-claim-sub": "someone-else", "x-apigw-stage-api-version": "v1"}
    headers = {"Authorization": f"Bearer {customer['AccessToken']}", **forged}
    answer = requests.put(url, json=ITEMS[collection], headers=headers, timeout=TIMEOUT)
    assert answer.status_code == 403, answer.text
    assert "staff" in answer.json()["message"]
    assert requests.get(url, timeout=TIMEOUT).status_code == 404


def test_the_console_names_what_served_each_catalogue_request(
    api: str, request: pytest.FixtureRequest, store_compute: str
) -> None:
    """StoreCompute=lambda: the functions; fargate: the ECS services' tasks (``PetsService/1``)."""
    dev = request.getfixturevalue("dev_process")  # the local cloud's console: not on AWS
    for collection in ("pets", "foods"):
        assert requests.get(f"{api}/{collection}", timeout=TIMEOUT).status_code == 200
    served = [line for line in dev.output().splitlines() if line.startswith("[StoreApi] GET /pets ->")]
    expected = "PetsService/" if store_compute == "fargate" else "PetsFunction"
    assert served and all(expected in line for line in served), served


def test_unknown_route(api: str) -> None:
    response = requests.get(f"{api}/nothing/here", timeout=TIMEOUT)
    assert response.status_code == 404
    assert "message" in response.json()


# Rejected tokens (forged, expired, another client's or pool's...) and the ID token that API
# Gateway accepts: tests/security/test_token_attacks.py, one table over HTTP.


# ---------------------------------------------------------------------- CORS
def test_cors_preflight_allowed(api: str) -> None:
    headers = {
        "Origin": ALLOWED_ORIGIN,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type,if-match",
    }
    response = requests.options(f"{api}/pets/x", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "PUT" in response.headers["access-control-allow-methods"].upper()
    assert "if-match" in response.headers["access-control-allow-headers"].lower()


def test_cors_preflight_refused(api: str) -> None:
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"}
    response = requests.options(f"{api}/pets/x", headers=headers, timeout=TIMEOUT)
    assert "access-control-allow-origin" not in response.headers


def test_cors_on_responses(api: str) -> None:
    allowed = requests.get(f"{api}/pets", headers={"Origin": ALLOWED_ORIGIN}, timeout=TIMEOUT)
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "etag" in allowed.headers["access-control-expose-headers"].lower()
    refused = requests.get(f"{api}/pets", headers={"Origin": "https://evil.example"}, timeout=TIMEOUT)
    assert "access-control-allow-origin" not in refused.headers


def test_v1_stage_lists_are_bare_arrays(stack_config: dict[str, Any]) -> None:
    v1 = next((url for name, url in stack_config["apis"].items() if name.endswith("/v1")), None)
    if v1 is None:
        pytest.skip("this stack publishes no v1 API URL")
    response = requests.get(f"{v1}/pets", params={"limit": 100}, timeout=TIMEOUT)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert isinstance(response.json(), list)


# ---------------------------------------------------------------------- photos
def upload_photo(api: str, auth: dict[str, str], content: bytes) -> dict[str, Any]:
    """Presigned upload -> S3 -> EventBridge -> Step Functions; returns the photo once settled."""
    pet_id = unique("photo")
    created = requests.put(f"{api}/pets/{pet_id}", json=ITEMS["pets"], headers=auth, timeout=TIMEOUT)
    assert created.status_code == 201
    ticket = requests.post(
        f"{api}/pets/{pet_id}/photos", json={"contentType": "image/jpeg"}, headers=auth, timeout=TIMEOUT
    )
    assert ticket.status_code == 201, ticket.text
    form = ticket.json()["upload"]
    uploaded = requests.post(
        form["url"], data=form["fields"], files={"file": ("pet.jpg", content, "image/jpeg")}, timeout=TIMEOUT
    )
    assert uploaded.status_code in (200, 201, 204), uploaded.text
    deadline = time.monotonic() + 60
    photo: dict[str, Any] = {}
    while time.monotonic() < deadline:
        listed = requests.get(f"{api}/pets/{pet_id}/photos", timeout=TIMEOUT).json()
        photo = next(p for p in listed["items"] if p["photoId"] == ticket.json()["photoId"])
        if photo["status"] != "PENDING":
            break
        time.sleep(0.25)
    return photo


def test_photo_upload_runs_the_image_pipeline_to_ready(api: str, auth: dict[str, str]) -> None:
    import io

    from PIL import Image

    image = io.BytesIO()
    Image.new("RGB", (1600, 1200), (200, 120, 40)).save(image, "JPEG")
    photo = upload_photo(api, auth, image.getvalue())
    assert photo["status"] == "READY", photo
    assert sorted(r["width"] for r in photo["renditions"]) == [256, 1024]
    rendition = requests.get(photo["renditions"][0]["url"], timeout=TIMEOUT)
    assert rendition.status_code == 200 and rendition.content[:2] == b"\xff\xd8"


def test_photo_that_is_not_an_image_ends_failed_with_a_reason(api: str, auth: dict[str, str]) -> None:
    photo = upload_photo(api, auth, b"this is a text file, not a JPEG\n" * 10)
    assert photo["status"] == "FAILED", photo
    assert photo["reason"] and "image" in photo["reason"].lower()
    assert not photo.get("renditions")
