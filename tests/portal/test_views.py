"""Portal pages per role: home pages, the new-hire form, records, decisions, bulk import."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from expatsi.audit.models import AuditEvent
from expatsi.insurance.imports import template_csv
from expatsi.insurance.models import Registration, RegistrationStatus
from expatsi.people.models import Person
from tests.factories import example_card_on_file
from tests.portal.factories import (
    PASSWORD,
    card_for_form,
    make_agency,
    make_employee,
    make_employer,
    make_hire,
    make_hr,
)
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer():
    return make_employer()


@pytest.fixture
def hr(employer):
    return make_hr(employer)


def logged_in(user) -> Client:
    c = Client()
    verified_login(c, user)
    return c


def hire_post(employer, **over):
    issued = date.today() - timedelta(days=3)
    data = {
        "employer": employer.pk,
        "family_name": "Okafor",
        "given_names": "Chidi",
        "sex": "male",
        "birth_date": "1988-02-29",
        "nationality": "NGA",
        "passport_number": "A07654321",
        "permit_kind": "integrated_card",
        "permit_number": "IC110020260777",
        "permit_issued_on": issued.isoformat(),
        "permit_valid_to": (issued + timedelta(days=700)).isoformat(),
        "residence_permit_number": "E07654321",
        "residence_permit_issued_on": issued.isoformat(),
        "start_date": issued.isoformat(),
        "position": "Data analyst",
        "monthly_wage": "31200.50",
    }
    data.update(over)
    return data


def test_login_page_and_real_login_lands_on_the_role_home(client, employer, hr):
    r = client.get("/login/")
    assert r.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in r.content.decode()
    r = client.post("/login/", {"username": "hr", "password": PASSWORD}, follow=True)
    assert r.status_code == 200
    assert "Register a new hire" in r.content.decode()


def test_bad_login_says_so(client, hr):
    r = client.post("/login/", {"username": "hr", "password": "wrong"})
    assert r.status_code == 200
    assert "There is a problem" in r.content.decode()


def test_logout_is_a_post(employer, hr):
    c = logged_in(hr)
    assert c.post("/logout/").status_code == 302
    assert c.get("/hires/new/").status_code == 302  # back to login


def test_pages_need_login(client):
    for url in ("/hires/new/", "/hires/import/", "/me/", "/registrations/", "/people/1/"):
        r = client.get(url)
        assert r.status_code == 302
        assert r["Location"].startswith("/login/")


def test_hr_home_lists_employees_with_deadline_status_sorted(employer, hr):
    today = date.today()
    make_hire(employer, hr, 1, family="Overdue", issued=today - timedelta(days=40))
    make_hire(employer, hr, 2, family="Soon", issued=today - timedelta(days=27))
    make_hire(employer, hr, 3, family="Fresh", issued=today - timedelta(days=1))
    body = logged_in(hr).get("/").content.decode()
    assert "status-overdue" in body and "Overdue by 10 days" in body
    assert "status-due-soon" in body and "Due soon: 3 days left" in body
    assert "status-on-time" in body and "On time: 29 days left" in body
    assert body.index("OVERDUE") < body.index("SOON") < body.index("FRESH")
    desc = logged_in(hr).get("/?sort=-deadline").content.decode()
    assert desc.index("FRESH") < desc.index("SOON") < desc.index("OVERDUE")


def test_hr_registers_a_hire_and_sees_the_deadline(employer, hr):
    c = logged_in(hr)
    assert c.get("/hires/new/").status_code == 200
    card_for_form(employer, hire_post(employer))  # the card the hire names, issued 3 days ago
    r = c.post("/hires/new/", hire_post(employer), follow=True)
    assert r.status_code == 200
    reg = Registration.objects.get()
    body = r.content.decode()
    assert reg.deadline == date.today() - timedelta(days=3) + timedelta(days=30)
    assert "Registration deadline" in body
    assert "On time: 27 days left" in body
    assert reg.employment.contract_wage == 3_120_050
    assert "¥31,200.50" in body


def test_hire_errors_appear_next_to_their_fields(employer, hr):
    c = logged_in(hr)
    r = c.post(
        "/hires/new/", hire_post(employer, passport_number="A!", permit_valid_to="2000-01-01")
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert "There is a problem" in body
    assert 'id="id_passport_number_error"' in body
    assert 'aria-describedby="id_passport_number_error"' in body
    assert Registration.objects.count() == 0
    # A form-level error (missing fields) lists every field in the summary at the top.
    r = c.post("/hires/new/", {"employer": employer.pk})
    assert r.status_code == 400
    assert r.content.decode().count('class="error-message"') >= 8


def test_service_errors_map_to_fields(employer, hr):
    c = logged_in(hr)
    card_for_form(employer, hire_post(employer))
    c.post("/hires/new/", hire_post(employer))
    # same passport, other person
    r = c.post(
        "/hires/new/",
        hire_post(
            employer,
            family_name="Someone",
            permit_number="IC99",
            residence_permit_number="E99",
        ),
    )
    assert r.status_code == 400
    assert 'id="id_passport_number_error"' in r.content.decode()
    # end before start
    other = hire_post(
        employer,
        passport_number="B1234567",
        permit_number="IC98",
        residence_permit_number="E98",
        end_date="2001-01-01",
    )
    card_for_form(employer, other)
    r = c.post("/hires/new/", other)
    assert 'id="id_end_date_error"' in r.content.decode()


def test_hr_cannot_use_agency_pages_and_public_cannot_use_hr_pages(employer, hr):
    c = logged_in(hr)
    assert c.get("/registrations/").status_code == 403
    other = make_employer(2, name="Other Ltd.")
    outsider = make_hr(other, "hr2")
    reg = make_hire(employer, hr)
    assert logged_in(outsider).get(f"/registrations/{reg.pk}/").status_code == 404
    assert logged_in(outsider).get(f"/people/{reg.person_id}/").status_code == 404


def test_agency_home_search_record_and_decisions(employer, hr):
    today = date.today()
    overdue = make_hire(employer, hr, 1, family="Late", issued=today - timedelta(days=45))
    fresh = make_hire(employer, hr, 2, family="Early")
    officer = make_agency()
    c = logged_in(officer)
    body = c.get("/").content.decode()
    assert "Agency workspace" in body
    assert "LATE" in body and "EARLY" in body
    assert "overdue, awaiting a decision" in body
    body = c.get("/", {"q": "C01X00001"}).content.decode()
    assert f"/people/{overdue.person_id}/" in body
    body = c.get("/", {"q": "Rhine"}).content.decode()
    assert "91110000600037341L" in body
    before = AuditEvent.objects.filter(action="person.read").count()
    r = c.get(f"/people/{overdue.person_id}/")
    assert r.status_code == 200
    assert AuditEvent.objects.filter(action="person.read").count() == before + 1
    r = c.post(f"/registrations/{overdue.pk}/accept/", follow=True)
    overdue.refresh_from_db()
    assert overdue.status == RegistrationStatus.ACCEPTED
    ssn = Person.objects.get(pk=overdue.person_id).ssn
    assert ssn and ssn in r.content.decode()
    assert "Registered 15 days late" in r.content.decode()
    # reject needs a reason
    r = c.post(f"/registrations/{fresh.pk}/reject/", {"reason": "  "})
    assert r.status_code == 400
    assert 'id="id_reason_error"' in r.content.decode()
    r = c.post(
        f"/registrations/{fresh.pk}/reject/",
        {"reason": "Work permit number does not match"},
        follow=True,
    )
    fresh.refresh_from_db()
    assert fresh.status == RegistrationStatus.REJECTED
    assert "Work permit number does not match" in r.content.decode()


def test_agency_limited_to_a_region_sees_nothing_elsewhere(employer, hr):
    reg = make_hire(employer, hr)
    shanghai = make_agency("sh-officer", regions="310000")
    c = logged_in(shanghai)
    body = c.get("/", {"q": "C01X00001"}).content.decode()
    assert f"/people/{reg.person_id}/" not in body
    assert "No person matches." in body
    assert c.get(f"/people/{reg.person_id}/").status_code == 404
    assert c.post(f"/registrations/{reg.pk}/accept/").status_code == 404


def test_employee_sees_their_own_record_only(employer, hr):
    reg = make_hire(employer, hr, 1)
    other = make_hire(employer, hr, 2, family="Other")
    user = make_employee(reg)
    c = logged_in(user)
    assert c.get("/").status_code == 302
    body = c.get("/me/").content.decode()
    assert "MÜLLER Anna" in body
    assert "IC1100202600001" in body
    assert employer.name in body
    assert "Not assigned yet" in body
    assert c.get(f"/people/{other.person_id}/").status_code == 404
    assert c.get("/hires/new/").status_code == 403


def test_import_page_dry_run_then_apply(employer, hr):
    c = logged_in(hr)
    example_card_on_file(employer)  # the template's example row names this card
    body = c.get("/hires/import/").content.decode()
    assert "monthly_wage" in body and "template.xlsx" in body
    assert (
        c.get("/hires/import/template.csv").content.decode("utf-8-sig").startswith("family_name,")
    )
    assert c.get("/hires/import/template.xlsx")["Content-Type"].startswith(
        "application/vnd.openxml"
    )
    assert c.get("/hires/import/template.pdf").status_code == 404
    good = template_csv().encode()
    bad = good.replace(b"DEU", b"XXX")
    r = c.post(
        "/hires/import/", {"employer": employer.pk, "file": SimpleUploadedFile("hires.csv", bad)}
    )
    body = r.content.decode()
    assert "The file has 1 error" in body
    assert "nationality" in body
    assert Registration.objects.count() == 0
    r = c.post(
        "/hires/import/", {"employer": employer.pk, "file": SimpleUploadedFile("hires.csv", good)}
    )
    body = r.content.decode()
    assert "Every row is valid" in body
    assert Registration.objects.count() == 0
    token = r.context["token"]
    r = c.post("/hires/import/apply/", {"token": token})
    assert r.status_code == 200
    assert "Imported: 1 new hire registered." in r.content.decode()
    assert Registration.objects.count() == 1
    # the token is spent
    r = c.post("/hires/import/apply/", {"token": token})
    assert r.status_code == 302


def test_chinese_pages(employer, hr):
    make_hire(employer, hr, 1, issued=date.today() - timedelta(days=40))
    c = logged_in(hr)
    body = c.get("/zh-hans/").content.decode()
    assert "登记新入职人员" in body
    assert "逾期" in body
    body = c.get("/zh-hans/hires/new/").content.decode()
    assert "护照号码" in body
