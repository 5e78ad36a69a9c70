"""Writes for people (people/services.py): a person is registered once and found again by passport,
a renewed passport keeps the old one as history, documents are filed once; bad input names its
field, and a number someone else holds is refused without saying who holds it.

(There is no service that edits a person's name or birth date: a person's record changes through a
new passport or new documents, which is what these test.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.utils import timezone

from expatsi.access.actors import PUBLIC, SYSTEM, Actor
from expatsi.audit.models import AuditEvent
from expatsi.people.models import Document, Passport, Person
from expatsi.people.services import document_add, passport_replace, person_find_or_create
from expatsi.rules.errors import Conflict, Forbidden, RuleError
from tests.factories import DocumentFactory, PersonDataFactory, PersonFactory

pytestmark = pytest.mark.django_db

HR = Actor("hr", None, "hr", employer_ids=frozenset({1}))
EMPLOYEE = Actor("employee", None, "someone", person_id=1)


def today() -> date:
    return timezone.localdate()


# --- registering a person -----------------------------------------------------------------------


def test_a_new_person_gets_their_passport_as_the_current_one_and_an_audit_event() -> None:
    data = PersonDataFactory(
        family_name=" Schmidt ", nationality="deu", passport_number="c01x 00t47", email=""
    )
    person, created = person_find_or_create(actor=HR, data=data)
    assert created and person.family_name == "Schmidt" and person.nationality == "DEU"
    [passport] = person.passports.all()
    assert (passport.country, passport.number, passport.is_current) == ("DEU", "C01X00T47", True)
    event = AuditEvent.objects.get(action="person.create")
    assert event.person_id == person.pk and event.actor_kind == "hr"


def test_the_passport_may_be_issued_by_another_country_than_the_nationality() -> None:
    person, _ = person_find_or_create(
        actor=HR, data=PersonDataFactory(nationality="DEU", passport_country="aut")
    )
    assert person.nationality == "DEU" and person.passports.get().country == "AUT"


def test_the_same_passport_with_the_name_in_another_case_is_the_same_person() -> None:
    data = PersonDataFactory(family_name="Schmidt", passport_number="C01X00T47")
    person, _ = person_find_or_create(actor=HR, data=data)
    again, created = person_find_or_create(
        actor=SYSTEM, data=replace(data, family_name="SCHMIDT", given_names="A.")
    )
    assert again.pk == person.pk and not created
    assert (
        Person.objects.count() == 1
        and AuditEvent.objects.filter(action="person.create").count() == 1
    )


@pytest.mark.parametrize(
    "change",
    [{"family_name": "Schmitt"}, {"birth_date": date(1990, 4, 13)}, {"nationality": "AUT"}],
)
def test_a_passport_held_by_someone_else_is_refused_without_naming_them(change: dict) -> None:
    data = PersonDataFactory(family_name="Schmidt", passport_number="C01X00T47")
    person_find_or_create(actor=HR, data=data)
    with pytest.raises(Conflict) as exc:
        person_find_or_create(actor=HR, data=replace(data, passport_country="DEU", **change))
    assert (exc.value.code, exc.value.field) == ("passport_unavailable", "passport_number")
    assert "Schmidt" not in exc.value.message and "contact the social insurance agency" in (
        exc.value.message
    )
    assert Person.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"family_name": "  "}, "family_name", "required"),
        ({"family_name": "Schmidt\r\nBcc: x@example.org"}, "family_name", "control_characters"),
        ({"given_names": "A" * 151}, "given_names", "too_long"),
        ({"email": "anna@"}, "email", "invalid_email"),
        ({"sex": "x"}, "sex", "invalid_sex"),
        ({"preferred_language": "fr"}, "preferred_language", "invalid_language"),
        ({"nationality": "DE"}, "nationality", "unknown_country"),
        ({"passport_number": "AB1"}, "passport_number", "invalid_passport_number"),
        ({"passport_country": "XXX"}, "passport_country", "unknown_country"),
        ({"birth_date": date(2199, 1, 1)}, "birth_date", "invalid_birth_date"),
    ],
)
def test_bad_input_names_its_field_and_writes_nothing(change: dict, field: str, code: str) -> None:
    with pytest.raises(RuleError) as exc:
        person_find_or_create(actor=HR, data=PersonDataFactory(**change))
    assert (exc.value.field, exc.value.code) == (field, code)
    assert not Person.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize("actor", [EMPLOYEE, PUBLIC])
def test_only_agency_staff_hr_and_the_system_register_people(actor: Actor) -> None:
    with pytest.raises(Forbidden):
        person_find_or_create(actor=actor, data=PersonDataFactory())
    person = PersonFactory()
    with pytest.raises(Forbidden):
        passport_replace(actor=actor, person=person, country="DEU", number="C4J8LM2N1")
    with pytest.raises(Forbidden):
        document_add(
            actor=actor, person=person, kind="work_permit", number="WP1", issued_on=today()
        )


# --- passports ----------------------------------------------------------------------------------


def test_a_renewed_passport_becomes_current_and_the_old_one_stays_as_history() -> None:
    person = PersonFactory(passport__number="C01X00T47")
    new = passport_replace(
        actor=HR,
        person=person,
        country="deu",
        number="c4j8 lm2n1",
        issued_on=date(2026, 1, 5),
        expires_on=date(2036, 1, 4),
    )
    assert (new.number, new.country, new.is_current) == ("C4J8LM2N1", "DEU", True)
    assert list(
        Passport.objects.filter(person=person).order_by("pk").values_list("is_current", flat=True)
    ) == [False, True]
    # The person is still found by the old number (a border record may carry it).
    again, created = person_find_or_create(
        actor=HR,
        data=PersonDataFactory(
            family_name=person.family_name,
            birth_date=person.birth_date,
            passport_number="C01X00T47",
        ),
    )
    assert again.pk == person.pk and not created
    assert AuditEvent.objects.get(action="person.passport").detail == {"country": "DEU"}


def test_a_passport_someone_else_holds_is_refused_and_the_current_one_stays() -> None:
    PersonFactory(passport__number="TK1234567", passport__country="JPN")
    person = PersonFactory(passport__number="C01X00T47")
    with pytest.raises(Conflict) as exc:
        passport_replace(actor=HR, person=person, country="JPN", number="TK1234567")
    assert exc.value.code == "passport_unavailable"
    assert person.passports.get(is_current=True).number == "C01X00T47"
    assert not AuditEvent.objects.filter(action="person.passport").exists()


def test_implausible_passport_dates_are_refused_on_their_field() -> None:
    person = PersonFactory()
    with pytest.raises(RuleError) as exc:
        passport_replace(
            actor=HR, person=person, country="DEU", number="C4J8LM2N1", expires_on=date(9999, 1, 1)
        )
    assert exc.value.field == "expires_on"
    assert person.passports.filter(is_current=True).count() == 1


# --- documents ----------------------------------------------------------------------------------


def test_a_document_is_filed_with_its_number_normalised_and_valid_from_its_issue() -> None:
    person = PersonFactory()
    doc = document_add(
        actor=HR,
        person=person,
        kind="residence_permit",
        number=" e1100 0002 ",
        issued_on=today() - timedelta(days=3),
        valid_to=today() + timedelta(days=700),
        authority="Beijing PSB",
    )
    assert (doc.number, doc.valid_from, doc.authority) == (
        "E11000002",
        today() - timedelta(days=3),
        "Beijing PSB",
    )
    assert AuditEvent.objects.get(action="person.document").detail == {"kind": "residence_permit"}


def test_the_same_document_filed_again_for_the_same_person_is_not_doubled() -> None:
    doc = DocumentFactory(number="IC110001")
    again = document_add(
        actor=HR, person=doc.person, kind=doc.kind, number="ic110001", issued_on=doc.issued_on
    )
    assert again.pk == doc.pk and Document.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_a_document_number_someone_else_holds_is_refused_without_naming_them() -> None:
    DocumentFactory(number="IC110001", person__family_name="Holder")
    with pytest.raises(Conflict) as exc:
        document_add(
            actor=HR,
            person=PersonFactory(),
            kind="integrated_card",
            number="IC110001",
            issued_on=today(),
        )
    assert (exc.value.code, exc.value.field) == ("document_unavailable", "integrated_card_number")
    assert "Holder" not in exc.value.message


def test_the_same_number_on_another_kind_of_document_is_another_document() -> None:
    doc = DocumentFactory(number="X1100001", kind="work_permit")
    other = document_add(
        actor=HR,
        person=PersonFactory(),
        kind="residence_permit",
        number="X1100001",
        issued_on=today(),
    )
    assert other.pk != doc.pk


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"kind": "visa"}, "kind", "invalid_document_kind"),
        ({"number": "ＩＣ１"}, "integrated_card_number", "not_ascii"),
        ({"number": " "}, "integrated_card_number", "required"),
        ({"valid_to": date(2020, 1, 1)}, "integrated_card_valid_to", "end_before_start"),
        ({"valid_to": date(2031, 6, 1)}, "integrated_card_valid_to", "validity_too_long"),
        ({"issued_on": date(1800, 1, 1)}, "integrated_card_issued_on", "date_out_of_range"),
        ({"authority": "PSB\nBcc"}, "authority", "control_characters"),
    ],
)
def test_bad_documents_name_their_field_and_write_nothing(
    kwargs: dict, field: str, code: str
) -> None:
    values = {"kind": "integrated_card", "number": "IC1", "issued_on": date(2026, 1, 5)} | kwargs
    with pytest.raises(RuleError) as exc:
        document_add(actor=HR, person=PersonFactory(), **values)
    assert (exc.value.field, exc.value.code) == (field, code)
    assert not Document.objects.exists()


def test_a_permanent_resident_id_must_carry_its_check_digit() -> None:
    person = PersonFactory()
    card = document_add(
        actor=HR,
        person=person,
        kind="permanent_resident_id",
        number="911276198005170018",
        issued_on=date(2024, 3, 1),
    )
    assert card.number == "911276198005170018"
    for number in ("911276198005170019", "C01X00T47"):  # a typo; a passport number
        with pytest.raises(RuleError) as exc:
            document_add(
                actor=HR,
                person=person,
                kind="permanent_resident_id",
                number=number,
                issued_on=date(2024, 3, 1),
            )
        assert (exc.value.code, exc.value.field) == (
            "invalid_permanent_resident_id",
            "permanent_resident_id_number",
        )
