"""Playwright driving Debian's Chromium (never a downloaded browser) against pytest-django's live_server.

Without /usr/bin/chromium these tests skip loudly; with EXPATSI_REQUIRE_BROWSER=1 (CI) they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("EXPATSI_CHROMIUM", "/usr/bin/chromium"))
SHOTS = Path(os.environ.get("EXPATSI_SCREENSHOTS", "/tmp/shots"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
# synchronous code, so Django's async-safety guard is told so.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def live_server(django_db_setup: None, live_server: Any) -> Any:
    """pytest-django's live server, started only once the test database exists.

    Started earlier, it sees the on-disk database name, shares no connection with the tests, and
    each of its request threads opens its own connection to the in-memory test database that
    Django never closes (closing would destroy that database): Python's ResourceWarning for each
    one then fails a test at random (warnings are errors).
    """
    return live_server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"!!!! browser tests SKIPPED: {CHROMIUM} not found (apt-get install chromium)"
        if os.environ.get("EXPATSI_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " and EXPATSI_REQUIRE_BROWSER=1", pytrace=False)
        print("\n" + message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def csp_violations(page: Any) -> list[str]:
    """Chromium reports everything the Content-Security-Policy blocked on the console: collect it."""
    found: list[str] = []
    page.on(
        "console",
        lambda m: found.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return found


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    violations = csp_violations(pg)
    yield pg
    context.close()
    assert violations == [], "the page broke the Content-Security-Policy"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page: Any, base: str, username: str, password: str) -> None:
    """Sign in; where the second step follows (agency staff), type the authenticator's current code
    (computed from the device's key, tests.twofactor)."""
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    # Wait for the answer to the POST itself: wait_for_load_state() alone can return on the
    # login page before the submission navigates, and the caller's next goto() then cancels the
    # sign-in (seen on a loaded machine: the next page was the login page again).
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    if "/login/verify/" in page.url:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from tests.twofactor import current_code

        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.fill("#id_code", current_code(device))
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert "/login/verify/" not in page.url, "the second step refused the code"
