"""The new benefit pages in Chinese show no English from the catalogue: the programmes page and a
programme application (holder and agency), a returned payout's correction form, the account
statement after a lump sum (tests/security/test_chinese_pages_no_codes.py does the same for the
main pages over the demo data)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from expatsi.access.actors import actor_for_user
from expatsi.benefits import programmes
from tests.benefits.conftest import Departed
from tests.benefits.test_account_after_lump_sum import pay_out
from tests.benefits.test_bank_correction import approved_and_sent, returned
from tests.benefits.test_programmes import bank, holder, sample_programmes  # noqa: F401 - fixtures
from tests.portal.factories import make_agency
from tests.security.test_chinese_pages_no_codes import english_msgids, visible_text
from tests.twofactor import verified_login


def english_on(client: Client, url: str) -> list[str]:
    page = client.get(url)
    assert page.status_code == 200, url
    text = "\n".join(visible_text(page.content.decode()))
    return [m for m in english_msgids() if m in text]


def test_programme_pages(holder: Any) -> None:  # noqa: F811 - the fixture imported above
    app = programmes.programme_apply(
        actor=actor_for_user(holder), programme="newcomer", bank_details=bank()
    )
    person = Client()
    person.force_login(holder)
    staff = verified_login(Client(), make_agency("officer-zh", regions="110000"))
    found = [
        *english_on(person, "/zh-hans/benefits/programmes/"),
        *english_on(person, f"/zh-hans/benefits/programme-applications/{app.pk}/"),
        *english_on(staff, "/zh-hans/benefits/programme-applications/"),
        *english_on(staff, f"/zh-hans/benefits/programme-applications/{app.pk}/"),
    ]
    assert found == []


def test_returned_payout_and_closed_account(departed: Departed) -> None:
    app = approved_and_sent(departed)
    returned(departed)
    person = Client()
    person.force_login(departed.user)
    assert english_on(person, f"/zh-hans/benefits/applications/{app.pk}/") == []


def test_statement_after_a_lump_sum(departed: Departed) -> None:
    pay_out(departed)
    person = Client()
    person.force_login(departed.user)
    assert english_on(person, "/zh-hans/billing/me/?on=2025-12-31") == []
