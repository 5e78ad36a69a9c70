"""The other party of a dispute hears of it in their inbox, after commit, in their language: the
employer's HR when the employee opens one, the employee when HR take it to the next stage, both
when the agency records the outcome. Nobody is told of what they did themselves, and the HR of
another employer hear nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from expatsi.access.models import AgencyStaff
from expatsi.cases.models import Dispute
from expatsi.employers.models import Employer, HrMembership
from expatsi.notify.models import Notification
from expatsi.people.models import Person
from tests.cases.conftest import bill, employ, person
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(sh: Employer, sh2: Employer) -> dict[str, Any]:
    model = get_user_model()
    users = {
        role: model.objects.create_user(username=role, email=f"{role}@example.org")
        for role in ("agency", "hr_sh", "hr_sh2", "keller")
    }
    AgencyStaff.objects.create(user=users["agency"], regions="")
    HrMembership.objects.create(user=users["hr_sh"], employer=sh)
    HrMembership.objects.create(user=users["hr_sh2"], employer=sh2)
    keller = person("Keller", "DEU")
    # Keller reads the portal in Chinese; the employer's HR in English.
    Person.objects.filter(pk=keller.pk).update(user=users["keller"], preferred_language="zh-hans")
    employ(keller, sh, date(2025, 1, 1))
    b = bill(
        sh,
        "2025-09",
        date(2025, 10, 15),
        lines=[{"person": keller, "employer_amount": 480_000, "employee_amount": 240_000}],
    )
    return {"users": users, "sh": sh, "keller": keller, "line": b.lines.get()}


def client_for(user: Any) -> Client:
    return verified_login(Client(), user)


def inbox(user: Any) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("pk"))


def test_each_step_of_a_dispute_reaches_the_other_party(
    w: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    users = w["users"]
    me, hr, staff = (client_for(users[k]) for k in ("keller", "hr_sh", "agency"))
    with django_capture_on_commit_callbacks(execute=True) as sent:
        opened = me.post(
            "/cases/disputes/new/",
            {
                "employer": w["sh"].pk,
                "person": w["keller"].pk,
                "subject_kind": "bill_line",
                "subject_id": w["line"].pk,
                "claim": "My base was too high.",
                "stage": "mediation",
            },
        )
    assert opened.status_code == 302 and len(sent) >= 1
    dispute = Dispute.objects.get()
    [note] = inbox(users["hr_sh"])
    assert note.kind == "dispute_opened" and note.language == "en"
    assert note.subject == f"A dispute was recorded: {dispute.number}"
    assert "Mediation" in note.body and w["sh"].name in note.body
    assert inbox(users["keller"]) == [] and inbox(users["hr_sh2"]) == []

    with django_capture_on_commit_callbacks(execute=True):
        moved = hr.post(f"/cases/disputes/{dispute.pk}/stage/", {"stage": "arbitration"})
    assert moved.status_code == 302
    [note] = inbox(users["keller"])
    assert note.kind == "dispute_escalated" and note.language == "zh-hans"
    assert note.subject == f"争议{dispute.number}已进入仲裁阶段"
    assert len(inbox(users["hr_sh"])) == 1  # HR are not told what they did themselves

    with django_capture_on_commit_callbacks(execute=True):
        decided = staff.post(
            f"/cases/disputes/{dispute.pk}/decision/",
            {"outcome": "for_employee", "text": "Award: base ¥25,000.00."},
        )
    assert decided.status_code == 302
    keller_note = inbox(users["keller"])[-1]
    hr_note = inbox(users["hr_sh"])[-1]
    assert keller_note.kind == hr_note.kind == "dispute_decided"
    assert "仲裁" in keller_note.body and "支持员工" in keller_note.body
    assert "Arbitration" in hr_note.body and "Decided for the employee" in hr_note.body
    assert inbox(users["hr_sh2"]) == [] and inbox(users["agency"]) == []


def test_a_dispute_opened_by_hr_reaches_the_employee_once(
    w: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    hr = client_for(w["users"]["hr_sh"])
    form = {
        "employer": w["sh"].pk,
        "person": w["keller"].pk,
        "subject_kind": "other",
        "claim": "The employee's base is disputed.",
        "stage": "mediation",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert hr.post("/cases/disputes/new/", form).status_code == 302
    dispute = Dispute.objects.get()
    [note] = inbox(w["users"]["keller"])
    assert note.kind == "dispute_opened"
    assert note.subject == f"已登记争议：{dispute.number}" and "调解" in note.body
    assert inbox(w["users"]["hr_sh"]) == []


def test_nothing_is_sent_when_the_step_is_refused(
    w: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    hr = client_for(w["users"]["hr_sh"])
    with django_capture_on_commit_callbacks(execute=True):
        refused = hr.post(
            "/cases/disputes/new/",
            {
                "employer": w["sh"].pk,
                "person": w["keller"].pk,
                "subject_kind": "bill_line",
                "subject_id": 999_999,
                "claim": "x",
                "stage": "mediation",
            },
        )
    assert refused.status_code == 400
    assert Notification.objects.count() == 0
