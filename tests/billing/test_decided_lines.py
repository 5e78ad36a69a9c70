"""What a decision decided stays decided: a second correction of the same line replaces the first
(it does not reverse the original amounts a second time), and a later recalculation of the month
leaves the decided amounts alone while it still adjusts everything else."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps as django_apps

from expatsi.access.actors import SYSTEM, Actor
from expatsi.billing import services as billing
from expatsi.billing.corrections import LineCorrection, correction_post
from expatsi.billing.models import BaseDeclaration, Bill, BillKind, BillLine
from expatsi.employers.models import Employer
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from tests.cases.conftest import bill, person

pytestmark = pytest.mark.django_db
STAFF_SH = Actor("agency", None, "officer-sh", regions=frozenset({"310000"}))
STAFF_BJ = Actor("agency", None, "officer-bj", regions=frozenset({"110000"}))
AUG = Month(2025, 8)


def position(employer_id: int, person_id: int, insurance: int, month: str) -> tuple[int, int]:
    """What the employer owes for one person's insurance in a month: the sum of every entry."""
    rows = BillLine.objects.filter(
        bill__employer_id=employer_id,
        bill__month=month,
        person_id=person_id,
        insurance=insurance,
    ).values_list("employer_amount", "employee_amount")
    return sum(r[0] for r in rows), sum(r[1] for r in rows)


def test_a_second_decision_replaces_the_first() -> None:
    """Pension billed 4,800.00 / 2,400.00; mediation decides 3,200.00 / 1,600.00; the appeal decides
    3,000.00 / 1,500.00. The second correction reverses what stands (3,200.00 / 1,600.00), so the
    month ends at the appeal's figures — not at 1,400.00 / 700.00, which reversing the original
    line a second time gave."""
    sh = Employer.objects.create(name="Pujiang", uscc="91310000MA1FL8X3P0", region_code="310000")
    p = person("Ortiz", "ESP")
    b = bill(
        sh,
        "2025-08",
        date(2025, 9, 15),
        lines=[
            {"person": p, "insurance": 0, "employer_amount": 480_000, "employee_amount": 240_000}
        ],
    )
    line = b.lines.get()
    correction_post(
        actor=STAFF_SH,
        employer_id=sh.pk,
        lines=[LineCorrection(line.pk, 320_000, 160_000, 2_000_000)],
        reason="mediation agreement",
    )
    second = correction_post(
        actor=STAFF_SH,
        employer_id=sh.pk,
        lines=[LineCorrection(line.pk, 300_000, 150_000)],
        reason="appeal",
    )
    assert position(sh.pk, p.pk, 0, "2025-08") == (300_000, 150_000)
    assert (second.bill.employer_total, second.bill.employee_total) == (-20_000, -10_000)
    reversal = second.bill.lines.order_by("pk").first()
    assert reversal is not None
    assert (reversal.employer_amount, reversal.employee_amount) == (-320_000, -160_000)
    assert reversal.base == 2_000_000  # the base the first decision set, not the original
    # Deciding again what already stands is refused, whichever entry is named.
    with pytest.raises(RuleError) as err:
        correction_post(
            actor=STAFF_SH,
            employer_id=sh.pk,
            lines=[LineCorrection(line.pk, 300_000, 150_000)],
            reason="again",
        )
    assert err.value.code == "nothing_to_correct"


def test_a_recalculation_keeps_what_a_decision_decided(beijing, beijing_staff) -> None:
    """Bravo's August pension is decided at 1,000.00 / 500.00; then a late declaration raises his
    wage to 10,000.00. The month's re-run adjusts his medical, unemployment and work injury lines
    (the declaration changed them) but not the decided pension."""
    _, bravo = beijing_staff
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    pension = BillLine.objects.get(person=bravo, insurance=0, bill__kind=BillKind.REGULAR)
    correction_post(
        actor=STAFF_BJ,
        employer_id=beijing.pk,
        lines=[LineCorrection(pension.pk, 100_000, 50_000)],
        reason="arbitration award",
    )
    BaseDeclaration.objects.create(
        person=bravo, employer=beijing, period_start="2025-07", wage=1_000_000
    )
    result = billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    assert result.adjustment_bills == 1
    adj = Bill.objects.get(kind=BillKind.ADJUSTMENT, run__isnull=False)
    assert sorted(adj.lines.values_list("insurance", flat=True)) == [1, 2, 3]
    assert position(beijing.pk, bravo.pk, 0, "2025-08") == (100_000, 50_000)
    # medical at 10,000.00: 9.8% 980.00 / 2% 203.00 (incl. the 3.00 serious-illness part)
    assert position(beijing.pk, bravo.pk, 1, "2025-08") == (98_000, 20_300)
    again = billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    assert (again.adjustment_bills, again.lines) == (0, 0)


def test_corrections_posted_before_the_flag_are_marked_by_the_migration() -> None:
    """Entries of a correction written before FLAG_DECIDED existed get it from migration 0006;
    the bill they corrected keeps its flags."""
    sh = Employer.objects.create(name="Pujiang", uscc="91310000MA1FL8X3P0", region_code="310000")
    p = person("Ortiz", "ESP")
    b = bill(
        sh,
        "2025-08",
        date(2025, 9, 15),
        lines=[
            {"person": p, "insurance": 0, "employer_amount": 480_000, "employee_amount": 240_000}
        ],
    )
    done = correction_post(
        actor=STAFF_SH,
        employer_id=sh.pk,
        lines=[LineCorrection(b.lines.get().pk, 320_000, 160_000)],
        reason="court judgment",
    )
    done.bill.lines.update(flags=0)  # as the entries were written before the flag
    migration = importlib.import_module("expatsi.billing.migrations.0006_decided_lines")
    migration.mark(django_apps, None)
    assert set(done.bill.lines.values_list("flags", flat=True)) == {BillLine.FLAG_DECIDED}
    assert b.lines.get().flags == 0
