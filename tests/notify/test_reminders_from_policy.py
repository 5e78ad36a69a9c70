"""Reminders come from deadlines.toml and before the legal deadline (issue 10).

Hand-worked dates: a residence permit expiring on 2026-08-14 must be extended at least 30 days
before expiry (Exit-Entry Law Art. 32), so the last day to apply is 2026-07-15. The plan reminds
30 and 7 days before that day: 2026-06-15 and 2026-07-08; after 2026-07-15, a "late" reminder
every 7 days until expiry (2026-07-16 is the first).
"""

from __future__ import annotations

import copy
import tomllib
from datetime import date

import pytest

from expatsi.insurance.reminders import run_daily
from expatsi.notify.models import Notification
from expatsi.rules.deadlines import (
    clocks,
    deadline,
    parse_reminder_plans,
    reminder_plan,
    reminder_stage,
)
from expatsi.rules.errors import PolicyDataError
from expatsi.rules.policy import POLICY_DIR, Status, Table
from tests.notify.factories import employer, hire, hr_user

pytestmark = pytest.mark.django_db

EXPIRY = date(2026, 8, 14)


@pytest.fixture
def permit_holder():
    emp = employer("110000", "Jingcheng Co., Ltd.")
    hr = hr_user(emp, "hr-rp")
    # its registration reminders are not what these tests count
    hire(emp, permit_issued=date(2026, 1, 5), family="Holder", residence_valid_to=EXPIRY)
    Notification.objects.all().delete()
    return hr


def _residence(user, kind="residence_permit_expiring"):
    return list(
        Notification.objects.filter(user=user, kind=kind)
        .order_by("id")
        .values_list("params__deadline", "params__valid_to")
    )


def test_the_last_day_to_apply_is_30_days_before_expiry():
    assert deadline("residence_permit_extension", EXPIRY).due == date(2026, 7, 15)


def test_first_reminder_comes_30_days_before_the_last_day_to_apply(permit_holder):
    run_daily(date(2026, 6, 14))
    assert _residence(permit_holder) == []
    run_daily(date(2026, 6, 15))
    assert _residence(permit_holder) == [("2026-07-15", "2026-08-14")]
    note = Notification.objects.get(user=permit_holder, kind="residence_permit_expiring")
    assert note.params["days_left"] == 30
    assert "2026-07-15" in note.subject and "2026-07-15" in note.body


def test_second_reminder_seven_days_before_then_late_reminders(permit_holder):
    for day in (date(2026, 6, 15), date(2026, 7, 7)):
        run_daily(day)
    assert len(_residence(permit_holder)) == 1  # nothing new between the two reminder days
    run_daily(date(2026, 7, 8))
    assert len(_residence(permit_holder)) == 2
    run_daily(date(2026, 7, 15))  # the last day on time: nothing new
    assert len(_residence(permit_holder)) == 2
    assert _residence(permit_holder, "residence_permit_extension_late") == []
    run_daily(date(2026, 7, 16))
    late = Notification.objects.get(user=permit_holder, kind="residence_permit_extension_late")
    assert late.params["days"] == 1
    run_daily(date(2026, 7, 21))  # 6 days late: still the first late week
    run_daily(date(2026, 7, 22))  # 7 days late: the second
    run_daily(date(2026, 8, 15))  # expired the day before: no more reminders
    late = _residence(permit_holder, "residence_permit_extension_late")
    assert len(late) == 2
    assert len(_residence(permit_holder)) == 2


def test_every_reminder_precedes_the_legal_deadline():
    plan = reminder_plan("residence_permit")
    due = deadline(plan.clock.kind, EXPIRY).due
    days = (date.fromordinal(n) for n in range(date(2026, 5, 1).toordinal(), EXPIRY.toordinal()))
    sends = [d for d in days if (s := reminder_stage(plan, due, d)) is not None and not s.overdue]
    assert sends[0] == date(2026, 6, 15)
    assert all(day <= due for day in sends)


def test_reminder_plans_are_policy_data_with_a_status():
    for name in ("registration", "residence_permit", "certificate"):
        plan = reminder_plan(name)
        assert plan.provenance.status is Status.CONVENTION
        assert plan.provenance.source
    assert reminder_plan("residence_permit").days_before_due == (30, 7)


def test_a_bad_reminder_plan_names_file_and_field():
    raw = tomllib.loads((POLICY_DIR / "national" / "deadlines.toml").read_text(encoding="utf-8"))
    data = copy.deepcopy(raw)
    data["reminders"]["residence_permit"]["days_before_due"] = [-3]
    with pytest.raises(PolicyDataError) as exc:
        parse_reminder_plans(Table(data, "national/deadlines.toml"), clocks())
    assert exc.value.field == "reminders.residence_permit.days_before_due"
    data = copy.deepcopy(raw)
    data["reminders"]["certificate"]["clock"] = "nope"
    with pytest.raises(PolicyDataError, match="not a clock"):
        parse_reminder_plans(Table(data, "national/deadlines.toml"), clocks())
