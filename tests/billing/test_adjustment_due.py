"""An adjustment bill gets its own due date: the 15th of the month after the day it is issued
(policy-facts.md, Conventions: payment due date, applied to the issue month; kept in the region's
[region.payment.adjustment] as a CONVENTION). No late fee accrues before that date."""

import copy
import dataclasses
import tomllib
from datetime import date

import pytest

from expatsi.access.actors import SYSTEM
from expatsi.billing import payments as pay
from expatsi.billing import services as billing
from expatsi.billing.models import Bill, BillKind
from expatsi.rules.dates import Month
from expatsi.rules.errors import PolicyDataError
from expatsi.rules.policy import POLICY_DIR, Status, Table
from expatsi.rules.regions import parse_region, region

AUG = Month(2025, 8)


def fen(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int(frac.ljust(2, "0"))


def test_the_rule_is_policy_data_marked_convention():
    for code in ("110000", "310000"):
        policy = region(code)
        assert (policy.adjustment_due_day, policy.adjustment_due_month_offset) == (15, 1)
        assert policy.adjustment_payment_provenance.status is Status.CONVENTION


def test_a_region_file_without_the_rule_names_the_table():
    data = copy.deepcopy(
        tomllib.loads((POLICY_DIR / "regions/110000-beijing.toml").read_text(encoding="utf-8"))
    )
    del data["region"]["payment"]["adjustment"]
    with pytest.raises(PolicyDataError) as exc:
        parse_region(Table(data, "regions/test.toml"))
    assert exc.value.field == "region.payment.adjustment"


@pytest.mark.parametrize(
    ("issued", "due"),
    [
        # Issued 20 March 2026 → the 15th of the month after: 15 April 2026.
        (date(2026, 3, 20), date(2026, 4, 15)),
        # Issued on the 1st or the 31st: still the 15th of the next month.
        (date(2026, 1, 1), date(2026, 2, 15)),
        (date(2025, 12, 31), date(2026, 1, 15)),
        # Issued before the month's own due date (15 Sep 2025): never earlier than that date.
        (date(2025, 8, 10), date(2025, 9, 15)),
    ],
)
def test_adjustment_due_date_from_the_issue_day(issued, due):
    assert region("110000").adjustment_due_date(AUG, issued) == due


def _lower_limit_raised(monkeypatch):
    """The 2025 limits are corrected after the bills went out: lower limit 7,162 → 7,500."""
    policy = region("110000")
    period = policy.period_for(AUG)
    rules = {k: dataclasses.replace(r, base_lower=fen("7500")) for k, r in period.rules.items()}
    new_period = dataclasses.replace(period, rules=rules)
    new_policy = dataclasses.replace(
        policy, periods=(policy.periods[0], new_period, *policy.periods[2:])
    )
    patched = {"110000": new_policy, "310000": region("310000")}
    monkeypatch.setattr("expatsi.rules.regions.regions", lambda: patched)


@pytest.mark.django_db
def test_a_recalculation_is_not_overdue_on_the_day_it_is_issued(
    beijing, beijing_staff, monkeypatch
):
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    regular = Bill.objects.get(kind=BillKind.REGULAR)
    assert regular.due_date == date(2025, 9, 15)
    _lower_limit_raised(monkeypatch)
    billing.billing_recalculate(
        actor=SYSTEM,
        region_code="110000",
        from_month=Month(2025, 7),
        to_month=Month(2025, 12),
        issued_on=date(2026, 3, 20),
    )
    adj = Bill.objects.get(kind=BillKind.ADJUSTMENT)
    # Bravo's base rises 7,162 → 7,500 (+338.00): employer 54.08 + 33.12 + 1.69 + 1.35 = 90.24;
    # employee 27.04 + 6.76 + 1.69 = 35.49; total 125.73.
    assert adj.total == fen("125.73")
    # Issued 20 March 2026 → due 15 April 2026, not the month's 15 Sep 2025.
    assert adj.due_date == date(2026, 4, 15)
    # On the day of issue and on the due date itself: no late fee, not overdue. (With the old
    # due date it was 186 days late on issue: 125.73 × 0.05% × 186 = 11.69.)
    for day in (date(2026, 3, 20), date(2026, 4, 15)):
        state = pay.bill_state(adj, day)
        assert (state.late_fee, state.days_overdue) == (0, 0)
    # 30 days after the due date (15 May 2026): 125.73 × 0.0005 × 30 = 1.88595 → 1.89.
    state = pay.bill_state(adj, date(2026, 5, 15))
    assert (state.days_overdue, state.late_fee) == (30, fen("1.89"))
    # The regular bill keeps its own due date.
    regular.refresh_from_db()
    assert regular.due_date == date(2025, 9, 15)


@pytest.mark.django_db
def test_a_late_declaration_adjustment_gets_its_own_due_date_too(beijing, beijing_staff):
    from expatsi.billing.models import BaseDeclaration

    _, bravo = beijing_staff
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG, issued_on=date(2025, 9, 1))
    BaseDeclaration.objects.create(
        person=bravo, employer=beijing, period_start="2025-07", wage=fen("10000")
    )
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG, issued_on=date(2025, 11, 3))
    adj = Bill.objects.get(kind=BillKind.ADJUSTMENT)
    # Issued 3 November 2025 → due 15 December 2025.
    assert adj.due_date == date(2025, 12, 15)
    assert pay.bill_state(adj, date(2025, 11, 3)).late_fee == 0
