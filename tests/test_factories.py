"""The factories write what the services would (tests/factories.py): otherwise every test built on
them would test data no user can make. A factory person is found again by the service's passport
lookup, a factory registration has the deadline the service gives, an employment is the first
version of its engagement, and a hire goes through every step of the service."""

from __future__ import annotations

from datetime import timedelta

import pytest

from expatsi.access.actors import SYSTEM
from expatsi.audit.models import AuditEvent
from expatsi.insurance.services import registration_submit
from expatsi.people.services import person_find_or_create
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_factory_person_is_found_by_the_services_passport_lookup() -> None:
    person = factories.PersonFactory(passport__number="C01X00T47")
    found, created = person_find_or_create(
        actor=SYSTEM,
        data=factories.PersonDataFactory(
            family_name=person.family_name,
            birth_date=person.birth_date,
            nationality=person.nationality,
            passport_number="c01x 00t47",
        ),
    )
    assert found.pk == person.pk and not created
    assert person.passports.get().is_current


def test_a_factory_registration_has_the_services_deadline() -> None:
    row = factories.RegistrationFactory()
    employment = factories.EmploymentFactory(start_date=row.employment.start_date)
    permit = factories.DocumentFactory(person=employment.person, issued_on=row.permit_issued_on)
    factories.DocumentFactory(
        person=employment.person, kind="residence_permit", issued_on=row.permit_issued_on
    )
    by_service = registration_submit(actor=SYSTEM, employment=employment, permit=permit)
    assert (row.deadline, row.insurance_start) == (by_service.deadline, by_service.insurance_start)
    assert row.deadline == row.permit_issued_on + timedelta(days=30)


def test_an_employment_is_the_first_version_of_its_engagement() -> None:
    employment = factories.EmploymentFactory()
    employment.refresh_from_db()
    assert employment.engagement_id == employment.pk


def test_rows_leave_no_audit_event_and_a_hire_leaves_the_services() -> None:
    employer = factories.EmployerFactory()
    factories.RegistrationFactory(employment__employer=employer)
    assert not AuditEvent.objects.exists()
    factories.hire(employer)
    # the card the hire names is put on file through the card steps: apply, approve, enter
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "card.apply",
        "card.approve_first_entry",
        "card.enter",
        "person.create",
        "person.document",
        "employment.start",
        "registration.submit",
    }


def test_registered_employers_and_hr_users_go_through_the_services() -> None:
    employer = factories.RegisteredEmployerFactory(region_code="310000")
    user = factories.hr_user(employer, "hr-sh")
    assert employer.uscc[2:8] == "310000" and not user.has_usable_password()
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "employer.create",
        "employer.hr_add",
    ]
