"""After a lump sum is paid, billing's own statement, months counted and pension outlook read a new
account from zero; a return to work in China counts again under the same social security number.

The fixture's account: 2,400.00 credited for 2025-07, -08 and -09 (8% of 30,000.00); the lump sum
on 2025-11-20 is 7,227.00 (tests/benefits/test_termination.py works it by hand)."""

from __future__ import annotations

from datetime import date

from expatsi.benefits import services
from expatsi.benefits.models import Payout
from expatsi.billing import retirement, selectors
from expatsi.billing.models import AccountClosing, AccountCredit
from expatsi.billing.payments import year_end_accounts
from expatsi.rules.dates import Month
from tests.benefits.conftest import LEFT_ON, Departed, bill_and_pay
from tests.billing.conftest import employ
from tests.portal.factories import PASSWORD

FRENCH = services.BankDetails(
    holder="Claire Lefebvre",
    country="FRA",
    iban="FR1420041010050500013M02606",
    bic="PSSTFRPPPAR",
    currency="EUR",
)


def pay_out(d: Departed) -> None:
    case, _ = services.departure_open(actor=d.actor, person_id=d.person.pk, departure_date=LEFT_ON)
    app = services.termination_apply(
        actor=d.actor,
        case_id=case.pk,
        bank_details=FRENCH,
        declaration=True,
        password=PASSWORD,
        closing_date=date(2025, 11, 20),
    )
    services.termination_decide(
        actor=d.agency(), termination_id=app.pk, decision="approve", identity_checked=True
    )
    services.payment_run(actor=d.agency(), region_code="110000")
    e2e = Payout.objects.get().end_to_end_id
    report = services.payments_reconcile(
        actor=d.agency(), text=f"end_to_end_id,status,date\n{e2e},ACSC,2025-12-03\n"
    )
    assert report.paid == 1


def test_before_the_lump_sum_billing_counts_the_three_months(departed: Departed) -> None:
    st = selectors.my_statement(departed.actor, date(2025, 12, 31), audit=False)
    assert [y.credits for y in st.years] == [720_000]
    assert selectors.my_months_counted(departed.actor) == 3


def test_after_the_lump_sum_the_statement_and_outlook_start_from_zero(
    departed: Departed, client
) -> None:
    pay_out(departed)
    closing = AccountClosing.objects.get()
    assert (closing.person_id, closing.closed_month, closing.amount) == (
        departed.person.pk,
        "2025-11",
        722_700,
    )
    st = selectors.my_statement(departed.actor, date(2025, 12, 31), audit=False)
    assert (list(st.years), st.balance) == ([], 0)
    assert selectors.my_months_counted(departed.actor) == 0
    outlook = retirement.projection(departed.actor, date(2025, 12, 31))
    assert outlook.months_so_far == 0
    assert outlook.projected_balance == 0
    line = next(x for x in outlook.lines if x.key == "months_so_far")
    assert any("2025-11" in step for step in line.explanation)
    # the year-end does not credit interest to the closed account either
    assert list(year_end_accounts(2025)) == []
    client.force_login(departed.user)
    page = client.get("/billing/me/?on=2025-12-31")
    assert page.status_code == 200
    assert 'id="account-closed"' in page.content.decode()


def test_a_return_counts_again_under_the_same_number(departed: Departed, beijing) -> None:
    pay_out(departed)
    employ(departed.person, beijing, 30000, start=date(2026, 1, 1))
    bill_and_pay(beijing, Month(2026, 1))
    st = selectors.my_statement(departed.actor, date(2026, 1, 31), audit=False)
    assert [(y.year, y.opening, y.credits) for y in st.years] == [(2026, 0, 240_000)]
    assert selectors.my_months_counted(departed.actor) == 1
    assert retirement.projection(departed.actor, date(2026, 1, 31)).months_so_far == 1
    # the same person record (and so the same social security number) holds both accounts
    assert sorted(
        AccountCredit.objects.filter(person=departed.person).values_list("month", flat=True)
    ) == [
        "2025-07",
        "2025-08",
        "2025-09",
        "2026-01",
    ]
    assert selectors.credits_by_year(departed.actor) == {2026: 240_000}
