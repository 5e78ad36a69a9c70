"""An online proof of life that lifts a suspended pension, in a real browser, in English and in
Chinese: the pensioner sees the suspension, types their password, and the pension is paid again
(the suspended months go out with the next monthly run)."""

from __future__ import annotations

import pytest

from expatsi.access.actors import SYSTEM
from expatsi.benefits import pensions
from expatsi.benefits.models import Pension, PensionStatus
from expatsi.benefits.proof_of_life import proofs_daily
from expatsi.rules.dates import Month
from tests.benefits.pension_world import pensioner
from tests.browser.conftest import login, shot
from tests.portal.factories import PASSWORD, make_employer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("prefix", "suspended", "awarded", "thanks"),
    [
        ("", "Payment is suspended", "Awarded: paid every month", "your proof of life is recorded"),
        ("/zh-hans", "养老金已暂停发放", "已核定：按月发放", "您的领取资格认证已登记"),
    ],
)
def test_an_online_proof_of_life_lifts_the_suspension(
    page, live_server, prefix: str, suspended: str, awarded: str, thanks: str
) -> None:
    _person, _user, pension = pensioner(make_employer(), username="dupont")
    # Paid January to March 2026; the last proof (2025-08-01) lapsed on 2026-08-01.
    pensions.pension_month_run(actor=SYSTEM, region_code="110000", month=Month(2026, 3))
    assert proofs_daily(actor=SYSTEM).suspended == 1

    login(page, live_server.url, "dupont", PASSWORD)
    page.goto(f"{live_server.url}{prefix}/benefits/pension/")
    assert suspended in page.inner_text("#suspended")
    shot(page, f"proof-of-life-suspended{prefix.replace('/', '-')}")
    page.fill("#online-proof-form input[name=password]", "not my password")
    page.click("#prove-online")
    page.wait_for_selector(
        "#online-proof-form .errorlist, #online-proof-form [role=alert], .error-summary"
    )
    assert Pension.objects.get(pk=pension.pk).status == PensionStatus.SUSPENDED
    page.fill("#online-proof-form input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("#prove-online")
    assert thanks in page.inner_text("main")
    assert page.locator("#suspended").count() == 0
    assert page.inner_text("#pension-status") == awarded
    shot(page, f"proof-of-life-resumed{prefix.replace('/', '-')}")

    # The next run pays every month owed since March: the suspended ones included.
    made = pensions.pension_month_run(actor=SYSTEM, region_code="110000", month=Month(2026, 11))
    assert made.created == 8  # April to November 2026
