"""Statutory clocks. Every golden date below was counted on a calendar by hand.

Weekdays used: 2025-01-24 Fri, 2025-09-26 Fri, 2025-10-16 Thu, 2026-02-13 Fri, 2030-01-04 Fri.
"""

import copy
import tomllib
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expatsi.rules.deadlines import (
    calendar_complete,
    clocks,
    deadline,
    deadline_status,
    is_working_day,
    parse_clocks,
    parse_holiday_calendar,
    working_days_after,
    working_days_before,
)
from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.policy import POLICY_DIR, Status, Table

D = date.fromisoformat


def test_registration_day_30_is_the_last_day():
    # Day 1 = 11 Jan; 21 days to 31 Jan, 9 more → 9 Feb.
    d = deadline("registration", D("2025-01-10"))
    assert d.due == D("2025-02-09")
    assert d.law == "MOHRSS Order No. 16, Art. 4"
    assert d.provenance.status is Status.CONFIRMED
    assert d.reminders == ()


@pytest.mark.parametrize(
    ("kind", "start", "due"),
    [
        ("employment_registration", "2025-03-15", "2025-04-14"),  # 16 days in March + 14
        ("residence_permit", "2025-12-20", "2026-01-19"),  # 11 days in December + 19
        ("employer_registration", "2024-02-01", "2024-03-02"),  # leap year: 28 in Feb + 2
        ("permit_change", "2025-12-25", "2026-01-04"),
        ("work_permit_notice_validity", "2025-01-01", "2025-04-01"),  # 30 + 28 + 31 + 1
        ("residence_permit_extension", "2025-06-30", "2025-05-31"),  # 30 days before expiry
        ("certificate_expiry_alert", "2025-03-01", "2025-01-30"),  # 28 in Feb + 2
        ("payment_due", "2025-12-01", "2026-01-15"),
        ("payment_due", "2025-12-31", "2026-01-15"),
        ("proof_of_life", "2024-03-31", "2025-03-31"),
    ],
)
def test_calendar_day_and_month_clocks(kind, start, due):
    assert deadline(kind, D(start)).due == D(due)


def test_proof_of_life_clamps_to_the_month_end_and_sets_reminders():
    d = deadline("proof_of_life", D("2024-02-29"))
    assert d.due == D("2025-02-28")
    # 60 days before 28 Feb: 28 back to 31 Jan, 31 back to 31 Dec, 1 more → 30 Dec.
    assert d.reminders == (D("2024-12-30"), D("2025-01-29"), D("2025-02-21"))
    assert d.provenance.status is Status.CONVENTION


def test_permit_extension_window_opens_30_days_before_expiry():
    d = deadline("permit_extension_window", D("2025-06-30"))
    assert d.opens == D("2025-05-31")
    assert d.due == D("2025-06-29")
    assert d.provenance.status is Status.SECONDARY
    assert deadline_status(d, D("2025-05-01")).status == "not_yet_open"
    assert deadline_status(d, D("2025-05-31")).status == "on_time"
    assert deadline_status(d, D("2025-06-30")).status == "overdue"


def test_cancellation_across_national_day_2025():
    # Sun 28 Sep (make-up) 1, 29 Sep 2, 30 Sep 3, 1–8 Oct off, 9 Oct 4, 10 Oct 5,
    # Sat 11 Oct (make-up) 6, 13 Oct 7, 14 Oct 8, 15 Oct 9, 16 Oct 10.
    d = deadline("permit_cancellation", D("2025-09-26"))
    assert d.due == D("2025-10-16")
    assert d.calendar_complete


def test_cancellation_across_spring_festival_2025():
    # Sun 26 Jan (make-up) 1, 27 Jan 2, 28 Jan–4 Feb off, 5 Feb 3, 6 Feb 4, 7 Feb 5,
    # Sat 8 Feb (make-up) 6, 10 Feb 7, 11 Feb 8, 12 Feb 9, 13 Feb 10.
    assert deadline("permit_cancellation", D("2025-01-24")).due == D("2025-02-13")


def test_cancellation_across_spring_festival_2026():
    # Sat 14 Feb (make-up) 1, 15–23 Feb off, 24–27 Feb 2–5, Sat 28 Feb (make-up) 6, 2–5 Mar 7–10.
    assert deadline("permit_cancellation", D("2026-02-13")).due == D("2026-03-05")


def test_year_without_holiday_data_counts_monday_to_friday_and_says_so():
    d = deadline("permit_cancellation", D("2030-01-04"))
    assert d.due == D("2030-01-18")  # 7–11 Jan and 14–18 Jan
    assert not d.calendar_complete
    assert "Monday to Friday" in d.note


def test_calendar_day_clocks_do_not_depend_on_the_holiday_calendar():
    assert deadline("registration", D("2031-01-10")).calendar_complete


def test_working_day_helpers():
    assert not is_working_day(D("2025-10-01"))
    assert is_working_day(D("2025-09-28"))  # Sunday make-up day
    assert not is_working_day(D("2026-01-03"))  # Saturday inside the New Year break
    assert is_working_day(D("2026-01-04"))  # Sunday make-up day
    assert working_days_after(D("2025-04-30"), 1) == D("2025-05-06")
    assert working_days_before(D("2025-05-06"), 2) == D("2025-04-29")
    assert calendar_complete(D("2025-01-01"), D("2026-12-31"))
    assert not calendar_complete(D("2026-12-01"), D("2027-01-05"))
    with pytest.raises(RuleError):
        working_days_after(D("2025-01-01"), 0)


@given(start=st.dates(date(2024, 12, 1), date(2027, 1, 31)), n=st.integers(1, 40))
def test_working_days_after_counts_exactly_n_working_days(start, n):
    due = working_days_after(start, n)
    assert is_working_day(due)
    days = [start + timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(map(is_working_day, days)) == n


# --- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "status", "days_left", "days_overdue"),
    [
        ("2025-01-20", "on_time", 20, 0),
        ("2025-02-02", "due_soon", 7, 0),
        ("2025-02-09", "due_soon", 0, 0),
        ("2025-02-10", "overdue", -1, 1),
        ("2025-03-11", "overdue", -30, 30),
    ],
)
def test_status(today, status, days_left, days_overdue):
    state = deadline_status(deadline("registration", D("2025-01-10")), D(today))
    assert (state.status, state.days_left, state.days_overdue) == (status, days_left, days_overdue)


def test_unknown_kind_lists_the_accepted_ones():
    with pytest.raises(RuleError) as exc:
        deadline("visa", D("2025-01-01"))
    assert exc.value.code == "unknown_deadline_kind"
    assert exc.value.field == "kind"
    assert "registration" in exc.value.message
    assert "permit_cancellation" in exc.value.message


def test_every_required_clock_is_on_file_with_law_and_source():
    required = {
        "registration", "employment_registration", "permit_change", "permit_cancellation",
        "residence_permit", "residence_permit_extension", "permit_extension_window",
        "work_permit_notice_validity", "proof_of_life", "employer_registration", "payment_due",
        "certificate_expiry_alert",
    }  # fmt: skip
    assert required <= set(clocks())
    for c in clocks().values():
        assert c.law and c.rule and c.provenance.source


# --- data validation ------------------------------------------------------------------------


def _raw(name):
    return tomllib.loads((POLICY_DIR / "national" / name).read_text(encoding="utf-8"))


HOLIDAYS = _raw("holidays.toml")
CLOCKS = _raw("deadlines.toml")


def test_make_up_day_on_a_weekday_is_refused():
    data = copy.deepcopy(HOLIDAYS)
    data["year"][0]["workdays"][0] = "2025-01-27"  # a Monday
    with pytest.raises(PolicyDataError) as exc:
        parse_holiday_calendar(Table(data, "national/holidays.toml"))
    assert exc.value.file == "national/holidays.toml"
    assert exc.value.field == "year[0].workdays[0]"
    assert "Monday" in exc.value.message


def test_meta_span_must_match_the_years():
    data = copy.deepcopy(HOLIDAYS)
    data["meta"]["effective_to"] = "2027-12-31"
    with pytest.raises(PolicyDataError, match="effective_to"):
        parse_holiday_calendar(Table(data, "national/holidays.toml"))


def test_holiday_and_make_up_day_on_the_same_date_is_refused():
    data = copy.deepcopy(HOLIDAYS)
    data["year"][0]["workdays"].append("2025-02-01")  # Saturday inside the Spring Festival
    with pytest.raises(PolicyDataError, match="both a holiday and a make-up"):
        parse_holiday_calendar(Table(data, "national/holidays.toml"))


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("unit", "weeks", "clocks.registration.unit"),
        ("direction", "around", "clocks.registration.direction"),
        ("amount", 0, "clocks.registration.amount"),
        ("day_of_month", 15, "clocks.registration.day_of_month"),
        ("status", "GUESSED", "clocks.registration.status"),
    ],
)
def test_bad_clock_names_file_and_field(key, value, field):
    data = copy.deepcopy(CLOCKS)
    data["clocks"]["registration"][key] = value
    with pytest.raises(PolicyDataError) as exc:
        parse_clocks(Table(data, "national/deadlines.toml"))
    assert (exc.value.file, exc.value.field) == ("national/deadlines.toml", field)
