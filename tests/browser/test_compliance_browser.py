"""Compliance in a real browser, in English and in Chinese: agency staff open the dashboard (its
charts drawn, each with its table), go to a finding, turn it into an enforcement case and issue
the order to rectify."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from expatsi.cases.models import Case, CaseStatus, Finding
from expatsi.employers.models import Employer
from tests.browser.conftest import login, shot
from tests.cases.conftest import bill, finding, pay, person
from tests.portal.factories import PASSWORD, make_agency

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "": {
        "dashboard": "Compliance dashboard",
        "open": "Open the case",
        "issue": "Issue the order",
        "ordered": "Order to rectify issued",
    },
    "/zh-hans": {
        "dashboard": "合规看板",
        "open": "立案",
        "issue": "发出通知",
        "ordered": "已发限期改正通知",
    },
}


@pytest.mark.parametrize("prefix", ["", "/zh-hans"])
def test_staff_open_the_dashboard_and_take_a_finding_to_an_order(
    page: Any, live_server: Any, prefix: str
) -> None:
    words = TEXT[prefix]
    employer = Employer.objects.create(
        name="Pujiang Precision (Shanghai) Co., Ltd.",
        uscc="91310000MA1FL8X3P0",
        region_code="310000",
    )
    today = timezone.localdate()
    unpaid = bill(employer, "2025-09", date(2025, 10, 15), total=100_000)
    pay(unpaid, 40_000, date(2025, 10, 10))
    found = finding("not_registered", employer, person("Weber", "DEU"), amount=250_000)
    Finding.objects.filter(pk=found.pk).update(found_on=today - timedelta(days=3))
    make_agency("officer")
    base = live_server.url

    login(page, base, "officer", PASSWORD)
    page.goto(f"{base}{prefix}/")
    # The cases area starts at the dashboard: the first compliance entry of the menu.
    page.locator("nav a[href$='/cases/dashboard/']").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == words["dashboard"]
    charts = page.locator("svg.chart-svg")
    assert charts.count() == 5
    for i in range(5):
        assert charts.nth(i).is_visible()
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.locator("#findings_rule-table tbody tr").count() >= 8
    assert page.locator("svg[data-chart=findings_region] rect[fill]").count() >= 1
    shot(page, f"compliance-dashboard{prefix.replace('/', '-')}")

    page.locator("a.button[href$='/cases/findings/']").first.click()
    page.wait_for_load_state()
    page.locator(f"#findings a[href$='/cases/findings/{found.pk}/']").click()
    page.wait_for_load_state()
    with page.expect_navigation():
        page.get_by_role("button", name=words["open"]).click()
    case = Case.objects.get()
    assert page.url.endswith(f"/cases/{case.pk}/")

    deadline = today + timedelta(days=30)
    page.fill("#id_deadline", deadline.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name=words["issue"]).click()
    assert page.locator("#case-status").inner_text() == words["ordered"]
    assert page.locator("#order-pdf").is_visible()
    shot(page, f"compliance-order{prefix.replace('/', '-')}")
    case.refresh_from_db()
    assert (case.status, case.order_deadline) == (CaseStatus.ORDERED, deadline)
