"""A bill read person by person in a real browser, in English and in Chinese: the employer's HR
see each person's lines with a subtotal and the bill's total, open one line's explanation, search
for one person and page through a bill of more people than a page holds."""

from __future__ import annotations

from typing import Any

import pytest

from expatsi.billing.models import BillLine
from tests.billing.web.test_bill_by_person import make_bill
from tests.browser.conftest import login, shot
from tests.portal.factories import PASSWORD, make_employer, make_hr

pytestmark = pytest.mark.django_db(transaction=True)


def _page(browser: Any, base: str, username: str, locale: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, base, username, PASSWORD)
    return page


@pytest.mark.parametrize(
    ("prefix", "locale", "subtotal", "person_total", "bill_total"),
    [
        ("", "en-US", "Subtotal", "¥3,720.00", "¥223,200.00"),
        ("/zh-hans", "zh-CN", "小计", "3,720.00 元", "223,200.00 元"),
    ],
)
def test_a_bill_read_by_person_with_subtotals(
    browser,
    live_server,
    prefix: str,
    locale: str,
    subtotal: str,
    person_total: str,
    bill_total: str,
) -> None:
    employer = make_employer()
    make_hr(employer, "hr")
    bill = make_bill(employer, "2025-06", 60)  # 60 people: two pages
    base = live_server.url

    hr = _page(browser, base, "hr", locale)
    hr.goto(f"{base}{prefix}/billing/bills/{bill.pk}/")
    groups = hr.locator("tbody.person")
    assert groups.count() == 50
    first = groups.first
    assert subtotal in first.locator("tr.subtotal").inner_text()
    assert person_total in first.locator("tr.subtotal").inner_text()
    assert (
        first.locator("tr").count() == 6
    )  # the name, four lines (maternity ¥0.00 hidden), subtotal
    assert bill_total in hr.inner_text("tr.bill-total")
    # an explanation on demand
    details = first.locator("details").first
    explanation = details.locator(".explanation")
    assert not explanation.is_visible()
    details.locator("summary").click()
    assert explanation.is_visible()
    assert "10,000.00" in explanation.inner_text()
    shot(hr, f"bill-by-person{prefix.replace('/', '-')}")

    # the next page holds the other ten
    hr.locator("#pager a[rel=next]").click()
    hr.wait_for_selector("#pager a[rel=prev]")
    assert hr.locator("tbody.person").count() == 10

    # search for one person by name, then by social security number
    target = (
        BillLine.objects.filter(bill=bill).select_related("person").order_by("id")[5 * 42].person
    )
    hr.fill("#id_q", target.family_name.lower())
    hr.locator("#bill-search button[type=submit]").click()
    hr.wait_for_selector(f"#person-{target.pk}")
    assert hr.locator("tbody.person").count() == 1
    hr.fill("#id_q", target.ssn or "")
    hr.locator("#bill-search button[type=submit]").click()
    hr.wait_for_selector(f"#person-{target.pk}")
    assert hr.locator("tbody.person").count() == 1
    assert person_total in hr.inner_text(f"#person-{target.pk} tr.subtotal")
    assert bill_total in hr.inner_text("tr.bill-total")  # still the whole bill's
    shot(hr, f"bill-search{prefix.replace('/', '-')}")
    hr.context.close()
