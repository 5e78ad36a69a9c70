"""A lump-sum withdrawal in a real browser, in English and in Chinese: the person's departure
choice and signed application, the agency's review with the identity check, the payment run
(pain.001) and the bank's return file that marks the payout paid."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone

from expatsi.benefits import ledger
from expatsi.benefits.models import PaymentRun, Payout, TerminationApplication
from tests.benefits.conftest import LEFT_ON, departed  # noqa: F401 - fixture by name
from tests.billing.conftest import beijing  # noqa: F401 - fixture by name
from tests.browser.conftest import csp_violations, login, shot
from tests.portal.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "": {
        "keep": "Keep my account",
        "terminate": "Terminate and take the lump sum",
        "awaiting": "Awaiting review",
        "approved": "Approved: payout under way",
        "paid": "Paid: account closed",
    },
    "/zh-hans": {
        "keep": "保留我的账户",
        "terminate": "终止并一次性领取",
        "awaiting": "等待审核",
        "approved": "已批准：正在支付",
        "paid": "已支付：账户已关闭",
    },
}


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """Pages in contexts of their own (the person's and the officer's sessions), each closed at
    the end and checked for Content-Security-Policy violations."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        found = csp_violations(page)
        pages.append(found)
        return page

    pages: list[list[str]] = []
    yield make
    for context in contexts:
        context.close()
    assert all(found == [] for found in pages), "a page broke the Content-Security-Policy"


@pytest.mark.parametrize("prefix", ["", "/zh-hans"], ids=["en", "zh"])
def test_withdrawal_from_choice_to_payout(
    new_page,
    live_server,
    departed,  # noqa: F811 - the fixture imported above
    settings,
    prefix,
) -> None:
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 100_000_000  # one approval here
    words = TEXT[prefix]
    base = live_server.url
    lang = "zh" if prefix else "en"

    # the person declares the departure and chooses to terminate
    person = new_page()
    login(person, base, "lefebvre", PASSWORD)
    person.goto(f"{base}{prefix}/benefits/leaving/")
    person.fill("#id_departure_date", LEFT_ON.isoformat())
    person.locator("#declare-form button[type=submit]").click()
    person.wait_for_selector("#choice")
    assert words["keep"] in person.inner_text("#keep-account")
    person.click("#terminate-link")
    expected = ledger.lump_sum_on(departed.person.pk, timezone.localdate()).amount
    shown = f"{expected // 100:,}.{expected % 100:02d}"
    assert person.inner_text("#lump-sum") == (f"{shown} 元" if prefix else f"¥{shown}")
    assert "7200.00" in person.inner_text("#statement")
    shot(person, f"benefits-terminate-{lang}")
    person.fill("#id_holder", "Claire Lefebvre")
    person.select_option("#id_country", "FRA")
    person.fill("#id_iban", "FR14 2004 1010 0505 0001 3M02 606")
    person.fill("#id_bic", "PSSTFRPPPAR")
    person.fill("#id_currency", "EUR")
    person.check("#id_declaration")
    person.fill("#id_password", PASSWORD)
    person.click("#sign")
    person.wait_for_selector("#app-status")
    assert person.inner_text("#app-status") == words["awaiting"]
    assert "****2606" in person.inner_text("#app-account")

    # agency staff check the identity and approve
    app = TerminationApplication.objects.get()
    staff = new_page()
    login(staff, base, "officer-one", PASSWORD)
    staff.goto(f"{base}{prefix}/benefits/applications/")
    staff.click(f"#termination-{app.pk} a")
    staff.wait_for_selector("#decision-form")
    staff.check("#id_identity_checked")
    staff.fill("#id_note", "passport FRA checked at the counter")
    staff.click("#approve")
    staff.wait_for_selector("#app-status")
    assert staff.inner_text("#app-status") == words["approved"]
    shot(staff, f"benefits-approved-{lang}")

    # the payment run writes the pain.001 file; the bank's return marks it paid
    staff.goto(f"{base}{prefix}/benefits/payments/")
    staff.select_option("#id_region_code", "110000")
    staff.click("#start-run")
    staff.wait_for_selector("#runs")
    run = PaymentRun.objects.get()
    assert run.message_id in staff.inner_text("#runs")
    payout = Payout.objects.get()
    assert payout.status == "sent"
    staff.set_input_files(
        "#id_file",
        files=[
            {
                "name": "return.csv",
                "mimeType": "text/csv",
                "buffer": f"end_to_end_id,status,date\n{payout.end_to_end_id},ACSC,2025-12-03\n".encode(),
            }
        ],
    )
    staff.click("#apply-return")
    staff.wait_for_selector("#runs")
    shot(staff, f"benefits-payments-{lang}")
    payout.refresh_from_db()
    assert payout.status == "paid"

    person.goto(f"{base}{prefix}/benefits/applications/{app.pk}/")
    assert person.inner_text("#app-status") == words["paid"]
    shot(person, f"benefits-paid-{lang}")
