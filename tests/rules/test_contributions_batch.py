"""The batch path must give exactly the scalar path's fen, for any input the scalar path accepts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expatsi.rules.agreements import work_injury_classes
from expatsi.rules.contributions import contributions_batch, exemption_masks, person_month
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.regions import INSURANCES, regions

REGION_MONTHS = [
    (code, month)
    for code, policy in regions().items()
    for period in policy.periods
    for month in (
        period.span.first,
        period.span.first.plus(5),
        period.span.last or period.span.first,
    )
]


def valid_rates(code: str) -> list[int]:
    factor = regions()[code].work_injury_factor
    return sorted(
        {
            c.base_rate * g // 10**6 * factor // 10**6
            for c in work_injury_classes()
            for g in c.grades
        }
    )


wages = st.integers(min_value=0, max_value=20_000_000)  # up to 200,000 yuan: below, within, above
nationalities = st.sampled_from(
    ["DEU", "JPN", "KOR", "DNK", "USA", "GBR", "KGZ", "FRA", "ESP", "CHE"]
)


@st.composite
def cohorts(draw):
    code, month = draw(st.sampled_from(REGION_MONTHS))
    n = draw(st.integers(min_value=1, max_value=25))
    people = draw(
        st.lists(
            st.tuples(wages, st.sampled_from(valid_rates(code)), nationalities, st.booleans()),
            min_size=n,
            max_size=n,
        )
    )
    return code, month, people


@settings(max_examples=150, deadline=None)
@given(cohorts())
def test_batch_equals_scalar(cohort):
    code, month, people = cohort
    w = np.array([p[0] for p in people], dtype=np.int64)
    wi = np.array([p[1] for p in people], dtype=np.int64)
    nat = np.array([p[2] for p in people])
    cert = np.array([p[3] for p in people], dtype=np.bool_)
    batch = contributions_batch(
        region_code=code,
        month=month,
        wages=w,
        work_injury_rates=wi,
        exempt=exemption_masks(month, nat, cert),
    )
    for i, (wage, rate, nationality, certificate) in enumerate(people):
        one = person_month(
            region_code=code,
            month=month,
            wage=wage,
            work_injury_rate=rate,
            nationality=nationality,
            coverage_certificate=certificate,
        )
        for line in one.lines:
            assert int(batch.base[line.insurance][i]) == line.base
            assert int(batch.employer[line.insurance][i]) == line.employer
            assert int(batch.employee[line.insurance][i]) == line.employee
        assert int(batch.employer_total[i]) == one.employer_total
        assert int(batch.employee_total[i]) == one.employee_total


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(REGION_MONTHS), wages, wages)
def test_amounts_never_decrease_as_the_wage_rises(region_month, a, b):
    code, month = region_month
    lo, hi = sorted((a, b))
    r_lo = person_month(region_code=code, month=month, wage=lo)
    r_hi = person_month(region_code=code, month=month, wage=hi)
    for x, y in zip(r_lo.lines, r_hi.lines, strict=True):
        assert x.employer <= y.employer
        assert x.employee <= y.employee
        assert x.base <= y.base


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(REGION_MONTHS), wages)
def test_base_always_within_limits(region_month, wage):
    code, month = region_month
    period = regions()[code].period_for(month)
    for line in person_month(region_code=code, month=month, wage=wage).lines:
        rule = period.rules[line.insurance]
        assert rule.base_lower <= line.base <= rule.base_upper
        if rule.base_lower <= wage <= rule.base_upper:
            assert line.base == wage


def test_batch_rejects_negative_wages_naming_the_row():
    with pytest.raises(RuleError, match="row 2") as exc:
        contributions_batch(
            region_code="110000", month=Month(2025, 8), wages=np.array([1, 2, -3, 4])
        )
    assert exc.value.field == "wage"


def test_batch_rejects_out_of_range_work_injury_rates():
    with pytest.raises(RuleError, match="row 1"):
        contributions_batch(
            region_code="110000",
            month=Month(2025, 8),
            wages=np.array([100, 200]),
            work_injury_rates=np.array([2_000, 90_000]),
        )


def test_batch_keeps_every_insurance_and_row():
    b = contributions_batch(
        region_code="310000", month=Month(2024, 8), wages=np.arange(0, 5_000_000, 1000)
    )
    assert set(b.employer) == set(INSURANCES)
    assert all(len(b.employer[i]) == 5000 for i in INSURANCES)
