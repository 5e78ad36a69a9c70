"""Every bill carries the policy it was built on and the status of its figures, recorded at issue:
golden statuses worked by hand from shared/policy-facts.md; explanations from the bill's own
policy; a recalculation after a new notice shows old → new with both sources."""

import dataclasses
from datetime import date

import pytest

from expatsi.access.actors import SYSTEM
from expatsi.billing import exports, provenance
from expatsi.billing import services as billing
from expatsi.billing.models import Bill, BillKind, BillLine
from expatsi.employers.models import Employer
from expatsi.insurance.models import CoverageCertificate
from expatsi.rules.dates import Month
from expatsi.rules.policy import Provenance, Status
from expatsi.rules.regions import region

from .conftest import employ, make_person

SEP24, AUG25, OCT26 = Month(2024, 9), Month(2025, 8), Month(2026, 10)


def fen(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int(frac.ljust(2, "0"))


def covers(bill):
    return {c: f["status"] for f in bill.policy_sources["figures"] for c in f["covers"]}


@pytest.mark.django_db
def test_a_bill_on_confirmed_figures_is_confirmed(beijing, beijing_staff):
    # Beijing 2024–25: limits 京人社发〔2024〕12号 and every rate (Forvis Mazars 2024) CONFIRMED;
    # Alpha is exempt under the German agreement, CONFIRMED; the employer is rated (class II).
    billing.billing_run(actor=SYSTEM, region_code="110000", month=SEP24)
    bill = Bill.objects.get(month="2024-09")
    assert bill.policy_status == "CONFIRMED"
    assert covers(bill) == {
        "limits": "CONFIRMED",
        "pension": "CONFIRMED",
        "medical": "CONFIRMED",
        "unemployment": "CONFIRMED",
        "work_injury": "CONFIRMED",
        "maternity": "CONFIRMED",
        "agreement:DEU": "CONFIRMED",
    }
    # The due date is a CONVENTION, listed apart: it decides the late fee, not the amounts.
    assert bill.policy_sources["due_date"]["status"] == "CONVENTION"
    assert bill.policy_sources["due_date"]["rule"] == "regular"
    assert bill.policy.period_first == "2024-07"


@pytest.mark.django_db
def test_a_provisional_period_makes_the_bill_unconfirmed(beijing, beijing_staff):
    # Beijing 2026–27 is carried forward until the 2026 notice: everything UNCONFIRMED.
    billing.billing_run(actor=SYSTEM, region_code="110000", month=OCT26)
    bill = Bill.objects.get(month="2026-10")
    assert bill.policy_status == "UNCONFIRMED"
    (provisional,) = [f for f in bill.policy_sources["figures"] if "limits" in f["covers"]]
    assert provisional["source"].startswith("Provisional: the 2025–26 limits")
    assert {"pension", "medical", "unemployment"} <= set(
        next(f for f in bill.policy_sources["figures"] if "pension" in f["covers"])["covers"]
    )


@pytest.mark.django_db
def test_shanghai_2024_is_secondary(shanghai):
    # Shanghai 2024–25: limits, pension, unemployment, work injury CONFIRMED; medical including
    # maternity 9% / 2% SECONDARY (policy-facts.md 3.3, "please check").
    employ(make_person("Charlie", "GBR"), shanghai, 50000)
    billing.billing_run(actor=SYSTEM, region_code="310000", month=SEP24)
    bill = Bill.objects.get(employer=shanghai)
    assert bill.policy_status == "SECONDARY"
    assert covers(bill)["medical"] == covers(bill)["maternity"] == "SECONDARY"
    assert covers(bill)["pension"] == "CONFIRMED"


@pytest.mark.django_db
def test_an_assumed_work_injury_rate_is_a_convention():
    # No rating on file: the class I benchmark is assumed (a CONVENTION); everything else of
    # Beijing 2024–25 is CONFIRMED, so the bill is CONVENTION.
    employer = Employer.objects.create(
        name="Unrated Co.", uscc="91110108MA01ABCD3X", region_code="110000"
    )
    employ(make_person("Foxtrot", "USA"), employer, 20000)
    billing.billing_run(actor=SYSTEM, region_code="110000", month=SEP24)
    bill = Bill.objects.get(employer=employer)
    assert bill.policy_status == "CONVENTION"
    assert covers(bill)["work_injury_default"] == "CONVENTION"
    line = bill.lines.get(insurance=3)
    assert provenance.line_status(bill, "work_injury", line.flags, "USA") == "CONVENTION"
    assert provenance.line_status(bill, "pension", 0, "USA") == "CONFIRMED"


@pytest.mark.django_db
def test_a_swiss_exemption_rests_on_a_secondary_agreement(beijing):
    # China–Switzerland: in-force date conflicts (19 Jun vs 1 Jun 2017): SECONDARY.
    golf = make_person("Golf", "CHE")
    CoverageCertificate.objects.create(
        person=golf,
        number="CH-1",
        country="CHE",
        valid_from=date(2024, 1, 1),
        valid_to=date(2027, 12, 31),
    )
    employ(golf, beijing, 30000)
    billing.billing_run(actor=SYSTEM, region_code="110000", month=SEP24)
    bill = Bill.objects.get(employer=beijing)
    assert bill.policy_status == "SECONDARY"
    assert covers(bill)["agreement:CHE"] == "SECONDARY"
    pension = bill.lines.get(insurance=0)
    assert pension.flags & BillLine.FLAG_EXEMPT
    assert provenance.line_status(bill, "pension", pension.flags, "CHE") == "SECONDARY"
    assert provenance.line_status(bill, "medical", 0, "CHE") == "CONFIRMED"


def _new_notice(monkeypatch, lower="7500"):
    """A 2025 notice arrives: the limits are confirmed, the lower limit 7,162 → 7,500."""
    policy = region("110000")
    period = policy.period_for(AUG25)
    notice = Provenance(
        Status.CONFIRMED, "京人社发〔2025〕99号 (test notice) https://example.org/n99"
    )
    rules = {
        k: dataclasses.replace(r, base_lower=fen(lower), provenance=notice)
        for k, r in period.rules.items()
    }
    new_period = dataclasses.replace(period, rules=rules, provenance=notice)
    periods = tuple(new_period if p is period else p for p in policy.periods)
    patched = {"110000": dataclasses.replace(policy, periods=periods), "310000": region("310000")}
    monkeypatch.setattr("expatsi.rules.regions.regions", lambda: patched)


@pytest.mark.django_db
def test_status_and_explanation_stay_with_the_bill_when_todays_policy_changes(
    beijing, beijing_staff, monkeypatch
):
    _, bravo = beijing_staff
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG25)
    bill = Bill.objects.get(month="2025-08")
    assert bill.policy_status == "UNCONFIRMED"  # 2025–26 rates unseen
    _new_notice(monkeypatch)
    bill.refresh_from_db()
    assert bill.policy_status == "UNCONFIRMED"
    recorded = provenance.recorded_policy(bill)
    assert recorded.recorded and recorded.rules["pension"].base_lower == fen("7162")
    line = bill.lines.get(person=bravo, insurance=0)
    # Bravo earns 5,000: raised to the lower limit of the bill's own policy, 7,162.00 (not 7,500);
    # 16% of 7,162.00 = 1,145.92 and 8% = 572.96.
    text = exports.line_explanation(line, recorded)
    assert "limits ¥7,162.00–¥35,811.00" in text
    assert "Employer 16% of ¥7,162.00 = ¥1,145.92." in text
    assert "Employee 8% of ¥7,162.00 = ¥572.96." in text
    assert "7,500" not in text
    # Medical: employee 2% of 7,162.00 = 143.24, plus the fixed 3.00 = 146.24.
    medical = bill.lines.get(person=bravo, insurance=1)
    assert "Employee 2% of ¥7,162.00 + ¥3.00 = ¥146.24." in exports.line_explanation(
        medical, recorded
    )


@pytest.mark.django_db
def test_a_recalculation_after_a_new_notice_shows_old_and_new_with_both_sources(
    beijing, beijing_staff, monkeypatch
):
    _, bravo = beijing_staff
    billing.billing_run(actor=SYSTEM, region_code="110000", month=AUG25)
    _new_notice(monkeypatch)
    billing.billing_recalculate(
        actor=SYSTEM,
        region_code="110000",
        from_month=AUG25,
        to_month=AUG25,
        issued_on=date(2026, 3, 20),
    )
    adj = Bill.objects.get(kind=BillKind.ADJUSTMENT)
    # The new notice confirms every figure; Alpha's German exemption is CONFIRMED too.
    assert adj.policy_status == "CONFIRMED"
    assert adj.policy_sources["due_date"]["rule"] == "adjustment"
    policy = provenance.bill_policy(adj)
    (before,) = policy.earlier
    assert before.status == "UNCONFIRMED"
    assert any(f.source.startswith("No 2025 rate notice seen") for f in before.figures)
    assert any(f.url == "https://example.org/n99" for f in policy.figures)
    line = adj.lines.get(person=bravo, insurance=0)
    text = exports.bill_context(adj).explanation(line)
    # Base 7,162.00 → 7,500.00; employer 1,145.92 → 16% of 7,500.00 = 1,200.00 (+54.08);
    # employee 572.96 → 8% of 7,500.00 = 600.00 (+27.04).
    assert (
        "Pension, corrected: base ¥7,162.00 → ¥7,500.00; employer ¥1,145.92 → ¥1,200.00 "
        "(+¥54.08); employee ¥572.96 → ¥600.00 (+¥27.04)." in text
    )
    assert "Employer 16% of ¥7,500.00 = ¥1,200.00." in text
