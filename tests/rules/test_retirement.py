"""Statutory retirement age under the 2025 reform: every checkpoint of policy-facts.md 5.1."""

import copy
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expatsi.rules.dates import Month
from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.policy import POLICY_DIR, Status, Table
from expatsi.rules.retirement import (
    flexible_window,
    min_contribution_months,
    parse_minimum_rules,
    parse_retirement_rules,
    statutory_retirement,
)

MEN = ("male", 60)
WOMEN55 = ("female", 55)
WOMEN50 = ("female", 50)

# (birth, category, age years, age months). Worked by hand with the 5.1 formula, e.g. men born
# 1976-08: O = 2036-08, m = (2036 − 2025) × 12 + 7 = 139, delay = min(139 // 4 + 1, 36) = 35 → 62y11m.
CHECKPOINTS = [
    ("1965-01", MEN, 60, 1),  # m = 0 → 0 // 4 + 1 = 1
    ("1965-02", MEN, 60, 1),  # m = 1
    ("1965-03", MEN, 60, 1),  # m = 2
    ("1965-04", MEN, 60, 1),  # m = 3
    ("1965-05", MEN, 60, 2),  # m = 4 → 2
    ("1970-01", MEN, 61, 4),  # m = 60 → 16
    ("1970-01", WOMEN55, 55, 1),  # O = 2025-01, m = 0 → 1
    ("1975-01", MEN, 62, 7),  # m = 120 → 31
    ("1975-01", WOMEN55, 56, 4),  # m = 60 → 16
    ("1975-01", WOMEN50, 50, 1),  # m = 0 → 0 // 2 + 1 = 1
    ("1975-02", MEN, 62, 7),  # m = 121 → 31
    ("1975-02", WOMEN55, 56, 4),  # m = 61 → 16
    ("1975-02", WOMEN50, 50, 1),  # m = 1 → 1
    ("1975-03", MEN, 62, 7),  # m = 122 → 31
    ("1975-03", WOMEN55, 56, 4),  # m = 62 → 16
    ("1975-03", WOMEN50, 50, 2),  # m = 2 → 2
    ("1976-08", MEN, 62, 11),  # m = 139 → 35
    ("1976-08", WOMEN55, 56, 8),  # O = 2031-08, m = 79 → 20
    ("1976-08", WOMEN50, 50, 10),  # O = 2026-08, m = 19 → 10
    ("1976-09", MEN, 63, 0),  # m = 140 → 36 (cap reached)
    ("1990-06", MEN, 63, 0),  # cap
    ("1981-08", WOMEN55, 57, 11),  # O = 2036-08, m = 139 → 35
    ("1981-09", WOMEN55, 58, 0),  # m = 140 → 36 (cap)
    ("1995-01", WOMEN55, 58, 0),  # cap
    ("1984-10", WOMEN50, 54, 11),  # O = 2034-10, m = 117 → 58 + 1 = 59
    ("1984-11", WOMEN50, 55, 0),  # m = 118 → 60 (cap)
    ("2000-01", WOMEN50, 55, 0),  # cap
]


@pytest.mark.parametrize(("birth", "category", "years", "months"), CHECKPOINTS)
def test_checkpoints_of_the_reform_table(birth, category, years, months):
    sex, original = category
    r = statutory_retirement(Month.parse(birth), sex, original)
    assert (r.age_years, r.age_months) == (years, months)
    delay = (years - original) * 12 + months
    assert r.delay_months == delay
    assert r.original_retirement_month == Month.parse(birth).plus(original * 12)
    assert r.retirement_month == Month.parse(birth).plus(original * 12 + delay)


def test_retirement_month_and_minimum_contribution():
    # Men born 1976-09: O = 2036-09, + 36 months = 2039-09; minimum in 2039 = 20 years = 240.
    r = statutory_retirement(Month(1976, 9), "male")
    assert str(r.retirement_month) == "2039-09"
    assert r.min_contribution_months == 240
    # Men born 1970-01: O = 2030-01 + 16 = 2031-05; 2031 → 15 + 0.5 × 2 = 16 years = 192.
    r = statutory_retirement(Month(1970, 1), "male", 60)
    assert str(r.retirement_month) == "2031-05"
    assert r.min_contribution_months == 192
    # Women (50) born 1975-03: O = 2025-03 + 2 = 2025-05; 2025 → 180.
    r = statutory_retirement(Month(1975, 3), "female", 50)
    assert str(r.retirement_month) == "2025-05"
    assert r.min_contribution_months == 180
    assert r.status is Status.CONFIRMED
    assert any("floor(2/2)" in step for step in r.explanation)


@pytest.mark.parametrize(
    ("year", "months"),
    [
        (2000, 180),
        (2025, 180),
        (2029, 180),
        (2030, 186),
        (2031, 192),
        (2035, 216),
        (2038, 234),
        (2039, 240),
        (2045, 240),
    ],
)
def test_minimum_contribution_months_by_year(year, months):
    # 15 years to 2029; 15 + 0.5 × (Y − 2029) years from 2030; 20 years from 2039.
    assert min_contribution_months(year) == months


def test_retired_before_2025_has_no_delay():
    # Man born 1960-06: O = 2020-06 (m < 0) → 60y exactly, no delay.
    r = statutory_retirement(Month(1960, 6), "male")
    assert (r.delay_months, r.age_years, r.age_months) == (0, 60, 0)
    assert str(r.retirement_month) == "2020-06"
    assert r.min_contribution_months == 180
    # Woman (50) born 1974-12: O = 2024-12, one month before the reform: no delay.
    r = statutory_retirement(Month(1974, 12), "female", 50)
    assert (r.delay_months, str(r.retirement_month)) == (0, "2024-12")


def test_men_default_to_60_and_accept_only_60():
    assert statutory_retirement(Month(1970, 1), "male").original_age == 60
    with pytest.raises(RuleError) as exc:
        statutory_retirement(Month(1970, 1), "male", 55)
    assert exc.value.field == "original_age"
    assert "60" in exc.value.message


def test_women_need_50_or_55():
    with pytest.raises(RuleError) as exc:
        statutory_retirement(Month(1970, 1), "female")
    assert exc.value.field == "original_age"
    assert "50" in exc.value.message and "55" in exc.value.message
    with pytest.raises(RuleError, match="50, 55"):
        statutory_retirement(Month(1970, 1), "female", 60)


def test_unknown_sex_is_refused():
    with pytest.raises(RuleError) as exc:
        statutory_retirement(Month(1970, 1), "x")
    assert exc.value.field == "sex"
    assert "male" in exc.value.message


def test_flexible_window():
    # Women (50) born 1984-11: statutory 2039-11 at 55y (delay 60); earliest 36 months earlier
    # = 2036-11 at 52y (above the original 50); latest 36 months later = 2042-11 at 58y.
    w = flexible_window(Month(1984, 11), "female", 50)
    assert (str(w.earliest), w.earliest_age_years, w.earliest_age_months) == ("2036-11", 52, 0)
    assert (str(w.latest), w.latest_age_years, w.latest_age_months) == ("2042-11", 58, 0)
    assert w.earliest_min_contribution_months == 222  # 2036: 15 + 0.5 × 7 = 18.5 years
    # Men born 1965-01: statutory 2025-02 at 60y1m; early is floored at the original age 60
    # (2025-01); late: 2028-02 at 63y1m.
    w = flexible_window(Month(1965, 1), "male")
    assert (str(w.earliest), w.earliest_age_years, w.earliest_age_months) == ("2025-01", 60, 0)
    assert (str(w.latest), w.latest_age_years, w.latest_age_months) == ("2028-02", 63, 1)
    # Men born 1976-09: statutory 63y; earliest 60y exactly (2036-09), latest 66y (2042-09).
    w = flexible_window(Month(1976, 9), "male")
    assert (str(w.earliest), w.earliest_age_years) == ("2036-09", 60)
    assert (str(w.latest), w.latest_age_years) == ("2042-09", 66)


CATEGORIES = st.sampled_from([MEN, WOMEN55, WOMEN50])
BIRTHS = st.integers(min_value=Month(1940, 1).index, max_value=Month(2010, 12).index)


@given(category=CATEGORIES, birth=BIRTHS)
def test_delay_never_decreases_with_later_birth_and_never_exceeds_the_cap(category, birth):
    sex, original = category
    cap = 60 if original == 50 else 36
    a = statutory_retirement(Month.from_index(birth), sex, original)
    b = statutory_retirement(Month.from_index(birth + 1), sex, original)
    assert 0 <= a.delay_months <= b.delay_months <= cap
    assert b.delay_months - a.delay_months <= 1  # at most one month per month of birth
    assert b.retirement_month > a.retirement_month
    earliest = flexible_window(Month.from_index(birth), sex, original).earliest
    assert a.original_retirement_month <= earliest <= a.retirement_month


RETIREMENT = tomllib.loads((POLICY_DIR / "national/retirement.toml").read_text(encoding="utf-8"))
MINIMUM = tomllib.loads((POLICY_DIR / "national/min_contribution.toml").read_text(encoding="utf-8"))


def test_a_cap_inconsistent_with_the_target_age_is_refused():
    data = copy.deepcopy(RETIREMENT)
    data["category"][0]["cap_months"] = 24
    with pytest.raises(PolicyDataError) as exc:
        parse_retirement_rules(Table(data, "national/retirement.toml"))
    assert exc.value.file == "national/retirement.toml"
    assert exc.value.field == "category[0].target_age"


def test_a_gap_in_minimum_contribution_years_is_refused():
    data = copy.deepcopy(MINIMUM)
    data["minimum"][2]["first_year"] = 2032  # row 1 ends in 2030: 2031 is left uncovered
    data["minimum"][2]["last_year"] = 2032
    with pytest.raises(PolicyDataError) as exc:
        parse_minimum_rules(Table(data, "national/min_contribution.toml"))
    assert exc.value.field == "minimum[2].first_year"


def test_a_falling_minimum_is_refused():
    data = copy.deepcopy(MINIMUM)
    data["minimum"][3]["months"] = 150
    with pytest.raises(PolicyDataError, match="below the previous"):
        parse_minimum_rules(Table(data, "national/min_contribution.toml"))
