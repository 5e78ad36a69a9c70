"""The employer picker on the bills and payments pages says what the list shows (issue #13, found
by the browser test of ``make demo``).

Agency staff see every employer of their regions unless they pick one, but the picker had no
"all" choice: it showed the first employer as if picked while the list held them all, and the
payments page ignored the pick altogether. HR see one employer at a time: no "all" for them.
"""

from __future__ import annotations

import re
from datetime import date

from django.urls import reverse

from expatsi.access.actors import SYSTEM
from expatsi.billing.services import payment_record


def _selected(html: str) -> str:
    """The picker's selected option's text ("" when the browser would show the first)."""
    picker = re.search(r'<select id="pick-employer".*?</select>', html, re.S)
    assert picker is not None, "no employer picker"
    chosen = re.search(r"<option [^>]*selected[^>]*>([^<]*)</option>", picker[0])
    return chosen[1] if chosen else ""


def test_agency_bills_picker_offers_all_employers_and_says_which_is_shown(bworld) -> None:
    agency = bworld.client("agency")
    url = reverse("billing:bills")
    every = agency.get(url).content.decode()
    assert _selected(every) == "All employers"
    assert bworld.bill_a.number in every and bworld.bill_b.number in every
    one = agency.get(url, {"employer": bworld.a.pk}).content.decode()
    assert _selected(one) == "Beijing Co."
    assert bworld.bill_a.number in one and bworld.bill_b.number not in one
    chinese = agency.get("/zh-hans" + url).content.decode()
    assert _selected(chinese) == "全部用人单位"


def test_agency_payments_follow_the_employer_picked(bworld) -> None:
    for employer, reference in ((bworld.a, "PAY-ALPHA-1"), (bworld.b, "PAY-BRAVO-2")):
        payment_record(
            actor=SYSTEM,
            employer=employer,
            amount=100,
            received_on=date(2025, 9, 1),
            reference=reference,
        )
    agency = bworld.client("agency")
    url = reverse("billing:payments")
    every = agency.get(url).content.decode()
    assert _selected(every) == "All employers"
    assert "PAY-ALPHA-1" in every and "PAY-BRAVO-2" in every
    one = agency.get(url, {"employer": bworld.b.pk}).content.decode()
    assert _selected(one) == "Shanghai Rep Office"
    assert "PAY-BRAVO-2" in one and "PAY-ALPHA-1" not in one
    assert bworld.bill_b.number in one and bworld.bill_a.number not in one  # arrears too


def test_hr_see_one_employer_at_a_time_with_no_all_choice(bworld) -> None:
    from tests.factories import HrMembershipFactory

    HrMembershipFactory(user=bworld.users["hr_a"], employer=bworld.b)  # HR of both employers
    hr = bworld.client("hr_a")
    for name in ("billing:bills", "billing:payments"):
        page = hr.get(reverse(name)).content.decode()
        assert "All employers" not in page
        assert _selected(page) in ("Beijing Co.", "Shanghai Rep Office")  # the one shown
        other = hr.get(reverse(name), {"employer": bworld.b.pk}).content.decode()
        assert _selected(other) == "Shanghai Rep Office"
