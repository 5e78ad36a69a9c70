"""billing.corrections: a decided correction is reversing and new entries on a new adjustment
bill, posted by agency staff of the region; what it refuses."""

from __future__ import annotations

from datetime import date

import pytest

from expatsi.access.actors import Actor
from expatsi.billing.corrections import LineCorrection, correction_post
from expatsi.billing.models import Bill
from expatsi.employers.models import Employer
from expatsi.rules.errors import Forbidden, NotFound, RuleError
from tests.cases.conftest import bill, person

pytestmark = pytest.mark.django_db
STAFF_SH = Actor("agency", None, "officer-sh", regions=frozenset({"310000"}))
STAFF_BJ = Actor("agency", None, "officer-bj", regions=frozenset({"110000"}))


@pytest.fixture
def sh() -> Employer:
    return Employer.objects.create(name="Pujiang", uscc="91310000MA1FL8X3P0", region_code="310000")


@pytest.fixture
def sh2() -> Employer:
    return Employer.objects.create(name="Huangpu", uscc="91310115MA1H7GQ2T0", region_code="310000")


def test_two_lines_reversed_and_entered_again(sh: Employer) -> None:
    """Pension (16% / 8%) and medical (9.5% / 2%, here 285,000 / 60,000 fen on ¥30,000.00) of
    one person; decided base ¥20,000.00: pension 320,000 / 160,000, medical 190,000 / 40,000.
    Totals: employer (320,000 + 190,000) − (480,000 + 285,000) = −255,000; employee
    (160,000 + 40,000) − (240,000 + 60,000) = −100,000."""
    p = person("Ortiz", "ESP")
    b = bill(
        sh,
        "2025-08",
        date(2025, 9, 15),
        lines=[
            {"person": p, "insurance": 0, "employer_amount": 480_000, "employee_amount": 240_000},
            {"person": p, "insurance": 1, "employer_amount": 285_000, "employee_amount": 60_000},
        ],
    )
    pension, medical = b.lines.order_by("insurance")
    done = correction_post(
        actor=STAFF_SH,
        employer_id=sh.pk,
        lines=[
            LineCorrection(pension.pk, 320_000, 160_000, 2_000_000),
            LineCorrection(medical.pk, 190_000, 40_000, 2_000_000),
        ],
        reason="court judgment",
    )
    assert (done.bill.employer_total, done.bill.employee_total) == (-255_000, -100_000)
    assert done.net_fen == -355_000
    amounts = list(
        done.bill.lines.order_by("pk").values_list(
            "insurance", "employer_amount", "employee_amount"
        )
    )
    assert amounts == [
        (0, -480_000, -240_000),
        (0, 320_000, 160_000),
        (1, -285_000, -60_000),
        (1, 190_000, 40_000),
    ]
    second = correction_post(
        actor=STAFF_SH,
        employer_id=sh.pk,
        lines=[LineCorrection(pension.pk, 300_000, 150_000)],
        reason="appeal",
    )
    assert second.bill.number.endswith("-C2")


def test_what_a_correction_refuses(sh: Employer, sh2: Employer) -> None:
    p = person("Ortiz", "ESP")
    aug = bill(sh, "2025-08", date(2025, 9, 15), lines=[{"person": p, "employer_amount": 100}])
    sep = bill(sh, "2025-09", date(2025, 10, 15), lines=[{"person": p, "employer_amount": 100}])
    a, s = aug.lines.get(), sep.lines.get()
    with pytest.raises(Forbidden):
        correction_post(
            actor=STAFF_BJ, employer_id=sh.pk, lines=[LineCorrection(a.pk, 0, 0)], reason="x"
        )
    with pytest.raises(NotFound):  # a line of another employer
        correction_post(
            actor=STAFF_SH, employer_id=sh2.pk, lines=[LineCorrection(a.pk, 0, 0)], reason="x"
        )
    with pytest.raises(RuleError, match="more than one month"):
        correction_post(
            actor=STAFF_SH,
            employer_id=sh.pk,
            lines=[LineCorrection(a.pk, 0, 0), LineCorrection(s.pk, 0, 0)],
            reason="x",
        )
    with pytest.raises(RuleError, match="already says"):
        correction_post(
            actor=STAFF_SH, employer_id=sh.pk, lines=[LineCorrection(a.pk, 100, 0)], reason="x"
        )
    with pytest.raises(RuleError, match="reason"):
        correction_post(
            actor=STAFF_SH, employer_id=sh.pk, lines=[LineCorrection(a.pk, 0, 0)], reason=" "
        )
    with pytest.raises(RuleError):
        correction_post(
            actor=STAFF_SH, employer_id=sh.pk, lines=[LineCorrection(a.pk, -1, 0)], reason="x"
        )
    assert Bill.objects.filter(employer=sh).count() == 2
