"""Payments, partial payments, late fees and credits, exact to the fen; accounts credited once paid."""

from datetime import date

import pytest

from expatsi.access.actors import SYSTEM, Actor
from expatsi.billing import payments as pay
from expatsi.billing import services as billing
from expatsi.billing.models import AccountCredit, AccountYear, Bill, Payment
from expatsi.rules.dates import Month
from expatsi.rules.errors import NotFound

AGENCY = Actor("agency", None, "officer", regions=None)
TOTAL = 633027  # 4,972.26 employer + 1,358.01 employee (the golden Beijing bill of 2025-08)


def fen(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int(frac.ljust(2, "0"))


@pytest.fixture
def aug_bill(beijing, beijing_staff):
    billing.billing_run(actor=SYSTEM, region_code="110000", month=Month(2025, 8))
    bill = Bill.objects.get(month="2025-08")
    assert bill.total == TOTAL
    return bill


@pytest.mark.django_db
def test_partial_payment_then_late_rest_with_the_late_fee(beijing, aug_bill):
    billing.payment_record(
        actor=AGENCY, employer=beijing, amount=fen("3000"), received_on=date(2025, 9, 10)
    )
    state = pay.bill_state(aug_bill, date(2025, 10, 1))
    assert state.outstanding == fen("3330.27")
    # 16 days after the due date (15 Sep): 3,330.27 × 0.05% × 16 = 26.64216 → 26.64
    assert state.late_fee == fen("26.64")
    assert state.days_overdue == 16
    billing.payment_record(
        actor=AGENCY, employer=beijing, amount=fen("3330.27"), received_on=date(2025, 10, 15)
    )
    state = pay.bill_state(aug_bill, date(2025, 11, 1))
    assert state.outstanding == 0
    # paid 30 days late: 3,330.27 × 0.05% × 30 = 49.95405 → 49.95; it stops accruing once paid
    assert state.late_fee == fen("49.95")
    balance = pay.employer_balance(beijing, date(2025, 11, 1))
    assert balance.late_fees_outstanding == fen("49.95")
    # A further payment settles the fee.
    billing.payment_record(
        actor=AGENCY, employer=beijing, amount=fen("49.95"), received_on=date(2025, 10, 20)
    )
    assert pay.bill_state(aug_bill, date(2025, 11, 1)).fee_outstanding == 0


@pytest.mark.django_db
def test_overpayment_is_kept_as_credit(beijing, aug_bill):
    billing.payment_record(
        actor=AGENCY, employer=beijing, amount=fen("7000"), received_on=date(2025, 9, 15)
    )
    assert pay.bill_state(aug_bill, date(2025, 12, 31)).outstanding == 0
    assert pay.bill_state(aug_bill, date(2025, 12, 31)).late_fee == 0  # paid on the due date
    assert pay.employer_balance(beijing, date(2025, 12, 31)).credit == fen("669.73")


@pytest.mark.django_db
def test_reference_then_amount_matching(beijing, aug_bill):
    billing.billing_run(actor=SYSTEM, region_code="110000", month=Month(2025, 9))
    sep = Bill.objects.get(month="2025-09")
    # Named by reference: goes to September although August is older.
    billing.payment_record(
        actor=AGENCY,
        employer=beijing,
        amount=fen("100"),
        received_on=date(2025, 9, 1),
        reference=sep.number,
    )
    assert pay.bill_state(sep).principal_paid == fen("100")
    # Equal to August's outstanding, no reference: matched by amount.
    billing.payment_record(
        actor=AGENCY, employer=beijing, amount=TOTAL, received_on=date(2025, 9, 2)
    )
    assert pay.bill_state(aug_bill).outstanding == 0


@pytest.mark.django_db
def test_payment_for_an_unknown_bill_is_refused(beijing, aug_bill):
    with pytest.raises(NotFound) as exc:
        billing.payment_for_bill(
            actor=AGENCY,
            bill_number="110000-2025-08-99999999",
            amount=100,
            received_on=date(2025, 9, 1),
        )
    assert exc.value.field == "bill"
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_bank_file_with_a_bad_row_writes_nothing_and_reimport_is_idempotent(beijing, aug_bill):
    header = "transaction_id,date,amount,payer_uscc,reference\n"
    bad = (
        header
        + "T1,2025-09-10,3000.00,91110000600037341L,\nT2,2025-09-31,10.00,91110000600037341L,\n"
    )
    report = billing.bank_statement_import(actor=AGENCY, text=bad)
    assert [(e.row, e.column) for e in report.errors] == [(3, "date")]
    assert Payment.objects.count() == 0
    good = (
        header
        + "T1,2025-09-10,3000.00,91110000600037341L,\nT2,2025-09-12,3330.27,91110000600037341L,\n"
    )
    assert billing.bank_statement_import(actor=AGENCY, text=good).recorded == 2
    again = billing.bank_statement_import(actor=AGENCY, text=good)
    assert (again.recorded, again.already_recorded) == (0, 2)
    assert Payment.objects.count() == 2
    assert pay.bill_state(aug_bill).outstanding == 0


@pytest.mark.django_db
def test_paid_pension_contributions_credit_the_account_and_year_end_interest(
    beijing, beijing_staff, aug_bill
):
    alpha, bravo = beijing_staff
    billing.payment_record(
        actor=AGENCY, employer=beijing, amount=fen("3000"), received_on=date(2025, 9, 10)
    )
    assert AccountCredit.objects.count() == 0  # not fully paid yet
    billing.payment_record(
        actor=AGENCY, employer=beijing, amount=fen("3330.27"), received_on=date(2025, 9, 12)
    )
    credit = AccountCredit.objects.get(person=bravo)
    assert (credit.month, credit.amount) == ("2025-08", fen("572.96"))
    assert not AccountCredit.objects.filter(person=alpha).exists()  # exempt from pension
    assert pay.contribution_months(bravo.pk) == 1
    assert billing.accounts_year_end(actor=AGENCY, year=2025) == 1
    year = AccountYear.objects.get(person=bravo, year=2025)
    # 572.96 credited for August earns 1.50% × (13 − 8) / 12: 3.581 → 3.58
    assert (year.interest, year.closing) == (fen("3.58"), fen("576.54"))
    assert (
        billing.accounts_year_end(actor=AGENCY, year=2025) == 0
    )  # a closed year is not recomputed


@pytest.mark.django_db
def test_year_end_command_is_idempotent(beijing, beijing_staff, aug_bill, capsys):
    import json

    from expatsi.cli import main

    billing.payment_record(
        actor=AGENCY, employer=beijing, amount=TOTAL, received_on=date(2025, 9, 12)
    )
    assert main(["billing", "year-end", "--year", "2025", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["accounts_closed"] == 1
    assert main(["billing", "year-end", "--year", "2025", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accounts_closed"] == 0
