import pytest
from hypothesis import given
from hypothesis import strategies as st

from expatsi.rules.errors import RuleError
from expatsi.rules.money import (
    Rounding,
    apply_rate,
    format_rate,
    format_yuan,
    parse_rate,
    parse_yuan,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.56", 123456),
        ("1234.5", 123450),
        ("1234", 123400),
        ("0.01", 1),
        ("1,234.00", 123400),
        (" 7 ", 700),
        ("¥3.00", 300),
    ],
)
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["12.345", "abc", "", "1.2.3", "1e3", "--1"])
def test_parse_yuan_rejects_what_is_not_an_amount(text):
    with pytest.raises(RuleError) as exc:
        parse_yuan(text, field="wage")
    assert exc.value.field == "wage"
    assert exc.value.code == "invalid_amount"


def test_negative_amounts_only_where_allowed():
    with pytest.raises(RuleError, match="negative"):
        parse_yuan("-5")
    assert parse_yuan("-5.10", allow_negative=True) == -510


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "0.00"), (5, "0.05"), (123456, "1234.56"), (-510, "-5.10")]
)
def test_format_yuan(fen, text):
    assert format_yuan(fen) == text


def test_format_yuan_thousands():
    assert format_yuan(3528300, thousands=True) == "35,283.00"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_then_parse_round_trips(fen):
    assert parse_yuan(format_yuan(fen), allow_negative=True) == fen


@pytest.mark.parametrize(
    ("text", "ppm"),
    [
        ("16%", 160_000),
        ("0.16", 160_000),
        ("9.8%", 98_000),
        ("0.05%", 500),
        ("0.004", 4_000),
        ("0", 0),
    ],
)
def test_parse_rate_is_exact(text, ppm):
    assert parse_rate(text) == ppm


@pytest.mark.parametrize("text", ["abc", "0.00000001", "101%", "-1%"])
def test_parse_rate_rejects(text):
    with pytest.raises(RuleError):
        parse_rate(text)


def test_parse_rate_refuses_floats():
    with pytest.raises(RuleError, match="string"):
        parse_rate(0.16)


def test_format_rate_is_shortest_exact():
    assert format_rate(160_000) == "16%"
    assert format_rate(98_000) == "9.8%"
    assert format_rate(1_600) == "0.16%"


def test_half_fen_tie_rounds_up():
    # 6,821.00 × 0.5% = 34.105 yuan: exactly half a fen → 34.11
    assert apply_rate(682100, 5_000) == 3411
    # 6,821.00 × 9.8% = 668.458 → 668.46 (ordinary rounding)
    assert apply_rate(682100, 98_000) == 66846


def test_rounding_is_sign_symmetric():
    # A refund rounds the same distance as the charge it reverses.
    assert apply_rate(-682100, 5_000) == -3411


def test_rounding_units_and_modes():
    jiao = Rounding(unit_fen=10, mode="half_up")
    assert apply_rate(682100, 5_000, jiao) == 3410  # 34.105 → 34.1
    assert apply_rate(682100, 98_000, jiao) == 66850  # 668.458 → 668.5
    up = Rounding(unit_fen=10, mode="up")
    assert apply_rate(682100, 5_000, up) == 3420  # 34.105 → 34.2
    down = Rounding(unit_fen=1, mode="down")
    assert apply_rate(682100, 98_000, down) == 66845


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**6))
def test_half_up_matches_the_textbook_formula(base, ppm):
    assert apply_rate(base, ppm) == (base * ppm + 500_000) // 1_000_000
