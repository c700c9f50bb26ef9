"""Fixtures of the web client's tests: the local cloud serving ``web/``, and Debian's Chromium.

The page and the API are on different origins (two ports), so the API's CORS must allow the
page's exact origin, as it must on AWS. The local cloud allows its own web client's origin, on
whatever port it runs (as the deployed API and buckets allow the web distribution's), so the stack
starts on free ports with nothing relaxed.

Chromium is Debian's (``make browser`` installs it); Playwright drives it, no browser download.
Pages are opened at the two widths the client is made for (:data:`VIEWPORTS`: desktop 1280x800,
phone 390x844). :func:`check_screen` is what every screen goes through: a full-page screenshot in
``test-artifacts/<screen>-<width>.png``, no horizontal scrolling, and axe-core (through
axe-playwright-python) finding no serious or critical violation. A test that fails leaves a
full-page screenshot in ``test-artifacts/`` too.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ViewportSize

from localcloud.child import DevChild, stop_dev
from tests.support import E2E_CONFIG_URL, start_dev
from tests.support import ROOT as REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
_REPORT = pytest.StashKey[pytest.TestReport]()
#: the widths the client is made for: a desktop and a phone (an iPhone 12-15's CSS pixels)
VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}
#: axe-core impacts that fail a test
BLOCKING_IMPACTS = {"serious", "critical"}
WAIT_MS = 10_000


@pytest.fixture(scope="session")
def web_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChild]:
    """``python -m localcloud dev --seed`` whose API allows the page's origin (see the module doc)."""
    if E2E_CONFIG_URL:
        pytest.skip("the browser tests run against the local cloud only (E2E_CONFIG_URL is set)")
    dev = start_dev(tmp_path_factory.mktemp("web-dev"), "--seed")
    try:
        yield dev
    finally:
        stop_dev(dev.process)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_REPORT] = report
    return report


@pytest.fixture(params=list(VIEWPORTS))
def width(request: pytest.FixtureRequest) -> str:
    """Runs a test at each width of :data:`VIEWPORTS` ("desktop", "phone")."""
    return str(request.param)


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh page (its own context: no storage shared between tests) at the test's ``width``
    (desktop when the test has none); screenshot on failure."""
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    size = (
        request.node.callspec.params.get("width", "desktop")
        if hasattr(request.node, "callspec")
        else "desktop"
    )
    context = browser.new_context(viewport=VIEWPORTS[size], locale="en-US")
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        report = request.node.stash.get(_REPORT, None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            path = ARTIFACTS / f"{request.node.name}-failure.png"
            try:
                page.screenshot(path=str(path), full_page=True, timeout=10_000)
                print(f"screenshot of the failure: {path}")
            except Exception as error:  # the page may be gone; the failure itself matters more
                print(f"no screenshot of the failure: {error}")
        context.close()


def check_screen(page: Any, screen: str, width: str) -> None:
    """One screen as people get it: screenshot, no sideways scrolling, no serious axe violation."""
    from axe_playwright_python.sync_playwright import Axe

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{screen}-{width}.png"), full_page=True)
    viewport = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width == viewport, (
        f"{screen} at {width}: {scroll_width} px wide in a {viewport} px viewport"
    )
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    blocking = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} -- "
        + "; ".join(node["html"][:160] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
    assert blocking == [], f"axe on {screen} at {width}:\n" + "\n".join(blocking)
