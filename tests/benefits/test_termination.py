"""Departure → termination → decision → payment run → reconciliation, with amounts worked by hand."""

from __future__ import annotations

from datetime import date

import pytest
import xmlschema
from django.utils import timezone

from expatsi.access.actors import SYSTEM
from expatsi.benefits import ledger, pain001, services
from expatsi.benefits.models import (
    AccountClosure,
    ApplicationStatus,
    CaseStatus,
    DepartureCase,
    PaymentRun,
    Payout,
    TerminationApplication,
    Trigger,
)
from expatsi.billing.models import Bill
from expatsi.billing.services import payment_record
from expatsi.people.models import Direction, EntryExit
from expatsi.rules.dates import Month
from expatsi.rules.errors import Conflict, Forbidden, RuleError
from tests.benefits.conftest import LEFT_ON, Departed, bill_and_pay
from tests.billing.conftest import employ, make_person
from tests.portal.factories import PASSWORD

IBAN = "FR1420041010050500013M02606"
FRENCH = services.BankDetails(
    holder="Claire Lefebvre",
    country="FRA",
    iban="FR14 2004 1010 0505 0001 3M02 606",
    bic="PSSTFRPPPAR",
    currency="EUR",
)


def _case(d: Departed) -> DepartureCase:
    case, _ = services.departure_open(actor=d.actor, person_id=d.person.pk, departure_date=LEFT_ON)
    return case


def _apply(d: Departed, closing: date = date(2025, 11, 20), **over) -> TerminationApplication:
    values = {
        "bank_details": FRENCH,
        "declaration": True,
        "password": PASSWORD,
        "closing_date": closing,
    }
    values.update(over)
    return services.termination_apply(actor=d.actor, case_id=_case(d).pk, **values)


def test_lump_sum_worked_by_hand(departed: Departed) -> None:
    """Credits 2,400.00 for 2025-07, -08, -09 (8% of a 30,000.00 base); rate 2025 = 1.50%.

    Closing 2025-11-20: k = 10 whole months elapsed. Interest = round(Σ credit × (k + 1 − m) ×
    rate / 12) = round(2,400.00 × (4 + 3 + 2) × 0.015 / 12) = round(21,600.00 × 0.00125) = 27.00.
    Lump sum = 7,200.00 + 27.00 = 7,227.00.

    Closing 2026-02-15 (crossing a year): 2025 closes on 31 Dec with k = 12:
    interest = 2,400.00 × (6 + 5 + 4) × 0.015 / 12 = 45.00 → 7,245.00. 2026 has no published rate:
    the 2025 rate applies, provisionally; k = 1 (January): interest = round(7,245.00 × 1 × 0.015 / 12)
    = round(9.05625) = 9.06 → lump sum 7,254.06.
    """
    app = _apply(departed)
    assert app.amount == 722_700
    assert app.statement["years"][0]["interest"] == "27.00"
    assert app.statement["years"][0]["closing"] == "7227.00"
    assert ledger.lump_sum_on(departed.person.pk, date(2026, 2, 15)).amount == 725_406
    years = ledger.lump_sum_on(departed.person.pk, date(2026, 2, 15)).statement.years
    assert [(y.year, y.interest, y.provisional) for y in years] == [
        (2025, 4_500, False),
        (2026, 906, True),
    ]
    case = DepartureCase.objects.get(pk=app.case_id)
    assert case.status == CaseStatus.TERMINATING


def test_the_statutory_pension_age_refuses_the_lump_sum(beijing) -> None:
    """A man born 1965-05 reaches statutory age at 60y2m (reform: 1 month per 4 from 2025-01):
    2025-07. Closing 2025-07-01 is at that age: refused, pointing to the pension route. Closing
    2025-06-30 is before it: not refused for age (there is just nothing in the account)."""
    from expatsi.access.actors import actor_for_user
    from expatsi.people.models import Person
    from tests.portal.factories import make_user

    person = make_person("Older", "DEU", birth=date(1965, 5, 10))
    employ(person, beijing, 30000, start=date(2025, 1, 1), end=date(2025, 6, 1))
    user = make_user("older")
    Person.objects.filter(pk=person.pk).update(user=user)
    actor = actor_for_user(user)
    case, _ = services.departure_open(
        actor=actor, person_id=person.pk, departure_date=date(2025, 6, 1)
    )
    kwargs = {"bank_details": FRENCH, "declaration": True, "password": PASSWORD}
    with pytest.raises(RuleError) as refused:
        services.termination_apply(
            actor=actor, case_id=case.pk, closing_date=date(2025, 7, 1), **kwargs
        )
    assert refused.value.code == "pension_age_reached"
    assert refused.value.field == "closing_date"
    assert refused.value.params == {"age": "60y2m", "month": "2025-07"}
    assert "pension route" in refused.value.message
    with pytest.raises(RuleError) as other:
        services.termination_apply(
            actor=actor, case_id=case.pk, closing_date=date(2025, 6, 30), **kwargs
        )
    assert other.value.code == "nothing_to_pay"
    assert not TerminationApplication.objects.exists()


def test_a_second_termination_application_is_refused(departed: Departed) -> None:
    _apply(departed)
    case = DepartureCase.objects.get()
    with pytest.raises(Conflict) as second:
        services.termination_apply(
            actor=departed.actor,
            case_id=case.pk,
            bank_details=FRENCH,
            declaration=True,
            password=PASSWORD,
            closing_date=date(2025, 11, 21),
        )
    assert second.value.code == "termination_already_applied"
    assert TerminationApplication.objects.count() == 1


def test_wrong_password_and_missing_declaration_are_refused_on_their_fields(
    departed: Departed,
) -> None:
    with pytest.raises(RuleError) as wrong:
        _apply(departed, password="not-my-password")
    assert (wrong.value.code, wrong.value.field) == ("wrong_password", "password")
    with pytest.raises(RuleError) as undeclared:
        _apply(departed, declaration=False)
    assert (undeclared.value.code, undeclared.value.field) == (
        "declaration_required",
        "declaration",
    )
    assert not TerminationApplication.objects.exists()


def test_unbilled_and_unpaid_months_make_the_application_wait(beijing) -> None:
    """Employed July–October 2025: July paid, August billed and unpaid, September paid,
    October not billed. The application is taken; approval waits and names the months."""
    from expatsi.access.actors import actor_for_user
    from expatsi.people.models import Person
    from tests.portal.factories import make_agency, make_user

    person = make_person("Waits", "FRA", birth=date(1985, 1, 15))
    employ(person, beijing, 30000, start=date(2025, 7, 1), end=date(2025, 10, 31))
    bill_and_pay(beijing, Month(2025, 7))
    august = bill_and_pay(beijing, Month(2025, 8), pay=False)
    bill_and_pay(beijing, Month(2025, 9))
    user = make_user("waits")
    Person.objects.filter(pk=person.pk).update(user=user)
    actor = actor_for_user(user)
    officer = actor_for_user(make_agency("officer-w", regions="110000"))
    case, _ = services.departure_open(
        actor=actor, person_id=person.pk, departure_date=date(2025, 10, 31)
    )
    app = services.termination_apply(
        actor=actor,
        case_id=case.pk,
        bank_details=FRENCH,
        declaration=True,
        password=PASSWORD,
        closing_date=date(2025, 11, 20),
    )
    with pytest.raises(Conflict) as waits:
        services.termination_decide(
            actor=officer, termination_id=app.pk, decision="approve", identity_checked=True
        )
    assert waits.value.code == "months_not_settled"
    assert waits.value.params == {"unbilled": "2025-10", "unpaid": "2025-08"}
    assert "not yet billed: 2025-10" in waits.value.message
    assert "billed but not fully paid: 2025-08" in waits.value.message
    payment_record(
        actor=SYSTEM, employer=beijing, amount=august.total, received_on=date(2025, 9, 12)
    )
    bill_and_pay(beijing, Month(2025, 10))
    app = services.termination_decide(
        actor=officer, termination_id=app.pk, decision="approve", identity_checked=True
    )
    assert app.status == ApplicationStatus.APPROVED


def test_four_eyes_above_the_threshold(departed: Departed, settings) -> None:
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 500_000  # 5,000.00 < 7,227.00
    app = _apply(departed)
    with pytest.raises(RuleError) as unchecked:
        services.termination_decide(
            actor=departed.agency(1), termination_id=app.pk, decision="approve"
        )
    assert (unchecked.value.code, unchecked.value.field) == (
        "identity_not_checked",
        "identity_checked",
    )
    app = services.termination_decide(
        actor=departed.agency(1),
        termination_id=app.pk,
        decision="approve",
        identity_checked=True,
        note="passport FRA seen at the counter",
    )
    assert app.status == ApplicationStatus.SECOND_APPROVAL
    assert not Payout.objects.exists()
    with pytest.raises(Forbidden) as same:
        services.termination_decide(
            actor=departed.agency(1),
            termination_id=app.pk,
            decision="approve",
            identity_checked=True,
        )
    assert same.value.code == "four_eyes"
    app = services.termination_decide(
        actor=departed.agency(2), termination_id=app.pk, decision="approve", identity_checked=True
    )
    assert app.status == ApplicationStatus.APPROVED
    assert Payout.objects.get().amount == 722_700


def test_below_the_threshold_one_approval_pays(departed: Departed, settings) -> None:
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 722_700  # not above: one approval
    app = _apply(departed)
    app = services.termination_decide(
        actor=departed.agency(1), termination_id=app.pk, decision="approve", identity_checked=True
    )
    assert app.status == ApplicationStatus.APPROVED
    assert Payout.objects.get().status == "pending"


def _approved(d: Departed) -> TerminationApplication:
    app = _apply(d)
    return services.termination_decide(
        actor=d.agency(1), termination_id=app.pk, decision="approve", identity_checked=True
    )


def test_the_pain001_file_validates_and_pays_the_right_amount_to_the_right_iban(
    departed: Departed,
) -> None:
    _approved(departed)
    run = services.payment_run(actor=departed.agency(1), region_code="110000")
    assert run is not None
    assert (run.count, run.total) == (1, 722_700)
    schema = pain001.schema()
    schema.validate(run.xml)  # raises when the file breaks the XSD
    doc = schema.to_dict(run.xml)
    pmt = doc["CstmrCdtTrfInitn"]["PmtInf"][0]
    tx = pmt["CdtTrfTxInf"][0]
    assert doc["CstmrCdtTrfInitn"]["GrpHdr"]["CtrlSum"] == pytest.approx(7227.00)
    assert tx["CdtrAcct"]["Id"]["IBAN"] == IBAN
    assert tx["CdtrAgt"]["FinInstnId"]["BICFI"] == "PSSTFRPPPAR"
    eqvt = tx["Amt"]["EqvtAmt"]
    assert (eqvt["Amt"]["$"], eqvt["Amt"]["@Ccy"], eqvt["CcyOfTrf"]) == (
        pytest.approx(7227.00),
        "CNY",
        "EUR",
    )
    assert "<CtrlSum>7227.00</CtrlSum>" in run.xml
    assert tx["PmtId"]["EndToEndId"] == Payout.objects.get().end_to_end_id


def test_a_broken_file_is_refused_by_the_xsd() -> None:
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        pain001.build(
            message_id="X" * 36,  # Max35Text
            created=timezone.now().replace(tzinfo=None),
            execution_date=date(2025, 12, 1),
            debtor=pain001.Debtor("Agency", "123", "BKCHCNBJXXX"),
            transfers=[],
        )


def test_running_twice_pays_once(departed: Departed) -> None:
    _approved(departed)
    first = services.payment_run(actor=departed.agency(1), region_code="110000")
    second = services.payment_run(actor=departed.agency(1), region_code="110000")
    assert first is not None and second is None
    assert PaymentRun.objects.count() == 1
    payout = Payout.objects.get()
    assert (payout.status, payout.run_id) == ("sent", first.pk)


def test_shanghai_staff_cannot_run_beijing(departed: Departed) -> None:
    from expatsi.access.actors import actor_for_user
    from tests.portal.factories import make_agency

    _approved(departed)
    shanghai = actor_for_user(make_agency("officer-sh", regions="310000"))
    with pytest.raises(Forbidden):
        services.payment_run(actor=shanghai, region_code="110000")
    assert Payout.objects.get().status == "pending"


def test_reconciliation_marks_paid_closes_the_account_and_a_return_opens_a_new_one(
    departed: Departed, beijing
) -> None:
    _approved(departed)
    services.payment_run(actor=departed.agency(1), region_code="110000")
    payout = Payout.objects.get()
    text = f"end_to_end_id,status,date\n{payout.end_to_end_id},ACSC,2025-12-03\n"
    report = services.payments_reconcile(actor=departed.agency(1), text=text)
    assert (report.paid, report.rejected, report.unchanged, report.errors) == (1, 0, 0, [])
    again = services.payments_reconcile(actor=departed.agency(1), text=text)
    assert (again.paid, again.unchanged) == (0, 1)
    payout.refresh_from_db()
    assert (payout.status, payout.settled_on) == ("paid", date(2025, 12, 3))
    app = TerminationApplication.objects.get()
    assert app.status == ApplicationStatus.PAID
    assert DepartureCase.objects.get().status == CaseStatus.TERMINATED
    closure = AccountClosure.objects.get()
    assert (closure.closed_month, closure.amount) == ("2025-11", 722_700)
    # Back in China in 2026 under the same social security number: a new, empty account.
    assert ledger.current_credits(departed.person.pk) == []
    employ(departed.person, beijing, 30000, start=date(2026, 1, 1))
    bill_and_pay(beijing, Month(2026, 1))
    assert ledger.current_credits(departed.person.pk) == [(Month(2026, 1), 240_000)]
    # the closed months stay in billing's ledger, and no longer count for a new lump sum
    assert ledger.lump_sum_on(departed.person.pk, date(2026, 1, 31)).amount == 240_000 + 300
    # 2,400.00 × 1 × 1.5% / 12 = 3.00 (January complete, 2025's rate, provisional)


def test_a_rejected_payout_is_reversed_and_issued_again(departed: Departed) -> None:
    app = _approved(departed)
    services.payment_run(actor=departed.agency(1), region_code="110000")
    payout = Payout.objects.get()
    text = f"end_to_end_id,status,date,reason\n{payout.end_to_end_id},RJCT,2025-12-03,AC04 closed account\n"
    report = services.payments_reconcile(actor=departed.agency(1), text=text)
    assert report.rejected == 1
    payout.refresh_from_db()
    assert (payout.status, payout.amount, payout.bank_reason) == (
        "rejected",
        722_700,
        "AC04 closed account",
    )
    reversal = Payout.objects.get(reverses=payout)
    assert (reversal.kind, reversal.amount, reversal.status) == ("reversal", -722_700, "booked")
    assert not AccountClosure.objects.exists()
    late_paid = f"end_to_end_id,status,date\n{payout.end_to_end_id},ACSC,2025-12-04\n"
    refused = services.payments_reconcile(actor=departed.agency(1), text=late_paid)
    assert [e.code for e in refused.errors] == ["already_settled"]
    fresh = services.payout_reissue(actor=departed.agency(1), termination_id=app.pk)
    assert (fresh.amount, fresh.status, fresh.end_to_end_id) == (
        722_700,
        "pending",
        f"LS{app.pk:010d}N002",
    )
    with pytest.raises(Conflict):
        services.payout_reissue(actor=departed.agency(1), termination_id=app.pk)


def test_one_bad_row_and_nothing_is_applied(departed: Departed) -> None:
    _approved(departed)
    services.payment_run(actor=departed.agency(1), region_code="110000")
    payout = Payout.objects.get()
    text = (
        "end_to_end_id,status,date\n"
        f"{payout.end_to_end_id},ACSC,2025-12-03\n"
        "LS9999999999N001,ACSC,2025-12-03\n"
    )
    report = services.payments_reconcile(actor=departed.agency(1), text=text)
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (3, "end_to_end_id", "unknown_payout")
    ]
    payout.refresh_from_db()
    assert payout.status == "sent"


def test_the_daily_job_opens_departures_once(departed: Departed) -> None:
    EntryExit.objects.create(
        person=departed.person, date=date(2025, 10, 4), direction=Direction.EXIT, port="PEK"
    )
    assert services.departures_detect(actor=SYSTEM, today=date(2025, 11, 1)) == 1
    assert services.departures_detect(actor=SYSTEM, today=date(2025, 11, 2)) == 0
    case = DepartureCase.objects.get()
    assert (case.trigger, case.departure_date, case.region_code) == (
        Trigger.EXIT_RECORDED,
        date(2025, 10, 4),
        "110000",
    )
    services.departure_keep(actor=departed.actor, case_id=case.pk)
    assert services.departures_detect(actor=SYSTEM, today=date(2025, 11, 3)) == 0
    assert DepartureCase.objects.get().status == CaseStatus.KEPT


def test_bills_of_the_fixture_are_paid(departed: Departed) -> None:
    assert Bill.objects.count() == 3
