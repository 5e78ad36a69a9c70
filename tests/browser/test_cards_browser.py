"""The Integrated Card in a real browser: the employer files an extension, agency staff approve
it, the holder downloads the PDF, and the QR text verifies on the public page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache

from expatsi.access import crypto
from expatsi.cards import keys
from expatsi.cards.models import CardApplication
from tests.browser.conftest import login, shot
from tests.cards.helpers import active_card, today
from tests.portal.factories import (
    PASSWORD,
    make_agency,
    make_employee,
    make_employer,
    make_hire,
    make_hr,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def card_keys(tmp_path, settings) -> Iterator[None]:
    settings.EXPATSI_KEY_DIR = tmp_path / "keys"
    keys.reset_caches()
    keys.keys_init()
    crypto.keys_init()  # as `expatsi card keys init` does: the data keys beside the card keys
    cache.clear()
    yield
    keys.reset_caches()


def _page(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, base, username, PASSWORD)
    return page


def test_extension_approval_pdf_and_public_verification(browser, live_server, tmp_path) -> None:
    employer = make_employer()
    hr_user = make_hr(employer, "hr")
    make_agency("officer")
    # the card the hire rests on ends in 20 days: inside the 30-day extension window
    registration = make_hire(employer, hr_user, 1, permit_valid_to=today() + timedelta(days=20))
    make_employee(registration, "holder")
    card = active_card(employer, registration.person)
    base = live_server.url

    # the employer's HR files an extension, with an error shown next to the field first
    hr = _page(browser, base, "hr")
    hr.goto(f"{base}/cards/{card.pk}/")
    hr.get_by_role("link", name="Apply for an extension").click()
    hr.wait_for_selector("#id_new_valid_to")
    hr.locator("#filing-form button[type=submit]").click()
    hr.wait_for_selector("#id_new_valid_to_error")
    assert hr.get_attribute("#id_new_valid_to", "aria-invalid") == "true"
    new_valid_to = card.valid_to + timedelta(days=365)
    hr.fill("#id_new_valid_to", new_valid_to.isoformat())
    hr.locator("#filing-form button[type=submit]").click()
    hr.wait_for_selector("#open-application")
    shot(hr, "card-extension-filed")
    app = CardApplication.objects.get(card=card, kind="extension", status="submitted")
    hr.context.close()

    # agency staff approve it from the queue
    officer = _page(browser, base, "officer")
    officer.goto(f"{base}/cards/queue/")
    row = officer.locator(f"#application-{app.pk}")
    shot(officer, "card-queue")
    row.get_by_role("button", name="Approve").click()
    officer.wait_for_selector(".notice-success")
    assert officer.locator(f"#application-{app.pk}").count() == 0
    officer.context.close()

    # the holder sees the new validity, downloads the PDF and copies the code's text
    holder = _page(browser, base, "holder")
    holder.goto(f"{base}/cards/{card.pk}/")
    assert str(new_valid_to.year) in holder.inner_text("#valid-to")
    shot(holder, "card-holder")
    with holder.expect_download() as info:
        holder.click("#pdf-link")
    pdf_path = tmp_path / "card.pdf"
    info.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    text = (holder.text_content("#qr-text") or "").strip()
    assert text.startswith("EXP1:")
    holder.context.close()

    # anyone verifies it on the public page
    public = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    public.goto(f"{base}/cards/verify/")
    public.fill("#id_text", text)
    public.get_by_role("button", name="Check the code").click()
    public.wait_for_selector("#verify-answer")
    assert public.get_attribute("#verify-answer", "data-result") == "valid"
    assert card.permit_number in public.inner_text("#verify-answer")
    shot(public, "card-verify-valid")
    # and the superseded code is revoked
    old = card.tokens.filter(revoked_at__isnull=False).get().text
    public.fill("#id_text", old)
    public.get_by_role("button", name="Check the code").click()
    public.wait_for_selector('#verify-answer[data-result="revoked"]')
    shot(public, "card-verify-revoked")
    public.context.close()
