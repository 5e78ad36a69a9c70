"""Late fees (SIL Art. 86) and fine ranges (SIL Art. 84/86, Exit-Entry Law Art. 80)."""

import copy
import tomllib
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.penalties import fine_kinds, fine_range, late_fee, parse_penalty_rules
from expatsi.rules.policy import POLICY_DIR, Status, Table

YUAN = 100


def test_golden_late_fee():
    # Due 15 Jan, paid 1 Mar 2025: 16–31 Jan = 16 days + 28 (Feb) + 1 (1 Mar) = 45 days;
    # 10,000.00 × 0.0005 × 45 = 225.00.
    fee = late_fee(10_000 * YUAN, date(2025, 1, 15), date(2025, 3, 1))
    assert (fee.days, fee.fee_fen) == (45, 22_500)
    assert fee.rate_ppm_per_day == 500
    assert "2025-01-16" in fee.explanation and "225.00" in fee.explanation
    assert fee.status is Status.CONVENTION  # the day count is a convention
    assert {p.status for p in fee.provenance} == {Status.CONFIRMED, Status.CONVENTION}


def test_leap_february():
    # Due 15 Feb 2024, paid 15 Mar 2024: 16–29 Feb = 14 + 15 = 29 days; 2,000.00 × 0.0005 × 29 = 29.00.
    fee = late_fee(2_000 * YUAN, date(2024, 2, 15), date(2024, 3, 15))
    assert (fee.days, fee.fee_fen) == (29, 2_900)


def test_rounding_is_half_up_to_the_fen():
    # 10.00 × 0.0005 × 1 day = 0.005 → 0.01; 9.99 × 0.0005 = 0.004995 → 0.00.
    assert late_fee(1_000, date(2025, 1, 15), date(2025, 1, 16)).fee_fen == 1
    assert late_fee(999, date(2025, 1, 15), date(2025, 1, 16)).fee_fen == 0


@pytest.mark.parametrize("paid", [date(2025, 1, 15), date(2025, 1, 1)])
def test_paid_on_or_before_the_due_date_costs_nothing(paid):
    fee = late_fee(10_000 * YUAN, date(2025, 1, 15), paid)
    assert (fee.days, fee.fee_fen) == (0, 0)
    assert "no late fee" in fee.explanation


def test_negative_arrears_are_refused():
    with pytest.raises(RuleError) as exc:
        late_fee(-1, date(2025, 1, 15), date(2025, 2, 1))
    assert exc.value.field == "amount"


@given(
    amount=st.integers(min_value=0, max_value=10**10),
    days=st.integers(min_value=0, max_value=4000),
    more=st.integers(min_value=0, max_value=400),
)
def test_late_fee_never_falls_with_more_days_or_more_arrears(amount, days, more):
    due = date(2020, 1, 15)
    a = late_fee(amount, due, due + timedelta(days=days))
    b = late_fee(amount, due, due + timedelta(days=days + more))
    c = late_fee(amount + more, due, due + timedelta(days=days))
    assert a.days == days
    assert a.fee_fen <= b.fee_fen and a.fee_fen <= c.fee_fen
    assert abs(a.fee_fen * 2_000 - amount * days) <= 1_000  # within half a fen of the exact value


@pytest.mark.parametrize(
    ("persons", "total"),
    [(1, 10_000), (3, 30_000), (10, 100_000), (12, 100_000)],  # 10,000 each, total ≤ 100,000
)
def test_illegal_employment(persons, total):
    fine = fine_range("illegal_employment", persons=persons)
    assert fine.min_fen == fine.max_fen == total * YUAN
    assert fine.article == "Exit and Entry Administration Law Art. 80"


def test_intermediaries():
    # 5,000 per person; individual total ≤ 50,000, entity total ≤ 100,000.
    assert fine_range("intermediary_individual", persons=12).max_fen == 50_000 * YUAN
    assert fine_range("intermediary_entity", persons=12).max_fen == 60_000 * YUAN
    assert fine_range("intermediary_entity", persons=25).max_fen == 100_000 * YUAN


def test_multiples_of_premiums_and_arrears():
    fine = fine_range("failure_to_register", amount_fen=5_000 * YUAN)
    assert (fine.min_fen, fine.max_fen) == (5_000 * YUAN, 15_000 * YUAN)
    assert fine.article == "Social Insurance Law Art. 84"
    fine = fine_range("arrears_not_paid", amount_fen=1_234_56)
    assert (fine.min_fen, fine.max_fen) == (1_234_56, 3_703_68)
    assert fine.article == "Social Insurance Law Art. 86"


def test_ranges_per_person():
    fine = fine_range("failure_to_register_responsible_person")
    assert (fine.min_fen, fine.max_fen) == (500 * YUAN, 3_000 * YUAN)
    fine = fine_range("illegal_work_foreigner")
    assert (fine.min_fen, fine.max_fen) == (5_000 * YUAN, 20_000 * YUAN)
    assert "detention" in fine.explanation
    fine = fine_range("failure_to_register_responsible_person", persons=2)
    assert (fine.min_fen, fine.max_fen) == (1_000 * YUAN, 6_000 * YUAN)


def test_wrong_inputs_for_a_kind_are_refused():
    with pytest.raises(RuleError) as exc:
        fine_range("no_such_fine")
    assert exc.value.field == "kind"
    assert "illegal_employment" in exc.value.message
    with pytest.raises(RuleError, match="give the amount"):
        fine_range("arrears_not_paid")
    with pytest.raises(RuleError, match="give persons"):
        fine_range("illegal_employment")
    with pytest.raises(RuleError) as exc:
        fine_range("illegal_employment", persons=0)
    assert exc.value.field == "persons"


def test_every_kind_is_listed():
    assert set(fine_kinds()) == {
        "failure_to_register",
        "failure_to_register_responsible_person",
        "arrears_not_paid",
        "illegal_employment",
        "intermediary_individual",
        "intermediary_entity",
        "illegal_work_foreigner",
    }


PENALTIES = tomllib.loads((POLICY_DIR / "national/penalties.toml").read_text(encoding="utf-8"))


def test_a_cap_below_the_per_person_amount_is_refused():
    data = copy.deepcopy(PENALTIES)
    data["fine"][3]["cap"] = "5000"
    with pytest.raises(PolicyDataError) as exc:
        parse_penalty_rules(Table(data, "national/penalties.toml"))
    assert (exc.value.file, exc.value.field) == ("national/penalties.toml", "fine[3].cap")


def test_an_unknown_fine_type_is_refused():
    data = copy.deepcopy(PENALTIES)
    data["fine"][0]["type"] = "percent"
    with pytest.raises(PolicyDataError) as exc:
        parse_penalty_rules(Table(data, "national/penalties.toml"))
    assert exc.value.field == "fine[0].type"
