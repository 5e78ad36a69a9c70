"""An inheritance in a real browser, in English and in Chinese: agency staff record a family
member's report of a death with the certificate, file the heirs' claim with two heirs (one paid
in France, one in China), are refused shares that do not add up, decide halves, and pay both
heirs through the payment run and the bank's return file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from expatsi.benefits.models import DeathReport, InheritanceClaim, PaymentRun, Payout
from tests.benefits.conftest import departed  # noqa: F401 - fixture by name
from tests.benefits.test_death import DIED, PDF
from tests.billing.conftest import beijing  # noqa: F401 - fixture by name
from tests.browser.conftest import csp_violations, login, shot
from tests.portal.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "": {
        "frozen": "The individual account is frozen",
        "balance": "¥7,227.00",
        "half": "¥3,613.50",
        "not_whole": "The shares add up to 5/6, not to the whole (1)",
        "approved": "Approved: payouts under way",
        "paid": "Paid to every heir",
    },
    "/zh-hans": {
        "frozen": "个人账户已冻结",
        "balance": "7,227.00 元",
        "half": "3,613.50 元",
        "not_whole": "各份额之和为 5/6，不等于整体（1）",
        "approved": "已批准：支付办理中",
        "paid": "已支付给每位继承人",
    },
}


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    contexts: list[Any] = []
    pages: list[list[str]] = []

    def make() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        pages.append(csp_violations(page))
        return page

    yield make
    for context in contexts:
        context.close()
    assert all(found == [] for found in pages), "a page broke the Content-Security-Policy"


def _file(name: str) -> list[dict[str, Any]]:
    return [{"name": name, "mimeType": "application/pdf", "buffer": PDF.data}]


@pytest.mark.parametrize("prefix", ["", "/zh-hans"], ids=["en", "zh"])
def test_an_inheritance_claim_decided_with_two_heirs(
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
    staff = new_page()
    login(staff, base, "officer-one", PASSWORD)

    # a family member reports the death at the counter, with the certificate
    staff.goto(f"{base}{prefix}/benefits/deaths/")
    staff.select_option("#id_person", str(departed.person.pk))
    staff.fill("#id_died_on", DIED.isoformat())
    staff.select_option("#id_reporter", "family")
    staff.fill("#id_reporter_name", "Marie Lefebvre")
    staff.fill("#id_relationship", "spouse")
    staff.set_input_files("#id_evidence", files=_file("death-certificate.pdf"))
    staff.click("#report")
    staff.wait_for_selector("#frozen")
    assert words["frozen"] in staff.inner_text("#frozen")
    assert staff.inner_text("#balance") == words["balance"]
    assert "death-certificate.pdf" in staff.inner_text("#documents")
    death = DeathReport.objects.get()
    assert (death.reporter, death.died_on) == ("family", DIED)
    shot(staff, f"inheritance-death-{lang}")

    # the heirs' claim: two heirs, one paid in France, one in China, and the certificate
    staff.click("#file-claim")
    staff.wait_for_selector("#claim-form")
    staff.fill("#id_heir1_name", "Marie Lefebvre")
    staff.fill("#id_heir1_relationship", "spouse")
    staff.select_option("#id_heir1_country", "FRA")
    staff.fill("#id_heir1_iban", "FR14 2004 1010 0505 0001 3M02 606")
    staff.fill("#id_heir1_bic", "PSSTFRPPPAR")
    staff.fill("#id_heir1_currency", "EUR")
    staff.fill("#id_heir2_name", "Li Wei")
    staff.fill("#id_heir2_relationship", "son")
    staff.select_option("#id_heir2_country", "CHN")
    staff.fill("#id_heir2_account_number", "6222 0212 3456 7890 123")
    staff.fill("#id_heir2_bic", "ICBKCNBJ")
    staff.fill("#id_heir2_currency", "CNY")
    staff.set_input_files("#id_document", files=_file("certificate-of-inheritance.pdf"))
    staff.click("#file")
    staff.wait_for_selector("#heirs")
    claim = InheritanceClaim.objects.get()
    wife, son = claim.heirs.order_by("position")
    assert "****2606" in staff.inner_text("#heir-1")
    assert "****0123" in staff.inner_text("#heir-2")

    # shares that do not add up are refused next to the shares; halves are approved
    staff.fill(f"#id_share_{wife.pk}", "1/2")
    staff.fill(f"#id_share_{son.pk}", "1/3")
    staff.click("#approve")
    staff.wait_for_selector("#decision-form")
    assert words["not_whole"] in staff.inner_text("#decision-form")
    assert staff.locator(f"#id_share_{wife.pk}[aria-invalid=true]").count() == 1
    staff.fill(f"#id_share_{son.pk}", "1/2")
    staff.click("#approve")
    staff.wait_for_selector("#claim-status")
    assert staff.inner_text("#claim-status") == words["approved"]
    assert staff.inner_text("#heir-1 .heir-amount") == words["half"]
    assert staff.inner_text("#heir-2 .heir-amount") == words["half"]
    shot(staff, f"inheritance-approved-{lang}")

    # the payment run pays both heirs; the bank's return file marks them paid
    staff.goto(f"{base}{prefix}/benefits/payments/")
    staff.select_option("#id_region_code", "110000")
    staff.click("#start-run")
    staff.wait_for_selector("#runs")
    run = PaymentRun.objects.get()
    assert (run.count, run.total) == (2, 722_700)
    payouts = list(Payout.objects.order_by("pk"))
    assert [(p.kind, p.amount, p.status) for p in payouts] == [("inherit", 361_350, "sent")] * 2
    csv = "end_to_end_id,status,date\n" + "".join(
        f"{p.end_to_end_id},ACSC,2025-12-03\n" for p in payouts
    )
    staff.set_input_files(
        "#id_file", files=[{"name": "return.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    staff.click("#apply-return")
    staff.wait_for_selector("#runs")
    staff.goto(f"{base}{prefix}/benefits/inheritance/{claim.pk}/")
    assert staff.inner_text("#claim-status") == words["paid"]
    shot(staff, f"inheritance-paid-{lang}")
