"""Monthly pension award: golden values worked by hand from policy-facts.md 6.2 and 6.3."""

import copy
import tomllib
from decimal import Decimal
from fractions import Fraction

import pytest

from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.pension import (
    calculation_base,
    months_divisor,
    parse_age,
    parse_divisor_table,
    parse_index,
    pension_award,
)
from expatsi.rules.policy import POLICY_DIR, Status, Table

YUAN = 100


def award(**overrides):
    args = {
        "region": "110000",
        "year": 2025,
        "contribution_months": 180,
        "index": "1.0",
        "balance_fen": 100_000 * YUAN,
        "age_months": 720,
    }
    args.update(overrides)
    return pension_award(**args)


def test_beijing_2025_index_1_at_60():
    # Basic: (12,049 + 12,049 × 1.0) / 2 × 180/12 × 1% = 12,049 × 15 × 0.01 = 1,807.35.
    # Account: 100,000.00 / 139 = 719.4244… → 719.42. Total 2,526.77.
    a = award()
    assert (a.basic_pension, a.account_pension, a.total) == (180_735, 71_942, 252_677)
    assert a.divisor.text == "139"
    assert a.status is Status.SECONDARY  # the Beijing base is SECONDARY; divisor CONFIRMED
    assert len(a.steps) == 7
    assert "1807.35" in a.steps[3] and "719.42" in a.steps[5]


def test_a_higher_index_and_a_fractional_number_of_years():
    # Own wage 12,049 × 1.2 = 14,458.80; (12,049 + 14,458.80) / 2 = 13,253.90;
    # × 200/12 years × 1% = 13,253.90 / 6 = 2,208.9833… → 2,208.98.
    a = award(index="1.2", contribution_months=200)
    assert a.basic_pension == 220_898
    assert "14458.80" in a.steps[1]


def test_shenzhen_index_0_6_with_181_months():
    # Own wage 11,293 × 0.6 = 6,775.80; (11,293 + 6,775.80) / 2 = 9,034.40;
    # × 181 / 1,200 = 1,635,226.40 / 1,200 = 1,362.6886… → 1,362.69.
    a = award(region="440300", index="0.6", contribution_months=181, balance_fen=0)
    assert (a.basic_pension, a.account_pension, a.total) == (136_269, 0, 136_269)


def test_fractional_age_interpolates_the_divisor():
    # 60y3m: 139 + (132 − 139) × 3/12 = 137.25 → 137.3 (half up); 100,000.00 / 137.3 = 728.3321…
    # → 728.33.
    a = award(age_months=723)
    assert a.divisor.value == Fraction(1373, 10)
    assert a.divisor.text == "137.3"
    assert a.account_pension == 72_833
    assert a.status is Status.CONVENTION  # interpolation is a convention


@pytest.mark.parametrize(
    ("age", "divisor"),
    [
        ("40", "233"),
        ("50", "195"),
        ("55", "170"),
        ("60", "139"),
        ("63", "117"),
        ("70", "56"),
        ("50y2m", "194.2"),  # 195 + (190 − 195) × 2/12 = 194.1666… → 194.2
        ("55y6m", "167"),  # 170 + (164 − 170) × 6/12 = 167.0
        ("58y9m", "146.8"),  # 152 + (145 − 152) × 9/12 = 146.75 → 146.8 (half up)
        ("62y11m", "117.7"),  # 125 + (117 − 125) × 11/12 = 117.666… → 117.7
    ],
)
def test_months_divisor(age, divisor):
    assert months_divisor(parse_age(age)).text == divisor


def test_ages_outside_the_table_are_refused():
    for age in ("39y11m", "70y1m"):
        with pytest.raises(RuleError) as exc:
            months_divisor(parse_age(age))
        assert exc.value.field == "age"
        assert "40y to 70y" in exc.value.message


def test_parse_age():
    assert parse_age("60y3m") == 723
    assert parse_age("60Y") == 720
    assert parse_age("60") == 720
    assert parse_age("55y 11m") == 671
    for bad in ("60y12m", "sixty", "60m", ""):
        with pytest.raises(RuleError):
            parse_age(bad)


def test_parse_index_is_exact_and_bounded():
    assert parse_index("1.2345") == Decimal("1.2345")
    for bad in ("0", "-1", "3.01", "abc", "NaN", "Infinity"):
        with pytest.raises(RuleError) as exc:
            parse_index(bad)
        assert exc.value.field == "index"
    with pytest.raises(RuleError, match="decimal string"):
        parse_index(1.2)


def test_below_the_minimum_contribution_is_refused():
    with pytest.raises(RuleError) as exc:
        award(contribution_months=179)
    assert exc.value.code == "below_minimum_contribution"
    assert exc.value.field == "months"
    assert "180" in exc.value.message
    # Retiring in 2031 needs 192 months (checked before the base, which is not on file).
    with pytest.raises(RuleError, match="minimum of 192"):
        award(year=2031, contribution_months=191)


def test_unknown_region_or_year_is_refused_with_what_is_available():
    with pytest.raises(RuleError) as exc:
        award(region="999999")
    assert exc.value.field == "region"
    assert "110000 Beijing 2025" in exc.value.message
    with pytest.raises(RuleError) as exc:
        award(year=2026)
    assert exc.value.field == "year"


def test_shanghai_base_is_flagged_unconfirmed():
    base = calculation_base("310000", 2025)
    assert base.amount == 1_243_400
    assert base.provenance.status is Status.UNCONFIRMED
    assert "average wage" in base.provenance.note.lower()
    assert award(region="310000").status is Status.UNCONFIRMED


DIVISOR = tomllib.loads((POLICY_DIR / "national/months_divisor.toml").read_text(encoding="utf-8"))


def test_a_divisor_that_does_not_fall_with_age_is_refused():
    data = copy.deepcopy(DIVISOR)
    data["months"]["61"] = 140
    with pytest.raises(PolicyDataError) as exc:
        parse_divisor_table(Table(data, "national/months_divisor.toml"))
    assert exc.value.field == "months.61"


def test_a_gap_in_divisor_ages_is_refused():
    data = copy.deepcopy(DIVISOR)
    del data["months"]["55"]
    with pytest.raises(PolicyDataError, match="gap after 54"):
        parse_divisor_table(Table(data, "national/months_divisor.toml"))
