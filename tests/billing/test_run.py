"""Golden bills worked by hand from the policy tables, retroactive changes, idempotency."""

import dataclasses
from datetime import date

import pytest
from django.db import connection

from expatsi.access.actors import SYSTEM
from expatsi.billing import services as billing
from expatsi.billing.models import BaseDeclaration, Bill, BillKind, BillLine
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.regions import region

from .conftest import employ, make_person

AUG = Month(2025, 8)


def fen(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int(frac.ljust(2, "0"))


def lines_of(bill):
    return {
        (line.person.family_name, line.insurance): (
            line.base,
            line.employer_amount,
            line.employee_amount,
            bool(line.flags & BillLine.FLAG_EXEMPT),
        )
        for line in bill.lines.select_related("person")
    }


@pytest.mark.django_db
def test_golden_beijing_bill(beijing, beijing_staff):
    result = billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    assert (result.regular_bills, result.adjustment_bills) == (1, 0)
    bill = Bill.objects.get(employer=beijing, month="2025-08")
    got = lines_of(bill)
    # Alpha (DEU, certificate): base 30,000; pension + unemployment exempt; medical 9.8% = 2,940.00,
    # 2% + 3 = 603.00; work injury 0.4% = 120.00
    assert got[("Alpha", 0)] == (fen("30000"), 0, 0, True)
    assert got[("Alpha", 1)] == (fen("30000"), fen("2940"), fen("603"), False)
    assert got[("Alpha", 2)] == (fen("30000"), 0, 0, True)
    assert got[("Alpha", 3)] == (fen("30000"), fen("120"), 0, False)
    # Bravo: wage 5,000 below the 7,162 floor; pension 1,145.92 / 572.96; medical 701.876 → 701.88,
    # 143.24 + 3 = 146.24; unemployment 35.81 / 35.81; work injury 28.648 → 28.65
    assert got[("Bravo", 0)] == (fen("7162"), fen("1145.92"), fen("572.96"), False)
    assert got[("Bravo", 1)] == (fen("7162"), fen("701.88"), fen("146.24"), False)
    assert got[("Bravo", 2)] == (fen("7162"), fen("35.81"), fen("35.81"), False)
    assert got[("Bravo", 3)] == (fen("7162"), fen("28.65"), 0, False)
    assert got[("Bravo", 4)][1:3] == (0, 0)  # maternity merged into medical
    assert bill.employer_total == fen("4972.26")  # 3,060.00 + 1,912.26
    assert bill.employee_total == fen("1358.01")  # 603.00 + 755.01
    assert bill.due_date == date(2025, 9, 15)
    assert bill.policy_version.startswith("110000:2025-07:")


@pytest.mark.django_db
def test_a_bill_records_who_it_bills_for_medical_insurance(beijing, beijing_staff):
    """The pair the compliance check "months not billed" trusts instead of the lines: on
    PostgreSQL, the number of medical lines of the bill and the sum of PostgreSQL's hash of their
    people, exactly as counted from the lines; an adjustment bill carries none (it is counted
    from its lines). SQLite bills carry none."""
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    bill = Bill.objects.get(employer=beijing, month="2025-08")
    if connection.vendor != "postgresql":
        assert (bill.medical_people, bill.medical_hash) == (None, None)
        return
    with connection.cursor() as c:
        c.execute(
            "SELECT COUNT(*), SUM(hashint8extended(person_id, 0)) FROM billing_billline"
            " WHERE bill_id = %s AND insurance = 1",
            [bill.pk],
        )
        assert (bill.medical_people, bill.medical_hash) == c.fetchone()
    assert bill.medical_people == 2  # Alpha and Bravo
    _, bravo = beijing_staff
    BaseDeclaration.objects.create(
        person=bravo, employer=beijing, period_start="2025-07", wage=fen("10000")
    )
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    adjustment = Bill.objects.get(kind=BillKind.ADJUSTMENT)
    assert (adjustment.medical_people, adjustment.medical_hash) == (None, None)


@pytest.mark.django_db
def test_golden_shanghai_bill(shanghai):
    employ(make_person("Charlie", "GBR"), shanghai, 50000)
    billing.billing_run(actor=SYSTEM, region_code="310000", month=Month(2024, 9))
    bill = Bill.objects.get(employer=shanghai)
    # Capped at 36,921: pension 5,907.36 / 2,953.68; medical 9% 3,322.89 / 2% 738.42;
    # unemployment 184.605 → 184.61 each; work injury 0.16% = 59.0736 → 59.07
    assert bill.employer_total == fen("9473.93")
    assert bill.employee_total == fen("3876.71")


@pytest.mark.django_db
def test_a_second_run_is_a_no_op(beijing, beijing_staff):
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    before = (Bill.objects.count(), BillLine.objects.count())
    again = billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    assert (again.regular_bills, again.adjustment_bills, again.lines) == (0, 0, 0)
    assert (Bill.objects.count(), BillLine.objects.count()) == before


@pytest.mark.django_db
def test_a_late_declaration_produces_exactly_the_difference(beijing, beijing_staff):
    _, bravo = beijing_staff
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    BaseDeclaration.objects.create(
        person=bravo, employer=beijing, period_start="2025-07", wage=fen("10000")
    )
    result = billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    assert (result.regular_bills, result.adjustment_bills) == (0, 1)
    adj = Bill.objects.get(kind=BillKind.ADJUSTMENT)
    got = {line.insurance: (line.employer_amount, line.employee_amount) for line in adj.lines.all()}
    # 10,000 now: pension 1,600 / 800 (was 1,145.92 / 572.96); medical 980 / 203 (701.88 / 146.24);
    # unemployment 50 / 50 (35.81); work injury 40 (28.65)
    assert got == {
        0: (fen("454.08"), fen("227.04")),
        1: (fen("278.12"), fen("56.76")),
        2: (fen("14.19"), fen("14.19")),
        3: (fen("11.35"), 0),
    }
    assert adj.employer_total == fen("757.74")
    assert adj.employee_total == fen("297.99")
    note = adj.lines.get(insurance=0).note
    assert "7162.00 → 10000.00" in note and "1145.92 → 1600.00" in note
    # The regular bill was not touched.
    regular = Bill.objects.get(kind=BillKind.REGULAR)
    assert regular.employer_total == fen("4972.26")


@pytest.mark.django_db
def test_a_retroactive_policy_change_produces_exactly_the_difference(
    beijing, beijing_staff, monkeypatch
):
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    # The 2025 limits are corrected: lower limit 7,162 → 7,500 (Bravo's base rises by 338.00).
    policy = region("110000")
    period = policy.period_for(AUG)
    rules = {k: dataclasses.replace(r, base_lower=fen("7500")) for k, r in period.rules.items()}
    new_period = dataclasses.replace(period, rules=rules)
    new_policy = dataclasses.replace(policy, periods=(policy.periods[0], new_period))
    patched = {"110000": new_policy, "310000": region("310000")}
    monkeypatch.setattr("expatsi.rules.regions.regions", lambda: patched)
    results = billing.billing_recalculate(
        actor=SYSTEM, region_code="110000", from_month=Month(2025, 7), to_month=Month(2025, 12)
    )
    assert sum(r.adjustment_bills for r in results) == 1
    adj = Bill.objects.get(kind=BillKind.ADJUSTMENT)
    got = {line.insurance: (line.employer_amount, line.employee_amount) for line in adj.lines.all()}
    # 338.00 more base: pension 16% 54.08 / 8% 27.04; medical 9.8% 33.124 → 33.12 and 2% 6.76;
    # unemployment 0.5% 1.69 / 1.69; work injury 0.4% 1.352 → 30.00 − 28.65 = 1.35
    assert got == {
        0: (fen("54.08"), fen("27.04")),
        1: (fen("33.12"), fen("6.76")),
        2: (fen("1.69"), fen("1.69")),
        3: (fen("1.35"), 0),
    }
    assert "recalculated with policy" in adj.reason


@pytest.mark.django_db
def test_a_month_with_no_policy_is_refused(beijing, beijing_staff):
    with pytest.raises(RuleError) as exc:
        billing.billing_run(actor=SYSTEM, region_code="110000", month=Month(2030, 1))
    assert exc.value.code == "no_policy_for_month"
    assert Bill.objects.count() == 0


@pytest.mark.django_db
def test_who_is_billed_when_changing_employer_mid_month(beijing, shanghai):
    p = make_person("Delta")
    employ(p, beijing, 20000, start=date(2024, 1, 1), end=date(2025, 8, 14))
    employ(p, shanghai, 20000, start=date(2025, 8, 15))
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    billing.billing_run(actor=SYSTEM, region_code="310000", month=AUG)
    billing.billing_run(actor=SYSTEM, region_code="310000", month=Month(2025, 9))
    # The old employer pays August; the new one starts in September.
    assert Bill.objects.filter(employer=beijing, month="2025-08").exists()
    assert not Bill.objects.filter(employer=shanghai, month="2025-08").exists()
    assert Bill.objects.filter(employer=shanghai, month="2025-09").exists()


@pytest.mark.django_db
def test_an_employment_ended_retroactively_is_credited_back(beijing, beijing_staff):
    _, bravo = beijing_staff
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    bravo.employments.update(end_date=date(2025, 7, 31))
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    adj = Bill.objects.get(kind=BillKind.ADJUSTMENT)
    assert adj.employer_total == -fen("1912.26")
    assert adj.employee_total == -fen("755.01")
