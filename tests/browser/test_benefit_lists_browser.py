"""The benefit lists in a real browser, in English and in Chinese: an officer goes from the
pensions page to the whole list of pensions being paid, filters it by the proof of life due with
the keyboard, pages on by the signed "Next" link and finds one pensioner by name."""

from __future__ import annotations

from typing import Any

import pytest

from tests.benefits.test_benefit_lists import build, expected
from tests.browser.conftest import login, shot
from tests.factories import EmployerFactory
from tests.portal.factories import PASSWORD, make_agency

pytestmark = pytest.mark.django_db(transaction=True)

LANGS = [("en", ""), ("zh-hans", "/zh-hans")]


@pytest.mark.parametrize(("lang", "prefix"), LANGS)
def test_pensions_being_paid_filtered_paged_and_searched(
    page: Any, live_server: Any, lang: str, prefix: str
) -> None:
    build(EmployerFactory(name="Beijing Lists Co.", region_code="110000"), 30, "B")
    build(EmployerFactory(name="Shanghai Lists Co.", region_code="310000"), 2, "S", "310000")
    make_agency("lists-officer", regions="110000")
    base = live_server.url
    login(page, base, "lists-officer", PASSWORD)
    page.goto(f"{base}{prefix}/benefits/pensions/")
    rows = page.locator("#running tbody tr")
    assert rows.count() == 20
    with page.expect_navigation():
        page.click("section[aria-labelledby=running-heading] .see-all a")
    assert "/benefits/pensions/paid/" in page.url

    # due within 90 days, 25 a page, chosen with the keyboard: Tab to Apply, Enter
    page.select_option("#list-f-due", "90")
    page.select_option("#list-per-page", "25")
    page.focus("#list-per-page")
    with page.expect_navigation():
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
    assert "due=90" in page.url
    names = [
        t.split()[0] for t in page.locator("#running tbody tr td:first-child").all_inner_texts()
    ]
    assert names == expected("R", range(15))  # due i * 10 - 50 days: i ≤ 14 is within 90 days
    shot(page, f"benefit-lists-paid-{lang}")

    # all 30, then the second page by the signed cursor
    page.goto(f"{base}{prefix}/benefits/pensions/paid/?per_page=25")
    with page.expect_navigation():
        page.click(".pager a[rel=next]")
    assert "cursor=" in page.url
    names = [
        t.split()[0] for t in page.locator("#running tbody tr td:first-child").all_inner_texts()
    ]
    assert names == expected("R", range(25, 30))

    page.fill("#list-q", "BR07")
    with page.expect_navigation():
        page.click("#list-apply")
    assert page.locator("#running tbody tr").count() == 1
    assert "SR00" not in page.locator("main").inner_text()
