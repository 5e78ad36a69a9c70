"""The daily reminder job: the right reminders, to the right HR users, once, in their language."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core import mail

from expatsi.access.actors import SYSTEM
from expatsi.cli import main
from expatsi.employers.models import HrMembership
from expatsi.insurance.reminders import run_daily
from expatsi.insurance.services import certificate_add, employment_end, registration_accept
from expatsi.notify.messages import render
from expatsi.notify.models import Notification
from expatsi.people.models import Language, Person
from tests.notify.factories import employer, hire, hr_user

T = date(2026, 6, 15)
# Outside a test transaction, as the job runs in production: each e-mail goes out once its inbox
# entry is committed (transaction.on_commit), so mail.outbox and "emailed" are filled at once.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    """Employer 1 with two HR users (one reads Chinese), employer 2 with one; a set of cases."""
    emp = employer("110000", "Jingcheng Co., Ltd.")
    other = employer("310000", "Pujiang Co., Ltd.")
    hr_en = hr_user(emp, "hr-en")
    hr_zh = hr_user(emp, "hr-zh")
    # A user's language comes from their person record (the only place it is stored today).
    Person.objects.create(
        family_name="Wang",
        sex="female",
        birth_date=date(1990, 1, 1),
        nationality="SGP",
        preferred_language=Language.ZH,
        user=hr_zh,
    )
    hr_other = hr_user(other, "hr-other")
    inactive = hr_user(emp, "hr-gone")
    HrMembership.objects.filter(user=inactive).update(active=False)
    cases = {
        # deadline T+5: due within 7 days
        "due_soon": hire(emp, permit_issued=T - timedelta(days=25), family="Soon"),
        # deadline T-10: overdue; residence permit expires T+61: the last day to apply for its
        # extension is T+31 (30 days before expiry), reminded 30 days before that: tomorrow
        "overdue": hire(
            emp,
            permit_issued=T - timedelta(days=40),
            family="Late",
            residence_valid_to=T + timedelta(days=61),
        ),
        # deadline T+20, residence permit expires T+60: apply by T+30, first reminder today
        "fresh": hire(
            emp,
            permit_issued=T - timedelta(days=10),
            family="Fresh",
            residence_valid_to=T + timedelta(days=60),
        ),
        # overdue, but already accepted: nothing
        "accepted": hire(
            emp,
            permit_issued=T - timedelta(days=40),
            family="Done",
            residence_valid_to=T - timedelta(days=1),
        ),
        # overdue, but the employment has ended: nothing
        "ended": hire(emp, permit_issued=T - timedelta(days=60), family="Gone"),
        # another employer's overdue registration: only its HR hears of it
        "other": hire(other, permit_issued=T - timedelta(days=45), family="Elsewhere"),
    }
    registration_accept(
        actor=SYSTEM, registration_id=cases["accepted"].pk, registered_on=T - timedelta(days=15)
    )
    employment_end(
        actor=SYSTEM, employment_id=cases["ended"].employment_id, on=T - timedelta(days=20)
    )
    soon = cases["due_soon"].person
    certificate_add(
        actor=SYSTEM,
        person=soon,
        number="DE-1",
        country="DEU",
        valid_from=date(2024, 1, 1),
        valid_to=T + timedelta(days=20),
    )
    fresh = cases["fresh"].person
    certificate_add(
        actor=SYSTEM,
        person=fresh,
        number="DE-2",
        country="DEU",
        valid_from=date(2024, 1, 1),
        valid_to=T + timedelta(days=40),
    )
    done = cases["accepted"].person
    certificate_add(
        actor=SYSTEM,
        person=done,
        number="DE-3",
        country="DEU",
        valid_from=date(2024, 1, 1),
        valid_to=T + timedelta(days=10),
    )
    certificate_add(
        actor=SYSTEM,
        person=done,
        number="DE-4",
        country="DEU",
        valid_from=T + timedelta(days=11),
        valid_to=T + timedelta(days=400),
    )  # renewed: no reminder for DE-3
    Notification.objects.all().delete()  # the acceptance notice is not what these tests count
    mail.outbox.clear()
    return {"hr_en": hr_en, "hr_zh": hr_zh, "hr_other": hr_other, "inactive": inactive, **cases}


def kinds(user):
    return sorted(Notification.objects.filter(user=user).values_list("kind", "params__person"))


def test_sends_each_reminder_to_each_hr_user_of_the_employer(world):
    result = run_daily(T)
    assert result["sent"] == {
        "registration_due_soon": 2,
        "registration_overdue": 3,  # 2 HR users of employer 1, 1 of employer 2
        "certificate_expiring": 2,
        "residence_permit_expiring": 2,
        "residence_permit_extension_late": 0,
    }
    assert result["sent_total"] == 9 == Notification.objects.count()
    expected = [
        ("certificate_expiring", "SOON Test"),
        ("registration_due_soon", "SOON Test"),
        ("registration_overdue", "LATE Test"),
        ("residence_permit_expiring", "FRESH Test"),
    ]
    assert kinds(world["hr_en"]) == expected
    assert kinds(world["hr_zh"]) == expected
    assert kinds(world["hr_other"]) == [("registration_overdue", "ELSEWHERE Test")]
    assert kinds(world["inactive"]) == []
    assert len(mail.outbox) == 9 == result["emailed"]
    assert sorted(m.to[0] for m in mail.outbox).count("hr-en@example.invalid") == 4


def test_running_twice_on_one_day_sends_nothing_twice(world):
    run_daily(T)
    again = run_daily(T)
    assert again["sent_total"] == 0
    assert again["already_sent"] == 9
    assert Notification.objects.count() == 9
    assert len(mail.outbox) == 9


def test_later_days_send_only_what_is_new(world):
    run_daily(T)
    # T+1: the residence permit expiring T+61 gets its first reminder; nothing else is new
    next_day = run_daily(T + timedelta(days=1))
    assert next_day["sent"] == {
        "registration_due_soon": 0,
        "registration_overdue": 0,
        "certificate_expiring": 0,
        "residence_permit_expiring": 2,
        "residence_permit_extension_late": 0,
    }
    # T+4: "Late" is 14 days late — its third week — so both HR users hear again; "Elsewhere"
    # (15 → 19 days late) stays in its third week: nothing
    week_later = run_daily(T + timedelta(days=4))
    assert week_later["sent"]["registration_overdue"] == 2
    assert week_later["sent_total"] == 2
    overdue = Notification.objects.filter(
        user=world["hr_en"], kind="registration_overdue"
    ).order_by("id")
    assert [n.params["days"] for n in overdue] == [10, 14]


def test_reminders_are_in_the_recipients_language(world):
    run_daily(T)
    zh = Notification.objects.filter(user=world["hr_zh"])
    en = Notification.objects.filter(user=world["hr_en"])
    assert {n.language for n in zh} == {"zh-hans"}
    assert {n.language for n in en} == {"en"}
    note = zh.get(kind="registration_overdue")
    subject, body = render("registration_overdue", note.params, "zh-hans")
    assert (note.subject, note.body) == (subject, body)
    sent = next(
        m for m in mail.outbox if m.to == ["hr-zh@example.invalid"] and m.subject == subject
    )
    assert sent.body == body
    assert "2026-06-05" in note.body and "10" in note.body


def test_the_query_count_does_not_grow_with_the_data(world, django_assert_max_num_queries):
    run_daily(T)
    for i in range(10):
        hire(
            world["due_soon"].employer,
            permit_issued=T - timedelta(days=40),
            family=f"More{i}",
            residence_valid_to=T + timedelta(days=5),
        )
    run_daily(T)
    with django_assert_max_num_queries(8):
        run_daily(T)


def test_cli_prints_counts_as_json(world, capsys):
    assert main(["jobs", "run-daily", "--today", T.isoformat(), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["today"] == "2026-06-15"
    assert out["sent_total"] == 9
    assert main(["jobs", "run-daily", "--today", T.isoformat()]) == 0
    text = capsys.readouterr().out
    assert "0 sent" in text and "9 already sent" in text


def test_cli_rejects_a_bad_date(capsys):
    assert main(["jobs", "run-daily", "--today", "2026-02-30"]) == 2
    assert "today" in capsys.readouterr().err
