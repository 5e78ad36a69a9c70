"""Months of exemption counted over several certificates (pure rules, no database)."""

from datetime import date

import pytest

from expatsi.rules.agreements import (
    agreements,
    check_total_exemption,
    months_in_total,
    span_months,
)
from expatsi.rules.errors import RuleError


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 1), date(2026, 12, 31), 12),
        (date(2026, 1, 1), date(2027, 1, 1), 13),  # one day into a 13th month
        (date(2026, 1, 31), date(2026, 2, 27), 1),
        (date(2026, 1, 1), date(2030, 12, 31), 60),  # the longest German certificate
        (date(2026, 3, 15), date(2026, 3, 15), 1),
    ],
)
def test_span_months(start: date, end: date, months: int) -> None:
    assert span_months(start, end) == months


def test_overlapping_and_adjacent_certificates_count_each_month_once() -> None:
    spans = [
        (date(2020, 1, 1), date(2021, 12, 31)),  # 24
        (date(2021, 1, 1), date(2022, 12, 31)),  # overlaps: together 36
        (date(2023, 1, 1), date(2023, 6, 30)),  # adjacent: 42
    ]
    assert months_in_total(spans) == 42


def test_serbia_total_of_84_months() -> None:
    serbia = agreements()["SRB"]
    earlier = [(date(2020, 1, 1), date(2024, 12, 31))]  # 60
    check_total_exemption(serbia, earlier, date(2025, 1, 1), date(2026, 12, 31))  # 84: allowed
    with pytest.raises(RuleError) as err:
        check_total_exemption(serbia, earlier, date(2025, 1, 1), date(2027, 1, 1))  # 85
    assert err.value.code == "exemption_total_exceeded"
