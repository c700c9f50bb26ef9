"""The web client in a real browser (Debian's Chromium driven by Playwright), against ``make dev``.

One user's whole visit, through the page only: sign up, confirm (the local confirm action), sign
in, page through the seeded pets, create and edit a pet, be refused a stale edit (412) and an
invalid one (400), create and delete a food, comment on the pet, upload a photo and see it READY,
switch to API v1 and see its bare list, sign out and be refused a write (401). Every wait is
bounded; the final page is saved to ``test-artifacts/web-client.png``.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from localcloud.child import DevChild
from localcloud.cognito_user import sign_in
from tests.web.conftest import ARTIFACTS

pytestmark = pytest.mark.slow

PASSWORD = "Web-passw0rd-" + uuid.uuid4().hex[:6]
PIPELINE_SECONDS = 45


def region(page: Page, name: str) -> Locator:
    return page.get_by_role("region", name=name, exact=True)


def pet_rows(page: Page) -> Locator:
    return region(page, "Pets").locator("tbody tr")


def save_pet_and_expect(page: Page, text: str | re.Pattern[str]) -> None:
    page.get_by_role("button", name="Save pet").click()
    expect(page.get_by_role("status")).to_contain_text(text)


def jpeg(path: Path) -> Path:
    image = io.BytesIO()
    Image.new("RGB", (800, 600), (40, 120, 200)).save(image, "JPEG", quality=80)
    path.write_bytes(image.getvalue())
    return path


def test_a_visit_through_every_feature(page: Page, web_cloud: DevChild, tmp_path: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: "Content Security Policy" in message.text and errors.append(message.text)
    )
    status = page.get_by_role("status")
    email = f"web-{uuid.uuid4().hex[:8]}@example.com"

    page.goto(f"{web_cloud.web_url}/")
    expect(status).to_have_text("Ready.")
    expect(page.locator("#session-state")).to_have_text("Not signed in")

    # ---- sign up, confirm, sign in
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(status).to_contain_text(f"Account created for {email}: confirm it")
    expect(page.get_by_label("Confirmation code")).to_be_hidden()  # locally: no email, no code
    page.get_by_role("button", name="Confirm account").click()
    expect(status).to_contain_text(f"Account {email} confirmed")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#session-state")).to_have_text(f"Signed in as {email}")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # ---- page through the seeded pets, two at a time
    pets = region(page, "Pets")
    expect(pet_rows(page)).to_have_count(4)
    pets.get_by_label("Pets per page").select_option("2")
    expect(pet_rows(page)).to_have_count(2)
    first_page = pet_rows(page).all_inner_texts()
    pets.get_by_role("button", name="Next page").click()
    expect(pet_rows(page).first).not_to_have_text(first_page[0])
    expect(pets.locator(".shape")).to_contain_text('"nextToken"')
    pets.get_by_label("Pets per page").select_option("25")
    expect(pet_rows(page)).to_have_count(4)

    # ---- create, edit; a stale edit is a 412, an invalid one a 400
    page.get_by_label("Pet name").fill("Biscuit")
    pets.get_by_label("Species").fill("dog")
    pets.get_by_label("Price (cents)").fill("12345")
    save_pet_and_expect(page, re.compile(r"Created pet Biscuit \(biscuit-\w+, version 1\)"))
    row = pet_rows(page).filter(has_text="Biscuit")
    expect(row).to_contain_text("123.45")
    pet_id = str(row.get_attribute("data-id"))

    page.get_by_role("button", name="Edit Biscuit").click()
    expect(pets.locator(".form-title")).to_have_text(f"Edit pet {pet_id} (version 1)")
    pets.get_by_label("Breed").fill("Beagle")
    save_pet_and_expect(page, f"Saved pet Biscuit ({pet_id}, version 2)")
    expect(row).to_contain_text("Beagle")

    page.get_by_role("button", name="Edit Biscuit").click()  # the form now holds version 2 ...
    change_elsewhere(web_cloud.config, email, pet_id)  # ... which someone else replaces
    pets.get_by_label("Price (cents)").fill("999")
    save_pet_and_expect(page, "412")
    expect(status).to_contain_text("Someone changed this item")
    pets.get_by_role("button", name="Cancel edit").click()

    page.get_by_label("Pet name").fill("Nobody")
    pets.get_by_label("Species").fill("dog")
    pets.get_by_label("Price (cents)").fill("-1")
    save_pet_and_expect(page, "priceCents")
    expect(status).to_contain_text("(400)")

    # ---- a food: create and delete
    foods = region(page, "Foods")
    page.get_by_label("Food name").fill("Carrot crunch")
    foods.get_by_label("For species").fill("rabbit")
    foods.get_by_label("Food price (cents)").fill("350")
    foods.get_by_role("button", name="Save food").click()
    expect(status).to_contain_text("Created food Carrot crunch")
    page.get_by_role("button", name="Delete Carrot crunch").click()
    expect(status).to_contain_text("Deleted food Carrot crunch")
    expect(foods.locator("tbody")).not_to_contain_text("Carrot crunch")

    # ---- comments on the pet's page
    page.get_by_role("button", name="Photos and comments for Biscuit").click()
    comments = region(page, f"Comments on {pet_id}")
    expect(comments).to_be_visible()
    page.get_by_label("Comment", exact=True).fill("Such a good dog!")
    page.get_by_role("button", name="Post comment").click()
    expect(status).to_contain_text(f"Comment posted on {pet_id}")
    expect(comments.locator(".comment").first).to_contain_text("Such a good dog!")

    # ---- a photo: presigned upload straight to S3, then the pipeline
    photos = region(page, "Photos of Biscuit")
    page.get_by_label("Photo file").set_input_files(str(jpeg(tmp_path / "biscuit.jpg")))
    page.get_by_role("button", name="Upload photo").click()
    expect(photos.locator('li[data-status="READY"]')).to_have_count(1, timeout=PIPELINE_SECONDS * 1000)
    expect(status).to_have_text("The photo is READY.")
    image = photos.get_by_role("img", name=re.compile("Photo of Biscuit"))
    expect(image).to_be_visible()
    wait_until(lambda: image.evaluate("img => img.complete && img.naturalWidth") == 256, "rendition loaded")

    # ---- API v1: the same pets as one bare array
    page.get_by_label("API version").select_option("v1")
    expect(pets.locator(".shape")).to_have_text("v1 answered a bare array of 5 pets (no pages).")
    expect(pet_rows(page)).to_have_count(5)
    expect(pets.get_by_role("button", name="Next page")).to_be_hidden()
    expect(page.locator("#api-target")).to_have_text(v1_target(web_cloud.config))

    # ---- signed out, a write is refused with the 401 message
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#session-state")).to_have_text("Not signed in")
    page.get_by_role("button", name="Edit Biscuit").click()
    save_pet_and_expect(page, "Not signed in, or the session has expired")
    expect(status).to_contain_text("401")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-client.png"), full_page=True)
    assert errors == []


def v1_target(config: dict[str, Any]) -> str:
    """Where the page sends v1 calls: the edge with an Accept header when there is one, else the v1 stage."""
    if config.get("edgeUrl"):
        return f"{config['edgeUrl']} (Accept: application/vnd.petstore.v1+json)"
    return str(config["apis"]["StoreApi/v1"])


def change_elsewhere(config: dict[str, Any], email: str, pet_id: str) -> None:
    """The same user, from another client, replaces the pet (version 2 -> 3)."""
    token = sign_in(config, email, PASSWORD)["AccessToken"]
    url = f"{config['apiUrl']}/pets/{pet_id}"
    current = requests.get(url, timeout=10).json()
    body = {key: current[key] for key in ("name", "species", "priceCents", "breed") if key in current}
    response = requests.put(
        url,
        json={**body, "ageMonths": 20},
        headers={"Authorization": f"Bearer {token}", "If-Match": str(current["version"])},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def wait_until(check: Any, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.1)


def test_confirmation_code_sign_in_errors_and_token_refresh(page: Page, web_cloud: DevChild) -> None:
    """The page as on AWS (config.json without ``localConfirmUrl``): a code field, ConfirmSignUp.

    moto's ConfirmSignUp accepts any code (it checks none), so this shows the page's call is
    right, not that Cognito would take this code. Then REFRESH_TOKEN_AUTH: a session about to
    expire is refreshed when the page loads, and the new token is accepted by the API.
    """
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("**/config.json", as_deployed)
    status = page.get_by_role("status")
    email = f"code-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(f"{web_cloud.web_url}/")
    expect(status).to_have_text("Ready.")

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(status).to_contain_text("confirm it")
    page.get_by_role("button", name="Sign in").click()  # not confirmed yet: Cognito says so
    expect(status).to_contain_text("not confirmed")
    page.get_by_label("Confirmation code").fill("123456")
    page.get_by_role("button", name="Confirm account").click()
    expect(status).to_contain_text(f"Account {email} confirmed")

    page.get_by_label("Password").fill("Wrong-passw0rd")
    page.get_by_role("button", name="Sign in").click()
    expect(status).to_contain_text("Incorrect username or password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#session-state")).to_have_text(f"Signed in as {email}")

    before = stored_session(page)
    page.evaluate(  # as if the hour had passed: the token expires within the refresh margin
        """() => {
            const session = JSON.parse(sessionStorage.getItem("petstore.session"));
            session.expiresAt = Date.now() + 1000;
            sessionStorage.setItem("petstore.session", JSON.stringify(session));
        }"""
    )
    page.reload()
    expect(page.locator("#session-state")).to_have_text(f"Signed in as {email}")
    expect(status).to_have_text("Ready.")
    after = stored_session(page)
    assert after["accessToken"] != before["accessToken"]
    assert after["refreshToken"] == before["refreshToken"]
    assert after["expiresAt"] > before["expiresAt"]

    page.get_by_label("Page ID").fill("refresh-check")
    page.get_by_role("button", name="Show comments").click()
    page.get_by_label("Comment", exact=True).fill("Posted with a refreshed token")
    page.get_by_role("button", name="Post comment").click()
    expect(status).to_have_text("Comment posted on refresh-check.")
    assert errors == []


def as_deployed(route: Any) -> None:
    """Serves the real config.json without the local-only confirm action, as a deployed stack does."""
    response = route.fetch()
    config = response.json()
    config.pop("localConfirmUrl", None)
    route.fulfill(response=response, json=config)


def stored_session(page: Page) -> dict[str, Any]:
    session = page.evaluate("() => JSON.parse(sessionStorage.getItem('petstore.session'))")
    assert isinstance(session, dict)
    return session


REQUIRED_LABELS = ["Email", "Password", "Pet name", "Comment", "API version", "Photo file"]
REQUIRED_BUTTONS = ["Sign up", "Sign in", "Sign out", "Save pet", "Post comment", "Upload photo"]


def test_every_control_is_named_and_versions_map_to_the_edge(page: Page, web_cloud: DevChild) -> None:
    """Also at http://localhost:<port>/ (config.json names 127.0.0.1): the API's CORS allows both."""
    page_url = web_cloud.web_url.replace("127.0.0.1", "localhost")
    page.goto(f"{page_url}/")
    expect(page.get_by_role("status")).to_have_text("Ready.")
    expect(pet_rows(page).filter(has_text="Labrador")).to_have_count(1)  # listed from the localhost origin
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea, button")]
            .filter((control) => !control.labels?.length && !control.getAttribute("aria-label")
                && !(control.tagName === "BUTTON" && control.textContent.trim()))
            .map((control) => control.outerHTML)"""
    )
    assert unnamed == []
    for label in REQUIRED_LABELS:
        expect(page.get_by_label(label, exact=True)).to_have_count(1)
    for name in REQUIRED_BUTTONS:  # some are hidden until they apply (signed in, a pet chosen)
        expect(page.get_by_role("button", name=name, exact=True, include_hidden=True)).to_have_count(1)
    assert page.get_by_role("status").get_attribute("aria-live") == "polite"

    targets = page.evaluate(
        """async () => {
            const { versionTarget } = await import("./api.js");
            const local = { apiUrl: "http://api", apis: { StoreApi: "http://api", "StoreApi/v1": "http://api/v1" } };
            const edge = { ...local, edgeUrl: "https://edge.example" };
            return [versionTarget(local, "v1"), versionTarget(local, "v2"),
                    versionTarget(edge, "v1"), versionTarget(edge, "v2")];
        }"""
    )
    assert targets == [
        {"baseUrl": "http://api/v1", "accept": "application/json"},
        {"baseUrl": "http://api", "accept": "application/json"},
        {"baseUrl": "https://edge.example", "accept": "application/vnd.petstore.v1+json"},
        {"baseUrl": "https://edge.example", "accept": "application/vnd.petstore.v2+json"},
    ]

    # the local confirm action is called on the page's own origin, even when that is localhost
    confirm_url = page.evaluate(
        """async (email) => {
            const { Auth } = await import("./auth.js");
            const auth = new Auth(await (await fetch("config.json")).json());
            await auth.signUp(email, "Web-passw0rd-x1");
            await auth.confirmLocally(email);
            return auth.localConfirmUrl;
        }""",
        f"localhost-{uuid.uuid4().hex[:8]}@example.com",
    )
    assert confirm_url == f"{page_url}/local/confirm-sign-up"
