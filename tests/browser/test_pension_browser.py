"""The employee's retirement and pension outlook in a real browser, in English and in Chinese."""

from __future__ import annotations

from datetime import date

import pytest

from expatsi.access.actors import SYSTEM
from expatsi.billing.models import Bill
from expatsi.billing.services import billing_run, payment_record
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from tests.billing.conftest import employ, make_person
from tests.browser.conftest import login, shot
from tests.portal.factories import PASSWORD, make_employer, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid_employee():
    """A man born 1985-01 earning 5,000 in Beijing, August 2025 billed and paid (the golden case
    of tests/billing/web/test_pension.py)."""
    employer = make_employer()
    person = make_person("Bravo", "USA")
    employ(person, employer, 5000)
    billing_run(actor=SYSTEM, region_code="110000", month=Month(2025, 8))
    bill = Bill.objects.get(employer=employer, month="2025-08")
    payment_record(
        actor=SYSTEM, employer=employer, amount=bill.total, received_on=date(2025, 9, 10)
    )
    user = make_user("bravo")
    Person.objects.filter(pk=person.pk).update(user=user)
    return person


def test_employee_reads_the_pension_outlook_in_both_languages(page, live_server, paid_employee):
    login(page, live_server.url, "bravo", PASSWORD)
    page.goto(f"{live_server.url}/billing/me/")
    page.click("#pension-link")
    page.wait_for_selector("#outlook")
    page.goto(f"{live_server.url}/billing/me/pension/?on=2025-12-31")
    main = page.inner_text("main")
    assert "My retirement and pension outlook" in page.inner_text("h1")
    assert "2048-01, at 63 years" in main
    assert page.inner_text("#months-so-far") == "1"
    assert page.inner_text("#months-needed") == "239"
    assert page.inner_text("#pension-total") == "¥3,431.87"
    assert "¥2,129.21" in page.inner_text("#line-basic")
    assert "CONVENTION" in page.inner_text("#line-basic")
    assert "¥1,302.66" in page.inner_text("#line-account")
    assert "152410.94 / 117" in page.inner_text("#line-account")
    shot(page, "pension-en")
    page.goto(f"{live_server.url}/zh-hans/billing/me/pension/?on=2025-12-31")
    assert "我的退休与养老金预测" in page.inner_text("h1")
    assert "2048-01，63 岁" in page.inner_text("main")
    assert page.inner_text("#pension-total") == "3,431.87 元"
    assert "约定" in page.inner_text("#line-basic")
    assert "基础养老金" in page.inner_text("#line-basic")
    shot(page, "pension-zh")
