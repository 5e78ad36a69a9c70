"""Two-step sign-in in a real browser under the Content-Security-Policy: a new agency officer is
sent to set up an authenticator (the QR code is an image the policy allows), confirms it with a
code, sees the recovery codes once, and next time types the code after the password."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from expatsi.access.models import AgencyStaff
from expatsi.access.twofactor import key_from_base32
from tests.browser.conftest import login, shot
from tests.portal.factories import PASSWORD, make_user
from tests.twofactor import code_at

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_officer_enrols_then_signs_in_with_a_code(page: Any, live_server: Any) -> None:
    AgencyStaff.objects.create(user=make_user("new-officer"))
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "new-officer")
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("img.otp-qr")
    assert "/account/two-step/" in page.url
    qr = page.locator("img.otp-qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # drawn, not blocked
    shot(page, "two-step-enrol")
    secret = page.locator("#otp-secret").inner_text()
    page.fill("#id_code", code_at(TOTPDevice(key=key_from_base32(secret))))
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("ul.otp-codes")
    assert page.locator("ul.otp-codes li").count() == 10
    shot(page, "two-step-recovery-codes")
    page.get_by_role("link", name="I have saved them: continue").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/"  # the agency home page

    page.context.clear_cookies()
    login(page, base, "new-officer", PASSWORD)  # the helper types the current code
    assert "/login/verify/" not in page.url and "/account/two-step/" not in page.url
