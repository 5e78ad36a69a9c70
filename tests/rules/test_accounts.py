"""Individual account: golden ledgers worked by hand with the monthly-accumulation convention."""

import copy
import tomllib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expatsi.rules.accounts import (
    balance_on,
    contribution_months,
    lump_sum,
    parse_crediting_rates,
    statement,
    whole_months_elapsed,
)
from expatsi.rules.dates import Month
from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.policy import POLICY_DIR, Status, Table

YUAN = 100
YEAR_2024 = [(Month(2024, m), 1000 * YUAN) for m in range(1, 13)]


def test_a_full_year_of_monthly_credits_2024():
    # 1,000.00 every month of 2024 at 2.62%: weights Σ(13 − m) for m = 1…12 = 78;
    # interest = 1000.00 × 78 × 2.62% / 12 = 78,000.00 × 0.0262 / 12 = 2,043.60 / 12 = 170.30.
    s = statement(YEAR_2024, date(2024, 12, 31))
    (y,) = s.years
    assert (y.year, y.opening, y.credits, y.interest, y.closing) == (
        2024,
        0,
        1_200_000,
        17_030,
        1_217_030,
    )
    assert (y.rate_ppm, y.months_counted, y.provisional, y.status) == (
        26_200,
        12,
        False,
        Status.CONFIRMED,
    )
    assert s.balance == 1_217_030
    assert s.status is Status.CONVENTION  # the crediting method is a convention
    assert "170.30" in y.explanation


def test_a_two_year_ledger():
    # 2023 at 3.97%: 500.00 in July (weight 6) + 500.00 in December (weight 1) = 3,500.00;
    #   3,500.00 × 0.0397 / 12 = 138.95 / 12 = 11.5791… → 11.58; closing 1,011.58.
    # 2024 at 2.62%: opening 1,011.58 × 12 = 12,138.96; 2,000.00 in March × (13 − 3 = 10) =
    #   20,000.00; 32,138.96 × 0.0262 / 12 = 842.040752 / 12 = 70.1700… → 70.17;
    #   closing 1,011.58 + 2,000.00 + 70.17 = 3,081.75.
    credits = [
        (Month(2023, 12), 500 * YUAN),
        (Month(2024, 3), 2000 * YUAN),
        (Month(2023, 7), 500 * YUAN),
    ]
    s = statement(credits, date(2024, 12, 31))
    y23, y24 = s.years
    assert (y23.opening, y23.credits, y23.interest, y23.closing) == (0, 100_000, 1_158, 101_158)
    assert (y24.opening, y24.credits, y24.interest, y24.closing) == (
        101_158,
        200_000,
        7_017,
        308_175,
    )
    assert s.balance == 308_175


def test_a_year_without_credits_still_earns_interest():
    # 1,000.00 in 2016-01 at 8.31% × 12/12 = 83.10 → 1,083.10; 2017 at 7.12%: 1,083.10 × 0.0712
    # = 77.11672 → 77.12 → 1,160.22.
    s = statement([(Month(2016, 1), 1000 * YUAN)], date(2017, 12, 31))
    assert [y.interest for y in s.years] == [8_310, 7_712]
    assert s.balance == 116_022


def test_a_mid_year_closing():
    # 2024 as above → 12,170.30. 2025 at 1.50%, 1,000.00 each month Jan–Jun, closing 15 June:
    # k = 5 (June not complete); weighted = 12,170.30 × 5 + 1,000.00 × (5+4+3+2+1) = 60,851.50 +
    # 15,000.00 = 75,851.50; × 0.015 / 12 = 1,137.7725 / 12 = 94.8143… → 94.81. The June credit is
    # in the balance without interest: 12,170.30 + 6,000.00 + 94.81 = 18,265.11.
    credits = [*YEAR_2024, *((Month(2025, m), 1000 * YUAN) for m in range(1, 7))]
    s = statement(credits, date(2025, 6, 15))
    y = s.years[-1]
    assert (y.year, y.months_counted, y.credits, y.interest) == (2025, 5, 600_000, 9_481)
    assert s.balance == 1_826_511
    assert y.status is Status.UNCONFIRMED and not y.provisional
    # Closing on 30 June: k = 6; 12,170.30 × 6 = 73,021.80 + 1,000.00 × 21 = 94,021.80;
    # × 0.015 / 12 = 1,410.327 / 12 = 117.527… → 117.53.
    assert statement(credits, date(2025, 6, 30)).years[-1].interest == 11_753


def test_credits_after_the_closing_month_are_left_out():
    credits = [*YEAR_2024, (Month(2025, 7), 1000 * YUAN)]
    s = statement(credits, date(2024, 12, 31))
    assert s.balance == 1_217_030
    assert s.excluded_credits == 1


def test_a_provisional_2026():
    # 1,200.00 in 2025-12 at 1.50% × 1/12 = 1.50 → 1,201.50. 2026 has no published rate: the last
    # one (2025, 1.50%) applies provisionally: 1,201.50 × 0.015 = 18.0225 → 18.02 → 1,219.52.
    s = statement([(Month(2025, 12), 1200 * YUAN)], date(2026, 12, 31))
    y25, y26 = s.years
    assert (y25.interest, y25.closing, y25.provisional) == (150, 120_150, False)
    assert (y26.interest, y26.closing) == (1_802, 121_952)
    assert (y26.provisional, y26.rate_year, y26.rate_ppm, y26.status) == (
        True,
        2025,
        15_000,
        Status.UNCONFIRMED,
    )
    assert s.provisional
    assert "provisional" in y26.explanation


def test_corrections_and_several_credits_in_one_month():
    # 1,000.00 − 200.00 in January 2024 = 800.00 × 12/12 × 2.62% = 20.96.
    credits = [(Month(2024, 1), 1000 * YUAN), (Month(2024, 1), -200 * YUAN)]
    assert statement(credits, date(2024, 12, 31)).years[0].interest == 2_096
    assert balance_on(credits, date(2024, 12, 31)) == 82_096


def test_whole_months_elapsed():
    assert whole_months_elapsed(date(2025, 6, 30)) == 6
    assert whole_months_elapsed(date(2025, 6, 29)) == 5
    assert whole_months_elapsed(date(2024, 2, 29)) == 2
    assert whole_months_elapsed(date(2025, 1, 1)) == 0
    assert whole_months_elapsed(date(2025, 12, 31)) == 12


def test_lump_sum_is_the_balance_on_the_closing_date():
    ls = lump_sum(YEAR_2024, date(2024, 12, 31))
    assert ls.amount == 1_217_030
    assert "Art. 5" in ls.basis
    assert ls.explanation[-1].startswith("Lump sum = balance on 2024-12-31 = 12170.30")


def test_contribution_months_counts_distinct_months_with_a_positive_net():
    credits = [
        (Month(2024, 1), 100),
        (Month(2024, 1), 200),  # same month twice: one month
        (Month(2024, 2), 300),
        (Month(2024, 2), -300),  # reversed in full: does not count
        (Month(2024, 3), -50),  # a correction alone: does not count
        (Month(2024, 4), 1),
    ]
    assert contribution_months(credits) == 2


def test_years_before_the_first_rate_are_refused():
    # foreigners are insured from October 2011; the table starts with 2011
    with pytest.raises(RuleError) as exc:
        statement([(Month(2010, 6), 1000)], date(2016, 12, 31))
    assert "2011" in exc.value.message and exc.value.field == "credits"
    with pytest.raises(RuleError) as exc:
        statement([], date(2010, 12, 31))
    assert "2011" in exc.value.message and exc.value.field == "on"


def test_a_2015_credit_earns_the_deposit_floor_then_the_national_rate():
    # 2015 (UNCONFIRMED floor, 1.50%): 10.00 credited in June earns 10.00 × 7 × 1.50% / 12
    #   = 0.0875 → 0.09; closing 10.09. 2016 (8.31%): 10.09 × 8.31% = 0.8385 → 0.84; closing 10.93.
    s = statement([(Month(2015, 6), 1000)], date(2016, 12, 31))
    y15, y16 = s.years
    assert (y15.interest, y15.closing, y15.status) == (9, 1009, "UNCONFIRMED")
    assert (y16.interest, y16.closing) == (84, 1093)
    assert s.status == "UNCONFIRMED"


def test_bad_credits_are_refused():
    with pytest.raises(RuleError, match="whole fen"):
        statement([(Month(2024, 1), 10.5)], date(2024, 12, 31))
    with pytest.raises(RuleError, match="Month"):
        statement([("2024-01", 100)], date(2024, 12, 31))


RATES = tomllib.loads((POLICY_DIR / "national/crediting_rates.toml").read_text(encoding="utf-8"))


def test_a_gap_in_crediting_years_is_refused():
    data = copy.deepcopy(RATES)
    del data["rate"][3]
    with pytest.raises(PolicyDataError) as exc:
        parse_crediting_rates(Table(data, "national/crediting_rates.toml"))
    assert (exc.value.file, exc.value.field) == ("national/crediting_rates.toml", "rate[3].year")


def test_a_float_rate_is_refused():
    data = copy.deepcopy(RATES)
    data["rate"][0]["rate"] = 0.0831
    with pytest.raises(PolicyDataError) as exc:
        parse_crediting_rates(Table(data, "national/crediting_rates.toml"))
    assert exc.value.field == "rate[0].rate"


MONTHS = st.integers(min_value=Month(2016, 1).index, max_value=Month(2026, 12).index)
LEDGER = st.lists(st.tuples(MONTHS, st.integers(min_value=0, max_value=5_000_000)), max_size=30)
DATES = st.dates(min_value=date(2016, 1, 1), max_value=date(2027, 12, 31))


@given(
    ledger=LEDGER, extra=st.tuples(MONTHS, st.integers(min_value=1, max_value=5_000_000)), on=DATES
)
def test_balance_never_falls_when_a_credit_is_added(ledger, extra, on):
    credits = [(Month.from_index(i), a) for i, a in ledger]
    more = [*credits, (Month.from_index(extra[0]), extra[1])]
    before, after = balance_on(credits, on), balance_on(more, on)
    assert after >= before
    if Month.from_index(extra[0]) <= Month.of(on):
        assert after >= before + extra[1]  # the credit itself, plus any interest it earns


@given(ledger=LEDGER, on=DATES)
def test_balance_is_credits_plus_non_negative_interest(ledger, on):
    credits = [(Month.from_index(i), a) for i, a in ledger]
    s = statement(credits, on)
    posted = sum(a for m, a in credits if m <= Month.of(on))
    assert s.balance == posted + sum(y.interest for y in s.years)
    assert all(y.interest >= 0 for y in s.years)
    for prev, y in zip(s.years, s.years[1:], strict=False):
        assert y.opening == prev.closing
