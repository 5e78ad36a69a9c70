"""Service-level tests: hire in one go, effective-dated employment, registration and its clock,
social security numbers kept for life."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from expatsi.access.actors import SYSTEM, Actor
from expatsi.audit.models import AuditEvent
from expatsi.cards.models import Card
from expatsi.insurance import services
from expatsi.insurance.models import Employment, Registration, RegistrationStatus
from expatsi.insurance.selectors import registration_deadline_status
from expatsi.insurance.services import (
    HireData,
    employment_change,
    employment_end,
    registration_accept,
)
from expatsi.people.models import Document, DocumentKind, Passport, Person
from expatsi.people.services import PersonData
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from expatsi.rules.identifiers import check_id
from tests.factories import card_on_file
from tests.notify.factories import employer, hire

pytestmark = pytest.mark.django_db


def agency(regions: frozenset[str] | None = None) -> Actor:
    return Actor("agency", None, "officer", regions=regions)


def hr_of(*employers) -> Actor:
    return Actor("hr", None, "hr", employer_ids=frozenset(e.pk for e in employers))


def hire_data(**overrides) -> HireData:
    values = {
        "person": PersonData(
            family_name="Becker",
            given_names="Lena",
            sex="female",
            birth_date=date(1988, 7, 2),
            nationality="DEU",
            passport_number="C01X00T47",
        ),
        "permit_kind": DocumentKind.INTEGRATED_CARD,
        "permit_number": "IC110000202500001",
        "permit_issued_on": date(2025, 3, 1),
        "permit_valid_to": date(2027, 2, 28),
        "start_date": date(2025, 3, 10),
        "position": "Engineer",
        "contract_wage": 4_500_000,
        "residence_permit_number": "E12345678",
        "residence_permit_issued_on": date(2025, 3, 15),
        "residence_permit_valid_to": date(2027, 3, 14),
    }
    values.update(overrides)
    return HireData(**values)


def hire_register(*, actor: Actor, employer, data: HireData) -> Registration:
    """The hire, naming the person's card on file, put there first (one card number, issue #10)."""
    if services.CARD_KINDS:
        card_on_file(employer, data)
    return services.hire_register(actor=actor, employer=employer, data=data)


def nothing_written():
    """Nothing but the card holders on file before the hire (``hire_register`` above)."""
    holders = Card.objects.count()
    assert Person.objects.count() == holders
    assert Passport.objects.count() == holders
    assert Document.objects.count() == 0
    assert Employment.objects.count() == 0
    assert Registration.objects.count() == 0


# --- hire_register -----------------------------------------------------------------------------


def test_hire_register_writes_everything():
    emp = employer()
    reg = hire_register(actor=hr_of(emp), employer=emp, data=hire_data())
    assert reg.status == RegistrationStatus.SUBMITTED
    assert reg.deadline == date(2025, 3, 31)  # 30 days after 1 March, counted from the next day
    assert reg.insurance_start == date(2025, 3, 10)
    assert set(reg.person.documents.values_list("kind", flat=True)) == {
        "integrated_card",
        "residence_permit",
    }
    assert reg.person.passports.get().number == "C01X00T47"


def test_hire_register_is_all_or_nothing_when_the_last_step_fails(monkeypatch):
    emp = employer()
    data = hire_data()
    card_on_file(emp, data)
    before = AuditEvent.objects.count()

    def fail(**kwargs):
        raise Conflict("already_submitted", "simulated failure in the last step", "employment_id")

    monkeypatch.setattr(services, "registration_submit", fail)
    with pytest.raises(Conflict):
        hire_register(actor=hr_of(emp), employer=emp, data=data)
    nothing_written()
    assert AuditEvent.objects.count() == before


def test_hire_register_is_all_or_nothing_on_a_bad_document():
    emp = employer()
    with pytest.raises(RuleError) as err:
        hire_register(
            actor=hr_of(emp),
            employer=emp,
            data=hire_data(residence_permit_valid_to=date(2025, 1, 1)),
        )
    assert err.value.field == "residence_permit_valid_to"
    nothing_written()


def test_hire_register_for_another_employer_is_not_found():
    mine, theirs = employer(), employer()
    with pytest.raises(NotFound):
        hire_register(actor=hr_of(mine), employer=theirs, data=hire_data())
    nothing_written()


# --- employment_change -------------------------------------------------------------------------


def test_employment_change_closes_the_old_row_and_keeps_history():
    emp = employer()
    reg = hire_register(actor=hr_of(emp), employer=emp, data=hire_data())
    first = reg.employment
    successor = employment_change(
        actor=hr_of(emp),
        employment_id=first.pk,
        on=date(2025, 9, 1),
        contract_wage=5_200_000,
        position="Lead Engineer",
    )
    first.refresh_from_db()
    assert first.end_date == date(2025, 8, 31) and first.end_reason == "changed"
    assert (first.position, first.contract_wage) == ("Engineer", 4_500_000)  # never overwritten
    assert successor.start_date == date(2025, 9, 1) and successor.end_date is None
    assert (successor.position, successor.contract_wage) == ("Lead Engineer", 5_200_000)
    assert successor.engagement_id == first.pk
    assert Employment.objects.filter(engagement_id=first.pk).count() == 2
    with pytest.raises(Conflict):  # the replaced version cannot be changed again
        employment_change(
            actor=hr_of(emp), employment_id=first.pk, on=date(2025, 10, 1), contract_wage=1
        )
    with pytest.raises(RuleError):  # not before the version starts
        employment_change(
            actor=hr_of(emp), employment_id=successor.pk, on=date(2025, 9, 1), contract_wage=1
        )


# --- registration and social security numbers --------------------------------------------------


def test_accept_assigns_a_valid_ssn_kept_when_the_person_is_rehired():
    bj, sh = employer("110000"), employer("310000")
    reg = hire_register(actor=hr_of(bj), employer=bj, data=hire_data())
    accepted = registration_accept(
        actor=agency(), registration_id=reg.pk, registered_on=date(2025, 3, 20)
    )
    ssn = accepted.person.ssn
    assert ssn and check_id(ssn, "foreigner_ssn").valid
    assert ssn.startswith("911276")  # 9 + Beijing 11 + Germany 276 (expatsi convention)
    employment_end(actor=hr_of(bj), employment_id=reg.employment_id, on=date(2025, 12, 31))
    again = hire_register(
        actor=hr_of(sh),
        employer=sh,
        data=hire_data(  # the card she holds (one card number, issue #10)
            start_date=date(2026, 1, 10),
            residence_permit_number="",
        ),
    )
    assert again.person_id == reg.person_id  # same passport: the same person
    registration_accept(
        actor=agency(frozenset({"310000"})),
        registration_id=again.pk,
        registered_on=date(2026, 1, 20),
    )
    person = Person.objects.get(pk=reg.person_id)
    assert person.ssn == ssn  # kept for life, though the new employer is in Shanghai
    assert Person.objects.count() == 1


def test_accept_twice_is_a_conflict():
    emp = employer()
    reg = hire_register(actor=hr_of(emp), employer=emp, data=hire_data())
    registration_accept(actor=agency(), registration_id=reg.pk)
    with pytest.raises(Conflict):
        registration_accept(actor=agency(), registration_id=reg.pk)


def test_hr_and_other_regions_cannot_accept():
    emp, other = employer("110000"), employer("110000")
    reg = hire_register(actor=hr_of(emp), employer=emp, data=hire_data())
    with pytest.raises(Forbidden):
        registration_accept(actor=hr_of(emp), registration_id=reg.pk)
    with pytest.raises(NotFound):
        registration_accept(actor=hr_of(other), registration_id=reg.pk)
    with pytest.raises(NotFound):
        registration_accept(actor=agency(frozenset({"310000"})), registration_id=reg.pk)
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.SUBMITTED
    assert Person.objects.get().ssn is None


# --- the 30-day clock, worked by hand -----------------------------------------------------------
# Permit issued 1 March 2025; counting starts on 2 March, so day 30 — the last day on time — is
# 31 March 2025. "Due soon" is the last 7 days (24–31 March).


@pytest.mark.parametrize(
    ("today", "status", "days_left", "days_late"),
    [
        (date(2025, 3, 10), "on_time", 21, None),
        (date(2025, 3, 23), "on_time", 8, None),
        (date(2025, 3, 24), "due_soon", 7, None),
        (date(2025, 3, 31), "due_soon", 0, None),
        (date(2025, 4, 1), "overdue", -1, 1),
        (date(2025, 4, 12), "overdue", -12, 12),
    ],
)
def test_deadline_status_while_waiting(today, status, days_left, days_late):
    emp = employer()
    reg = hire_register(actor=SYSTEM, employer=emp, data=hire_data())
    assert reg.deadline == date(2025, 3, 31)
    view = registration_deadline_status(reg, today)
    assert (view.status, view.days_left, view.days_late) == (status, days_left, days_late)


@pytest.mark.parametrize(
    ("registered_on", "status", "days_late"),
    [
        (date(2025, 3, 31), "registered_on_time", None),
        (date(2025, 4, 5), "registered_late", 5),
        (date(2025, 5, 1), "registered_late", 31),
    ],
)
def test_deadline_status_once_registered(registered_on, status, days_late):
    emp = employer()
    reg = hire_register(actor=SYSTEM, employer=emp, data=hire_data())
    reg = registration_accept(actor=agency(), registration_id=reg.pk, registered_on=registered_on)
    view = registration_deadline_status(reg, date(2026, 1, 1))
    assert (view.status, view.days_late) == (status, days_late)


def test_factory_hire_has_its_deadline():
    reg = hire(employer(), permit_issued=date(2025, 3, 1))
    assert reg.deadline == date(2025, 3, 1) + timedelta(days=30)
