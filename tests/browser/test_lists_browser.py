"""Lists and administration in a real browser, in English and in Chinese: an officer searches and
filters the registrations, selects rows with the keyboard and accepts them together; an agency
administrator grants HR access by invitation, and the invitee's new account reaches the HR list."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail

from expatsi.audit.models import AuditEvent
from expatsi.employers.models import HrInvitation
from expatsi.insurance.models import Registration, RegistrationStatus
from tests.browser.conftest import login, shot
from tests.portal.factories import PASSWORD, make_agency, make_employer, make_hire, make_hr

pytestmark = pytest.mark.django_db(transaction=True)

LANGS = [("en", ""), ("zh-hans", "/zh-hans")]


@pytest.mark.parametrize(("lang", "prefix"), LANGS)
def test_registrations_searched_filtered_and_bulk_accepted(
    page: Any, live_server: Any, lang: str, prefix: str
) -> None:
    bj = make_employer()
    sh = make_employer(2, name="Huangpu Trading Co., Ltd.", region="310000")
    hr_bj, hr_sh = make_hr(bj), make_hr(sh, "hr-sh")
    today = date.today()
    adler = make_hire(bj, hr_bj, 1, family="Adler", issued=today - timedelta(days=40))
    brandt = make_hire(bj, hr_bj, 2, family="Brandt", issued=today - timedelta(days=27))
    claes = make_hire(bj, hr_bj, 3, family="Claes", issued=today - timedelta(days=2))
    dumas = make_hire(sh, hr_sh, 4, family="Dumas", issued=today - timedelta(days=3))
    make_agency("officer")
    base = live_server.url
    login(page, base, "officer", PASSWORD)
    page.goto(f"{base}{prefix}/registrations/")
    assert page.locator("html").get_attribute("lang") == ("zh-Hans" if lang == "zh-hans" else "en")
    rows = page.locator("#registrations tbody tr")
    assert rows.count() == 4

    # Search by name: one row.
    page.fill("#list-q", "Claes")
    with page.expect_navigation():
        page.click("#list-apply")
    assert rows.count() == 1 and "CLAES" in rows.first.inner_text()

    # Clear the search, filter by region (Beijing only), keyboard only: Tab to the button.
    page.fill("#list-q", "")
    page.select_option("#list-f-region", "110000")
    page.focus("#list-per-page")
    with page.expect_navigation():
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
    assert "region=110000" in page.url
    assert rows.count() == 3
    assert "DUMAS" not in page.locator("#registrations").inner_text()
    shot(page, f"lists-registrations-filtered-{lang}")

    # Select two rows with the keyboard (Space on a focused checkbox) and accept them together.
    for reg in (adler, brandt):
        page.focus(f"#select-{reg.pk}")
        page.keyboard.press("Space")
        assert page.is_checked(f"#select-{reg.pk}")
    with page.expect_navigation():
        page.click("#bulk-accept")
    chosen = page.locator("#bulk-chosen tbody tr")
    assert chosen.count() == 2
    assert Registration.objects.get(pk=adler.pk).status == RegistrationStatus.SUBMITTED
    shot(page, f"lists-bulk-confirm-{lang}")
    with page.expect_navigation():
        page.click("#bulk-confirm")
    assert page.locator("#bulk-done tbody tr").count() == 2
    assert page.locator("#bulk-refused").count() == 0
    shot(page, f"lists-bulk-done-{lang}")
    for reg in (adler, brandt):
        assert Registration.objects.get(pk=reg.pk).status == RegistrationStatus.ACCEPTED
        assert AuditEvent.objects.filter(
            action="registration.accept", object_id=str(reg.pk)
        ).exists()
    for reg in (claes, dumas):
        assert Registration.objects.get(pk=reg.pk).status == RegistrationStatus.SUBMITTED

    # Back to the list as it was filtered: the accepted ones have left the queue.
    with page.expect_navigation():
        page.locator("main a.button-secondary").last.click()
    assert "region=110000" in page.url
    assert rows.count() == 1 and "CLAES" in rows.first.inner_text()


@pytest.mark.parametrize(("lang", "prefix"), LANGS)
def test_an_agency_administrator_grants_hr_access_by_invitation(
    page: Any, live_server: Any, lang: str, prefix: str
) -> None:
    employer = make_employer()
    admin = make_agency("admin")
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    mail.outbox = []
    base = live_server.url
    login(page, base, "admin", PASSWORD)
    page.goto(f"{base}{prefix}/administration/")
    page.fill("#list-q", employer.uscc)
    with page.expect_navigation():
        page.click("#list-apply")
    with page.expect_navigation():
        page.locator("#employers tbody a").first.click()
    page.fill("#id_email", "li.na@example.com")
    page.fill("#id_first_name", "Na")
    page.fill("#id_last_name", "Li")
    page.select_option("#id_language", lang)
    with page.expect_navigation():
        page.click("#invite-send")
    assert page.locator(".notice-success").count() == 1
    assert "li.na@example.com" in page.locator("#hr-invitations").inner_text()
    shot(page, f"admin-hr-invited-{lang}")
    invitation = HrInvitation.objects.get(employer=employer)
    assert invitation.user is None  # nobody has access until the invitee makes an account
    assert AuditEvent.objects.filter(action="employer.hr_invite").exists()

    # The invitee opens the link from the e-mail and makes a new account; it is HR there.
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[0].body)
    assert link is not None and (prefix + "/invitations/") in link.group(0)
    invitee = page.context.browser.new_context(locale="en-US").new_page()
    invitee.goto(link.group(0))
    invitee.fill("#id_username", f"li-na-{lang}")
    invitee.fill("#id_password1", PASSWORD)
    invitee.fill("#id_password2", PASSWORD)
    with invitee.expect_navigation():
        invitee.locator("main form button[type=submit]").click()
    login(invitee, base, f"li-na-{lang}", PASSWORD)
    invitee.goto(f"{base}{prefix}/")
    assert invitee.locator("#employees, .empty").count() >= 1
    assert employer.uscc in invitee.content()
    invitee.context.close()
