"""Where a party reads a bill or a decision, a link takes them to the dispute form with the subject
and both parties filled in: the employer's HR on a bill (for the bill, for each line) and on a
decided registration; the employee on their decided card application. Agency staff, and a
registration still waiting for its decision, get no link."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from expatsi.access.models import AgencyStaff
from expatsi.cards.models import CardApplication
from expatsi.employers.models import Employer, HrMembership
from expatsi.people.models import Person
from tests.cases.conftest import bill, card, employ, person, register
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(sh: Employer) -> dict[str, Any]:
    model = get_user_model()
    users = {
        role: model.objects.create_user(username=role, email=f"{role}@example.org")
        for role in ("agency", "hr_sh", "keller")
    }
    AgencyStaff.objects.create(user=users["agency"], regions="")
    HrMembership.objects.create(user=users["hr_sh"], employer=sh)
    keller = person("Keller", "DEU")
    Person.objects.filter(pk=keller.pk).update(user=users["keller"])
    job = employ(keller, sh, date(2025, 1, 1))
    b = bill(
        sh,
        "2025-09",
        date(2025, 10, 15),
        lines=[{"person": keller, "employer_amount": 480_000, "employee_amount": 240_000}],
    )
    return {
        "users": users,
        "sh": sh,
        "keller": keller,
        "job": job,
        "bill": b,
        "line": b.lines.get(),
    }


def client_for(user: Any) -> Client:
    return verified_login(Client(), user)


def links(page: str) -> list[str]:
    return [
        html.unescape(href) for href in re.findall(r'href="(/cases/disputes/new/\?[^"]*)"', page)
    ]


def _form(w: dict[str, Any], kind: str, subject: int) -> str:
    return (
        f"/cases/disputes/new/?subject_kind={kind}&subject_id={subject}"
        f"&employer={w['sh'].pk}&person={w['keller'].pk}"
    )


def test_hr_record_a_dispute_from_the_bill_for_the_bill_or_a_line(w: dict[str, Any]) -> None:
    hr = client_for(w["users"]["hr_sh"])
    page = hr.get(f"/billing/bills/{w['bill'].pk}/").content.decode()
    assert links(page) == [_form(w, "bill", w["bill"].pk), _form(w, "bill_line", w["line"].pk)]
    assert "Record a dispute about this bill" in page and "Dispute this line" in page
    form = hr.get(_form(w, "bill_line", w["line"].pk)).content.decode()
    for name, value in (("employer", w["sh"].pk), ("person", w["keller"].pk)):
        assert re.search(
            rf'<select name="{name}"[^>]*>.*?<option value="{value}" selected>', form, re.S
        ), name
    assert re.search(r'<input type="radio" name="subject_kind" value="bill_line"[^>]*checked', form)
    assert re.search(rf'name="subject_id"[^>]*value="{w["line"].pk}"', form) or re.search(
        rf'value="{w["line"].pk}"[^>]*name="subject_id"', form
    )
    chinese = hr.get(f"/zh-hans/billing/bills/{w['bill'].pk}/").content.decode()
    assert "就本账单登记争议" in chinese and "对此项提出争议" in chinese


def test_agency_staff_get_no_dispute_link_on_the_bill(w: dict[str, Any]) -> None:
    staff = client_for(w["users"]["agency"])
    page = staff.get(f"/billing/bills/{w['bill'].pk}/")
    assert page.status_code == 200 and links(page.content.decode()) == []


def test_a_decided_registration_links_to_a_dispute_and_a_pending_one_does_not(
    w: dict[str, Any],
) -> None:
    hr = client_for(w["users"]["hr_sh"])
    reg = register(w["job"], status="accepted")
    page = hr.get(f"/registrations/{reg.pk}/").content.decode()
    assert links(page) == [_form(w, "registration", reg.pk)]
    reg.status, reg.registered_on = "submitted", None
    reg.save()
    assert links(hr.get(f"/registrations/{reg.pk}/").content.decode()) == []


def test_the_employee_disputes_a_decided_card_application(w: dict[str, Any]) -> None:
    c = card(w["keller"], w["sh"], "active", date(2025, 1, 1), date(2027, 12, 31))
    app = CardApplication.objects.create(
        card=c,
        kind="extension",
        status="rejected",
        filed_as="employer",
        decided_at=timezone.now(),
        reason="Missing contract.",
    )
    me = client_for(w["users"]["keller"])
    page = me.get(f"/cards/applications/{app.pk}/")
    assert page.status_code == 200
    assert links(page.content.decode()) == [_form(w, "card_application", app.pk)]
    CardApplication.objects.filter(pk=app.pk).update(status="submitted", decided_at=None)
    assert links(me.get(f"/cards/applications/{app.pk}/").content.decode()) == []
