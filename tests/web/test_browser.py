"""The web client in a real browser (Debian's Chromium driven by Playwright), against ``make dev``.

Two visits, each at desktop (1280x800) and phone (390x844) width, through the page only:

- a customer browses the shop (cards with the READY thumbnail and the price, "Load more"), opens
  a pet's page (its photo and comments; "Sign in to comment"), is refused a wrong password beside
  the sign-in form, signs up, confirms (which signs them in), names themselves (a refused name is
  marked first), comments, deletes their comment through the confirmation dialog, sees no staff
  control anywhere, and signs out (the refresh token is revoked);
- staff create a pet with a decimal price, see the browser's and the API's errors beside the
  fields, are refused an id that exists, edit through a 412 that mends itself and a 428 that asks
  for the version, upload a photo that becomes READY, moderate a comment and the photo, and delete
  the pet and a food through the dialog.

Every screen goes through ``check_screen`` (screenshot, no sideways scrolling, axe); every wait is
bounded. One stack for all (``web_cloud``), its demo users and a few pets made through the API.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image, ImageDraw
from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Route, expect

from localcloud.child import DevChild
from localcloud.cognito_user import DEMO_CUSTOMER
from localcloud.webpage import content_security_policy
from tests import stack_client
from tests.web.conftest import check_screen

pytestmark = pytest.mark.slow

PIPELINE_SECONDS = 45
SHOP_PAGE_SIZE = 8  # web/shop.js
TIMEOUT = 15


# ---------------------------------------------------------------------- the stack's data
def api_url(config: dict[str, Any]) -> str:
    return str(config["apiUrl"])


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['AccessToken']}"}


def png(width: int = 640, height: int = 480) -> bytes:
    """A small picture: a sun over a hill, in a PNG."""
    picture = Image.new("RGB", (width, height), (120, 180, 230))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((width * 0.6, height * 0.1, width * 0.85, height * 0.43), fill=(250, 200, 60))
    draw.ellipse((-width * 0.3, height * 0.6, width * 1.3, height * 1.6), fill=(90, 160, 80))
    data = io.BytesIO()
    picture.save(data, "PNG")
    return data.getvalue()


def upload_photo(config: dict[str, Any], staff: dict[str, Any], pet_id: str) -> str:
    """A photo uploaded as the page does (presigned form), waited for until READY."""
    api = api_url(config)
    ticket = requests.post(
        f"{api}/pets/{pet_id}/photos",
        json={"contentType": "image/png"},
        headers=bearer(staff),
        timeout=TIMEOUT,
    )
    ticket.raise_for_status()
    upload = ticket.json()["upload"]
    sent = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("p.png", png(), "image/png")}, timeout=TIMEOUT
    )
    assert sent.status_code in (200, 201, 204), sent.text
    photo_id = str(ticket.json()["photoId"])
    deadline = time.monotonic() + PIPELINE_SECONDS
    while time.monotonic() < deadline:
        photos = requests.get(f"{api}/pets/{pet_id}/photos", timeout=TIMEOUT).json()["items"]
        if any(p["photoId"] == photo_id and p["status"] == "READY" for p in photos):
            return photo_id
        time.sleep(0.3)
    raise AssertionError(f"photo {photo_id} of {pet_id} not READY in {PIPELINE_SECONDS} s")


@pytest.fixture(scope="session")
def staff(web_cloud: DevChild) -> dict[str, Any]:
    """A new staff member with a display name (so their sign-in goes straight on)."""
    tokens = stack_client.new_staff_tokens(web_cloud.config, "web-staff")
    response = requests.put(
        f"{api_url(web_cloud.config)}/me",
        json={"displayName": "Sam Staff"},
        headers=bearer(tokens),
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return tokens


@pytest.fixture(scope="session")
def shop(web_cloud: DevChild, staff: dict[str, Any]) -> dict[str, Any]:
    """More pets than one shop page holds, the first with a READY photo."""
    api = api_url(web_cloud.config)
    pets = [stack_client.new_pet(api, {**bearer(staff)}, "web-pet") for _ in range(SHOP_PAGE_SIZE)]
    photo_pet = pets[0]
    upload_photo(web_cloud.config, staff, photo_pet)
    return {"pets": pets, "photo_pet": photo_pet}


# ---------------------------------------------------------------------- page helpers
@pytest.fixture
def watched(page: Page) -> Iterator[list[str]]:
    """The page's script errors and Content-Security-Policy violations: none by the end."""
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", console)
    yield problems
    assert problems == []


def open_page(page: Page, web_cloud: DevChild, fragment: str = "#/") -> None:
    page.goto(f"{web_cloud.web_url}/{fragment}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def form_error(form: Locator) -> Locator:
    return form.locator("[data-error]")


def form_ok(form: Locator) -> Locator:
    return form.locator("[data-ok]")


def expect_marked(field: Locator, words: str | re.Pattern[str]) -> None:
    """The field is marked invalid and described by its message (aria-describedby)."""
    expect(field).to_have_attribute("aria-invalid", "true")
    described = str(field.get_attribute("aria-describedby")).split()
    message = field.page.locator(f"#{described[0]}")
    expect(message).to_be_visible()
    expect(message).to_have_text(words)


def confirm_dialog(page: Page, title: str | re.Pattern[str], button: str = "Delete") -> None:
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(title)
    dialog.get_by_role("button", name=button, exact=True).click()
    expect(dialog).to_be_hidden()


def staff_controls(page: Page) -> list[str]:
    """Every visible control that only staff can use."""
    return page.evaluate(
        """() => [...document.querySelectorAll("button, a, input")]
            .filter((control) => control.checkVisibility())
            .map((control) => control.getAttribute("aria-label") || control.textContent.trim())
            .filter((name) => /^(Console|Edit|Delete (?!the comment by)|Upload photo|Save pet|Save food)/.test(name))"""
    )


# ---------------------------------------------------------------------- a customer
def test_a_customer_browses_signs_up_names_themselves_and_comments(
    page: Page, width: str, web_cloud: DevChild, shop: dict[str, Any], watched: list[str]
) -> None:
    revocations: list[Request] = []

    def revoking(request: Request) -> None:
        if (request.headers.get("x-amz-target") or "").endswith(".RevokeToken"):
            revocations.append(request)

    page.on("request", revoking)
    open_page(page, web_cloud)
    assert page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute(
        "content"
    ) == content_security_policy(web_cloud.config)

    # ---- the shop: cards with price and the READY thumbnail; "Load more"
    cards = page.get_by_role("list", name="Pets").locator(":scope > li")
    expect(cards).to_have_count(SHOP_PAGE_SIZE)
    more = page.get_by_role("button", name="Load more pets")
    for _ in range(10):  # every page (the pets made for this run are more than one page)
        if not more.is_visible():
            break
        more.click()
        expect(page.locator("#pets-more")).not_to_have_class(re.compile("busy"))
    assert cards.count() > SHOP_PAGE_SIZE
    card = page.locator(f'li[data-id="{shop["photo_pet"]}"]')
    expect(card).to_contain_text("$450.00")
    thumbnail = card.get_by_role("img", name="Photo of Rex")
    expect(thumbnail).to_be_visible()
    wait_until(lambda: thumbnail.evaluate("img => img.complete && img.naturalWidth") == 256, "the thumbnail")
    rex = page.locator('li[data-id="rex"]')
    expect(rex).to_contain_text("$450.00")
    expect(page.get_by_role("list", name="Food")).to_contain_text("$12.99")
    assert staff_controls(page) == []
    check_screen(page, "shop", width)

    # ---- a pet's page: its photo, its comments, "Sign in to comment"
    card.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rex")
    expect(page.locator("#pet-price")).to_have_text("$450.00")
    photo = page.get_by_role("list", name="Photos").get_by_role("img", name="Photo of Rex")
    expect(photo).to_be_visible()
    expect(page.get_by_role("link", name="Sign in to comment")).to_be_visible()
    expect(page.locator("#comment-form")).to_be_hidden()
    expect(page.locator("#comment-list > li").first).to_be_visible()  # the comments are listed
    assert staff_controls(page) == []
    check_screen(page, "pet-page", width)

    # ---- sign in: a wrong password is refused beside the form, the field marked
    page.get_by_role("link", name="Sign in to comment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_screen(page, "sign-in", width)
    sign_in = page.locator("#sign-in-form")
    sign_in.get_by_label("Email").fill(DEMO_CUSTOMER.email)
    sign_in.get_by_label("Password").fill("Wrong-passw0rd")
    sign_in.get_by_role("button", name="Sign in").click()
    expect(form_error(sign_in)).to_have_text("Incorrect email or password.")
    expect(form_error(sign_in)).to_have_attribute("role", "alert")
    expect_marked(sign_in.get_by_label("Password"), "Incorrect email or password.")

    # ---- sign up: the browser refuses a weak password first; confirming signs the user in
    email = f"{stack_client.unique('web-customer')}@example.com"
    sign_up = page.locator("#sign-up-form")
    sign_up.get_by_label("Email for the new account").fill(email)
    sign_up.get_by_label("New password").fill("weak")
    sign_up.get_by_role("button", name="Create account").click()
    expect_marked(sign_up.get_by_label("New password"), re.compile("at least 8 characters"))
    check_screen(page, "sign-in-errors", width)
    sign_up.get_by_label("New password").fill(stack_client.PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    expect(form_ok(sign_up)).to_contain_text(f"Account created for {email}")
    confirm = page.locator("#confirm-form")
    expect(confirm.get_by_label("Confirmation code")).to_be_hidden()  # locally: no email, no code
    confirm.get_by_role("button", name="Confirm account").click()

    # ---- the first sign-in asks for a display name; a blank one is marked
    expect(page.get_by_role("heading", level=1)).to_have_text("Your name in the shop")
    profile = page.locator("#profile-form")
    name = profile.get_by_label("Display name")
    name.fill("   ")  # the browser takes it (not empty); the API trims it and says which field
    profile.get_by_role("button", name="Save name").click()
    expect_marked(name, "Enter a name of 1 to 40 characters, on one line.")
    expect(form_error(profile)).to_have_text("Check the marked field.")
    check_screen(page, "profile", width)
    name.fill("Casey Web")
    expect(name).not_to_have_attribute("aria-invalid", "true")
    profile.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rex")  # back where they were
    expect(page.locator("#session-name")).to_have_text("Signed in as Casey Web")

    # ---- comment (an empty one is marked by the browser first), then delete it
    comment_form = page.locator("#comment-form")
    comment_form.get_by_role("button", name="Post comment").click()
    expect(comment_form.get_by_label("Your comment")).to_have_attribute("aria-invalid", "true")
    message = f"Such a good dog! {uuid.uuid4().hex[:6]}"
    comment_form.get_by_label("Your comment").fill(message)
    post = comment_form.get_by_role("button", name="Post comment")
    assert post.evaluate("button => { button.click(); button.click(); return button.disabled; }")  # busy
    expect(form_ok(comment_form)).to_have_text("Your comment is posted.")
    comment = page.locator(".comment", has_text=message)
    expect(comment).to_have_count(1)  # the second press did nothing
    expect(comment).to_contain_text("Casey Web")
    assert staff_controls(page) == []
    check_screen(page, "pet-page-signed-in", width)
    comment.get_by_role("button", name="Delete the comment by Casey Web").click()
    confirm_dialog(page, "Delete your comment?")
    expect(comment).to_have_count(0)
    expect(form_ok(comment_form)).to_have_text("Comment deleted.")

    # ---- no console for customers; signing out revokes the refresh token
    open_page(page, web_cloud, "#/console")
    expect(page.locator("#console-denied")).to_be_visible()
    expect(page.locator("#console-panels")).to_be_hidden()
    assert staff_controls(page) == []
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    expect(page.locator("#page-status")).to_contain_text("Signed out")
    wait_until(lambda: len(revocations) == 1, "RevokeToken")
    revoked = revocations[0].post_data_json
    assert isinstance(revoked, dict)
    assert revoked["ClientId"] == web_cloud.config["cognito"]["userPoolClientId"]


# ---------------------------------------------------------------------- staff
def sign_in_as(page: Page, email: str) -> None:
    form = page.locator("#sign-in-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(stack_client.PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    expect(page.locator("#session-name")).to_contain_text("Signed in as")


def change_elsewhere(config: dict[str, Any], staff: dict[str, Any], path: str, **changes: Any) -> int:
    """Another staff client replaces the item (its version goes up); returns the new version."""
    url = f"{api_url(config)}{path}"
    current = requests.get(url, timeout=TIMEOUT).json()
    body = {
        key: value for key, value in current.items() if key not in ("id", "version", "createdAt", "updatedAt")
    }
    response = requests.put(
        url,
        json={**body, **changes},
        headers={**bearer(staff), "If-Match": str(current["version"])},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


def test_staff_keep_the_catalogue_with_feedback_beside_each_form(
    page: Page, width: str, web_cloud: DevChild, staff: dict[str, Any], tmp_path: Path, watched: list[str]
) -> None:
    config = web_cloud.config
    open_page(page, web_cloud, "#/account")
    sign_in_as(page, staff["email"])
    expect(page.locator("#session-name")).to_have_text("Signed in as Sam Staff")
    page.get_by_role("link", name="Console").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Console")
    pets = page.locator("#console-pets")
    form = page.locator("#pet-form")
    expect(pets.locator("tbody tr[data-id='rex']")).to_have_count(1)
    check_screen(page, "console", width)

    # ---- the browser marks what it can check first: a missing name
    form.get_by_role("button", name="Save pet").click()
    expect_marked(form.get_by_label("Name"), "Enter a name of up to 100 characters.")

    # ---- create with a decimal price (sent as integer cents)
    name = f"Biscuit {uuid.uuid4().hex[:4]}"
    form.get_by_label("Name").fill(name)
    form.get_by_label("Species").fill("dog")
    form.get_by_label("Price (USD)").fill("12.50")
    form.get_by_role("button", name="Save pet").click()
    expect(form_ok(form)).to_have_text(re.compile(rf"Created {name} \(biscuit-[\w-]+\)\."))
    row = pets.locator("tbody tr", has_text=name)
    expect(row).to_contain_text("$12.50")
    pet_id = str(row.get_attribute("data-id"))
    assert requests.get(f"{api_url(config)}/pets/{pet_id}", timeout=TIMEOUT).json()["priceCents"] == 1250

    # ---- the API's own errors, mapped to the fields (the browser's checks turned off)
    form.evaluate("form => { form.noValidate = true; }")
    form.get_by_label("Name").fill("Nobody")
    form.get_by_label("Species").fill("dog")
    form.get_by_label("Price (USD)").fill("-1")
    form.get_by_label("Age in months (optional)").fill("700")
    form.get_by_role("button", name="Save pet").click()
    expect(form_error(form)).to_have_text("Check the 2 marked fields.")
    expect_marked(form.get_by_label("Price (USD)"), "Enter a price, like 12.50.")
    expect_marked(
        form.get_by_label("Age in months (optional)"), "Enter the age in whole months, from 0 to 600."
    )
    check_screen(page, "console-errors", width)

    # ---- an id that exists is refused (If-None-Match: *), not overwritten
    form.get_by_label("Price (USD)").fill("3")
    form.get_by_label("Age in months (optional)").fill("")
    form.get_by_label("Pet ID (optional)").fill(pet_id)
    form.get_by_role("button", name="Save pet").click()
    expect(form_error(form)).to_have_text("That ID is taken.")
    expect_marked(form.get_by_label("Pet ID (optional)"), re.compile(f"There is already a pet “{pet_id}”"))
    form.evaluate("form => { form.noValidate = false; form.reset(); }")

    # ---- edit through a 412 that mends itself: someone changes the age meanwhile
    pets.get_by_role("button", name=f"Edit {name}").click()
    expect(form.locator(".form-title")).to_have_text(f"Edit {name} (version 1)")
    change_elsewhere(config, staff, f"/pets/{pet_id}", ageMonths=20)
    form.get_by_label("Price (USD)").fill("9.99")
    form.get_by_role("button", name="Save pet").click()
    expect(form_error(form)).to_contain_text(
        f"Someone else saved {name} while you were editing (now version 2)"
    )
    expect(form_error(form)).to_contain_text("Age in months (optional): (empty) → 20")
    expect(form.get_by_label("Price (USD)")).to_have_value("9.99")  # the user's edit is kept
    expect(form.get_by_label("Age in months (optional)")).to_have_value("20")  # theirs taken in
    expect(form.locator(".form-title")).to_have_text(f"Edit {name} (version 2)")
    form.get_by_role("button", name="Save pet").click()
    expect(form_ok(form)).to_have_text(f"Saved {name}: version 3.")
    stored = requests.get(f"{api_url(config)}/pets/{pet_id}", timeout=TIMEOUT).json()
    assert (stored["priceCents"], stored["ageMonths"], stored["version"]) == (999, 20, 3)

    # ---- a 428 (no If-Match reached the API) fetches the version and asks to confirm
    def without_if_match(route: Route) -> None:
        headers = {k: v for k, v in route.request.headers.items() if k.lower() != "if-match"}
        route.continue_(headers=headers)

    pets.get_by_role("button", name=f"Edit {name}").click()
    form.get_by_label("Breed (optional)").fill("Beagle")
    page.route(f"**/pets/{pet_id}", without_if_match)
    form.get_by_role("button", name="Save pet").click()
    expect(form_error(form)).to_contain_text("confirm its version: it is at version 3. Save again")
    page.unroute(f"**/pets/{pet_id}")
    form.get_by_role("button", name="Save pet").click()
    expect(form_ok(form)).to_have_text(f"Saved {name}: version 4.")

    # ---- a food: create, then delete from the table through the dialog
    foods = page.locator("#console-foods")
    food_form = page.locator("#food-form")
    food = f"Carrot crunch {uuid.uuid4().hex[:4]}"
    food_form.get_by_label("Food name").fill(food)
    food_form.get_by_label("For species").fill("rabbit")
    food_form.get_by_label("Food price (USD)").fill("3.5")
    food_form.get_by_role("button", name="Save food").click()
    expect(form_ok(food_form)).to_contain_text(f"Created {food}")
    expect(foods.locator("tbody tr", has_text=food)).to_contain_text("$3.50")
    foods.get_by_role("button", name=f"Delete {food}").click()
    confirm_dialog(page, f"Delete {food}?")
    expect(foods.locator("tbody tr", has_text=food)).to_have_count(0)
    expect(foods.locator("[data-list-status]")).to_have_text(f"Deleted {food}.")

    # ---- the pet's page: upload a photo that becomes READY
    customer = stack_client.new_user_tokens(config, "web-commenter")
    requests.post(
        f"{api_url(config)}/comments",
        json={"pageId": pet_id, "message": "Is he house-trained?"},
        headers=bearer(customer),
        timeout=TIMEOUT,
    ).raise_for_status()
    pets.get_by_role("link", name=f"Photos and comments of {name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    photo_form = page.locator("#photo-form")
    photo_form.get_by_role("button", name="Upload photo").click()  # no file: the browser says so
    expect_marked(photo_form.get_by_label("Photo file"), "Choose a JPEG, PNG or WebP image.")
    file = tmp_path / "biscuit.png"
    file.write_bytes(png())
    photo_form.get_by_label("Photo file").set_input_files(str(file))
    photo_form.get_by_role("button", name="Upload photo").click()
    expect(form_ok(photo_form)).to_have_text(
        "The photo is READY and in the shop.", timeout=PIPELINE_SECONDS * 1000
    )
    gallery_photo = page.get_by_role("list", name="Photos").get_by_role("img", name=f"Photo of {name}")
    expect(gallery_photo).to_be_visible()
    expect(page.locator('#photo-admin-list li[data-status="READY"]')).to_have_count(1)
    check_screen(page, "pet-page-staff", width)

    # ---- moderation: a customer's comment, then the photo, each through the dialog
    page.get_by_role("button", name="Delete the comment by Customer").click()
    confirm_dialog(page, "Delete Customer\u2019s comment?")
    expect(page.locator(".comment", has_text="house-trained")).to_have_count(0)
    page.get_by_role("button", name=re.compile("^Delete photo uploaded")).click()
    check_screen(page, "dialog", width)
    confirm_dialog(page, "Delete this photo?")
    expect(form_ok(photo_form)).to_have_text("Photo deleted.")
    expect(page.locator("#photo-admin-list")).to_have_text("No photos uploaded.")

    # ---- delete the pet: the dialog, then its page closes
    page.get_by_role("button", name=f"Delete {name}").click()
    confirm_dialog(page, f"Delete {name}?")
    expect(page.get_by_role("heading", level=1)).to_have_text("Shop")
    expect(page.locator("#page-status")).to_have_text(f"Deleted {name}.")
    assert requests.get(f"{api_url(config)}/pets/{pet_id}", timeout=TIMEOUT).status_code == 404


def wait_until(check: Any, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.1)


# ---------------------------------------------------------------------- as deployed
def test_confirmation_code_sign_in_and_token_refresh(
    page: Page, web_cloud: DevChild, watched: list[str]
) -> None:
    """The page as on AWS (config.json without ``localConfirmUrl``): a code field, ConfirmSignUp.

    moto's ConfirmSignUp accepts any code (it checks none), so this shows the page's call is
    right, not that Cognito would take this code. Then REFRESH_TOKEN_AUTH: a session about to
    expire is refreshed when the page loads, and the new token is accepted by the API.
    """
    page.route("**/config.json", as_deployed)
    email = f"{stack_client.unique('web-code')}@example.com"
    open_page(page, web_cloud, "#/account")
    sign_up = page.locator("#sign-up-form")
    sign_up.get_by_label("Email for the new account").fill(email)
    sign_up.get_by_label("New password").fill(stack_client.PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    confirm = page.locator("#confirm-form")
    expect(confirm.get_by_label("Confirmation code")).to_be_visible()
    confirm.get_by_role("button", name="Confirm account").click()  # the browser wants the code first
    expect(confirm.get_by_label("Confirmation code")).to_have_attribute("aria-invalid", "true")
    confirm.get_by_label("Confirmation code").fill("123456")
    confirm.get_by_role("button", name="Confirm account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your name in the shop")  # signed in
    expect(page.locator("#session-name")).to_have_text(f"Signed in as {email}")

    before = stored_session(page)
    page.evaluate(  # as if the hour had passed: the token expires within the refresh margin
        """() => {
            const session = JSON.parse(sessionStorage.getItem("petstore.session"));
            session.expiresAt = Date.now() + 1000;
            sessionStorage.setItem("petstore.session", JSON.stringify(session));
        }"""
    )
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    after = stored_session(page)
    assert after["accessToken"] != before["accessToken"]
    assert after["refreshToken"] == before["refreshToken"]
    assert after["expiresAt"] > before["expiresAt"]
    profile = page.locator("#profile-form")
    profile.get_by_label("Display name").fill("Refreshed Reader")
    profile.get_by_role("button", name="Save name").click()
    expect(form_ok(profile)).to_contain_text("Refreshed Reader")  # the refreshed token was accepted


def as_deployed(route: Route) -> None:
    """Serves the real config.json without the local-only confirm action, as a deployed stack does."""
    response = route.fetch()
    config = response.json()
    config.pop("localConfirmUrl", None)
    route.fulfill(response=response, json=config)


def stored_session(page: Page) -> dict[str, Any]:
    session = page.evaluate("() => JSON.parse(sessionStorage.getItem('petstore.session'))")
    assert isinstance(session, dict)
    return session


# ---------------------------------------------------------------------- every control, the API panel
def test_every_control_is_named_and_the_api_panel_switches_versions(
    page: Page, web_cloud: DevChild, shop: dict[str, Any], watched: list[str]
) -> None:
    """Also at http://localhost:<port>/ (config.json names 127.0.0.1): the API's CORS allows both."""
    page.goto(f"{web_cloud.web_url.replace('127.0.0.1', 'localhost')}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator('li[data-id="rex"]')).to_have_count(1)  # listed from the localhost origin
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea, button")]
            .filter((control) => !control.labels?.length && !control.getAttribute("aria-label")
                && !(control.tagName === "BUTTON" && control.textContent.trim()))
            .map((control) => control.outerHTML)"""
    )
    assert unnamed == []
    link = page.locator('link[rel="icon"]')
    assert link.get_attribute("href") == "favicon.svg"
    icon = requests.get(f"{web_cloud.web_url}/favicon.svg", timeout=TIMEOUT)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")

    # the developers' API panel: v1 answers one bare array, so there is nothing more to load
    page.get_by_text("API", exact=True).click()
    page.get_by_label("API version").select_option("v1")
    expect(page.locator("#api-target")).to_have_text(v1_target(web_cloud.config))
    expect(page.get_by_role("button", name="Load more pets")).to_be_hidden()
    cards = page.get_by_role("list", name="Pets").locator(":scope > li")
    wait_until(lambda: cards.count() > SHOP_PAGE_SIZE, "every pet at once from v1")

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
    prices = page.evaluate(
        """async () => {
            const { centsFrom, formatPrice } = await import("./ui.js");
            return [centsFrom("12.5"), centsFrom("0.1"), centsFrom("19.99"), centsFrom("abc"), formatPrice(123456)];
        }"""
    )
    assert prices == [1250, 10, 1999, None, "$1,234.56"]
    # the id patterns compile in the browser (HTML patterns use the v flag) and refuse what the API would
    mismatches = page.evaluate(
        """() => ["bad id", "-x", "ok_id-1"].map((value) => {
            const input = document.getElementById("pet-id");
            input.value = value;
            return input.validity.patternMismatch;
        })"""
    )
    assert mismatches == [True, True, False]


def v1_target(config: dict[str, Any]) -> str:
    """Where the page sends v1 calls: the edge with an Accept header when there is one, else the v1 stage."""
    if config.get("edgeUrl"):
        return f"{config['edgeUrl']} (Accept: application/vnd.petstore.v1+json)"
    return str(config["apis"]["StoreApi/v1"])
