"""One card number (issue #10): a hire records the person's card on file — or its application
while the card awaits a decision — never a second, free-typed number; and the person's record
follows the card through approval and deregistration."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.apps import apps
from django.test import Client

from expatsi.access.actors import SYSTEM
from expatsi.cards import services as cards
from expatsi.cards.models import Card, CardStatus
from expatsi.insurance.imports import hires_import
from expatsi.insurance.models import Registration
from expatsi.insurance.services import hire_register
from expatsi.people.models import Document, DocumentKind, Person
from expatsi.people.services import person_find_or_create
from expatsi.rules.deadlines import deadline
from expatsi.rules.errors import RuleError
from tests.cards.helpers import active_card, today
from tests.factories import (
    DocumentFactory,
    HireDataFactory,
    HrMembershipFactory,
    PersonDataFactory,
    RegisteredEmployerFactory,
    UserFactory,
)
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer():
    return RegisteredEmployerFactory(region_code="110000")


def _person(**over):
    data = PersonDataFactory(**over)
    person, _ = person_find_or_create(actor=SYSTEM, data=data)
    return data, person


def _hire_data(person_data, number, **over):
    """A hire starting today that names the card by ``number`` and types no card dates."""
    values = {
        "person": person_data,
        "permit_number": number,
        "permit_issued_on": None,
        "permit_valid_to": None,
        "start_date": today(),
        "residence_permit_issued_on": today() - timedelta(days=5),
    }
    values.update(over)
    return HireDataFactory(**values)


def _deregister(card: Card) -> None:
    app = cards.card_deregister_request(
        actor=SYSTEM, card_id=card.pk, reason="contract_ended", end_date=today()
    )
    cards.application_decide(actor=SYSTEM, application_id=app.pk, approve=True)


# --- the service -----------------------------------------------------------------------------------


def test_a_hire_records_the_existing_card_with_the_cards_own_number_and_dates(employer):
    data, person = _person()
    card = active_card(employer, person)
    reg = hire_register(actor=SYSTEM, employer=employer, data=_hire_data(data, card.card_number))
    card.refresh_from_db()
    assert reg.permit_id == card.document_id
    doc = card.document
    assert (doc.kind, doc.number) == (DocumentKind.INTEGRATED_CARD, card.card_number)
    assert (doc.issued_on, doc.valid_to) == (card.notice_issued_on, card.valid_to)
    assert reg.permit_issued_on == card.notice_issued_on
    assert reg.deadline == deadline("registration", card.notice_issued_on).due


def test_the_permit_number_names_the_same_card_and_files_no_second_document(employer):
    data, person = _person()
    card = active_card(employer, person)
    reg = hire_register(actor=SYSTEM, employer=employer, data=_hire_data(data, card.permit_number))
    assert reg.permit.card.pk == card.pk
    kinds = [DocumentKind.INTEGRATED_CARD, DocumentKind.WORK_PERMIT]
    assert Document.objects.filter(person=person, kind__in=kinds).count() == 1


def test_a_hire_on_a_pending_application_takes_the_clock_from_the_approval(employer):
    data, person = _person()
    app = cards.card_apply(
        actor=SYSTEM,
        employer=employer,
        person=person,
        category="B",
        position="Engineer",
        valid_to=today() + timedelta(days=700),
    )
    filed = today() - timedelta(days=12)  # the application was filed twelve days ago
    Card.objects.filter(pk=app.card_id).update(created_at=app.card.created_at - timedelta(days=12))
    reg = hire_register(actor=SYSTEM, employer=employer, data=_hire_data(data, f"a {app.pk}"))
    doc = reg.permit
    assert doc.number == "" and doc.card.pk == app.card_id  # no number before the card has one
    assert reg.permit_issued_on == filed  # provisional, until the card is issued

    cards.application_decide(actor=SYSTEM, application_id=app.pk, approve=True)
    card = Card.objects.get(pk=app.card_id)
    doc.refresh_from_db()
    reg.refresh_from_db()
    assert doc.number == card.card_number and doc.issued_on == card.notice_issued_on == today()
    assert reg.permit_issued_on == today()
    assert reg.deadline == deadline("registration", today()).due


@pytest.mark.parametrize("case", ["unknown", "another_person", "deregistered"])
def test_a_wrong_card_is_refused_on_the_card_field_and_nothing_is_kept(employer, case):
    data, person = _person()
    number = "11269999999999"
    code = "card_unknown"
    if case == "another_person":
        _other_data, other = _person(family_name="Other")
        number = active_card(employer, other).card_number
        code = "card_of_another_person"
    elif case == "deregistered":
        card = active_card(employer, person)
        _deregister(card)
        number = card.card_number
        code = "card_not_in_force"
    with pytest.raises(RuleError) as raised:
        hire_register(actor=SYSTEM, employer=employer, data=_hire_data(data, number))
    assert (raised.value.code, raised.value.field) == (code, "permit_number")
    assert not Registration.objects.exists()


# --- the person page: the card's truth, never a stale typed copy ----------------------------------


def _row(body: str, number: str) -> str:
    start = body.index(f'<td class="mono">{number}</td>')
    return body[start : body.index("</tr>", start)]


def _agency_page(person: Person) -> str:
    from tests.portal.factories import make_agency

    client = Client()
    verified_login(client, make_agency())
    return client.get(f"/people/{person.pk}/").content.decode()


def test_after_deregistration_the_person_page_shows_no_card_number_as_valid(employer):
    """The reported case: the number typed at hire (before hires recorded the card) stayed
    "Valid" after the card approved later was deregistered."""
    data, person = _person()
    typed = DocumentFactory(person=person, number="IC1100202600001")  # typed on an old hire
    card = active_card(employer, person)
    hire_register(actor=SYSTEM, employer=employer, data=_hire_data(data, card.card_number))
    _deregister(card)
    card.refresh_from_db()
    assert card.status == CardStatus.DEREGISTERED

    body = _agency_page(person)
    old, current = _row(body, typed.number), _row(body, card.card_number)
    assert "Valid</span>" not in old and "Not on the card register" in old
    assert "Valid</span>" not in current and "Deregistered" in current
    card.document.refresh_from_db()
    assert card.document.valid_to == today()  # eligibility reads the end too


def test_existing_typed_documents_are_linked_to_their_card_by_number(employer):
    """The data migration: a document typed with a card's number becomes that card's."""
    migration = __import__(
        "expatsi.cards.migrations.0004_card_document", fromlist=["link_typed_documents"]
    )
    _data, person = _person()
    card = active_card(employer, person)
    Card.objects.filter(pk=card.pk).update(document=None)
    typed = DocumentFactory(person=person, number=card.card_number)
    stranger = DocumentFactory(number=card.permit_number)  # another person's: left alone
    migration.link_typed_documents(apps, None)
    card.refresh_from_db()
    assert card.document_id == typed.pk
    assert not Card.objects.filter(document=stranger).exists()


# --- form, API and import: a field-level refusal --------------------------------------------------


def _hr(employer):
    user = UserFactory(username="hr-one-card")
    HrMembershipFactory(user=user, employer=employer)
    client = Client()
    verified_login(client, user)
    return client


def _form(employer, number):
    return {
        "employer": employer.pk,
        "family_name": "Okafor",
        "given_names": "Chidi",
        "sex": "male",
        "birth_date": "1988-02-28",
        "nationality": "NGA",
        "passport_number": "A07654321",
        "permit_number": number,
        "residence_permit_number": "E07654321",
        "residence_permit_issued_on": (today() - timedelta(days=3)).isoformat(),
        "start_date": today().isoformat(),
        "position": "Data analyst",
        "monthly_wage": "31200.50",
    }


def test_the_hire_form_records_the_card_and_refuses_an_unknown_number_on_its_field(employer):
    _data, person = _person(
        family_name="Okafor",
        given_names="Chidi",
        sex="male",
        birth_date=date(1988, 2, 28),
        nationality="NGA",
        passport_number="A07654321",
    )
    card = active_card(employer, person)
    client = _hr(employer)
    refused = client.post("/hires/new/", _form(employer, "11269999999999"))
    assert refused.status_code == 400
    assert refused.context["form"].errors["permit_number"] == [
        "No Integrated Card, work permit or card application has this number: check it, or "
        "apply for the card first."
    ]
    done = client.post("/hires/new/", _form(employer, card.card_number))
    assert done.status_code == 302
    assert Registration.objects.get().permit_id == Card.objects.get(pk=card.pk).document_id


def test_the_hire_api_refuses_another_persons_card_with_a_400_on_permit_number(employer):
    from tests.api.conftest import API, hire_payload

    _other, other = _person(family_name="Other")
    number = active_card(employer, other).card_number
    client = _hr(employer)
    body = hire_payload(employer.pk, permit_number=number)
    r = client.post(API + "/registrations/hire", body, content_type="application/json")
    assert r.status_code == 400, r.content
    assert (r.json()["code"], r.json()["field"]) == ("card_of_another_person", "permit_number")


def test_the_import_reports_a_deregistered_card_on_its_row_and_column(employer):
    data, person = _person()
    card = active_card(employer, person)
    _deregister(card)
    row = {
        "family_name": data.family_name,
        "given_names": data.given_names,
        "sex": data.sex,
        "birth_date": data.birth_date.isoformat(),
        "nationality": data.nationality,
        "passport_number": data.passport_number,
        "permit_number": card.card_number,
        "start_date": today().isoformat(),
        "position": "Engineer",
        "monthly_wage": "30000.00",
    }
    report = hires_import(actor=SYSTEM, employer=employer, rows=[row], dry_run=True)
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (2, "permit_number", "card_not_in_force")
    ]


def test_the_card_page_gives_the_application_number_a_hire_names(employer):
    from tests.portal.factories import make_agency

    _data, person = _person()
    app = cards.card_apply(
        actor=SYSTEM,
        employer=employer,
        person=person,
        category="B",
        position="Engineer",
        valid_to=today() + timedelta(days=700),
    )
    client = Client()
    verified_login(client, make_agency())
    body = client.get(f"/cards/{app.card_id}/").content.decode()
    assert f'<span class="mono" id="application-number">A{app.pk}</span>' in body
