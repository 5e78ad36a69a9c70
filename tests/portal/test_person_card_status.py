"""One card number: the person page shows the card's own status from the cards app, not a
separate "Valid" computed from the hire's document dates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from expatsi.access.actors import SYSTEM
from expatsi.cards import services as card_services
from expatsi.cards.models import CardStatus
from expatsi.people.services import document_add, person_find_or_create
from tests.cards.helpers import active_card, today
from tests.portal.factories import hire_data, make_agency, make_employer, make_hire, make_hr
from tests.portal.test_views import logged_in

pytestmark = pytest.mark.django_db


def _card_row(body: str, number: str) -> str:
    start = body.index(f'<td class="mono">{number}</td>')
    return body[start : body.index("</tr>", start)]


@pytest.fixture
def hired():
    """A hire that names the person's card on file: the hire records that card."""
    employer = make_employer()
    hr = make_hr(employer)
    person, _ = person_find_or_create(actor=SYSTEM, data=hire_data().person)
    card = active_card(employer, person)
    reg = make_hire(employer, hr, permit_number=card.card_number)
    card.refresh_from_db()
    assert reg.permit_id == card.document_id
    return employer, hr, person, card.document, card


def test_a_deregistered_card_is_not_listed_as_valid(hired):
    _, hr, person, doc, card = hired
    app = card_services.card_deregister_request(
        actor=SYSTEM,
        card_id=card.pk,
        reason=card_services.DEREGISTRATION_REASONS[0],
        end_date=today(),
    )
    card_services.application_decide(actor=SYSTEM, application_id=app.pk, approve=True)
    card.refresh_from_db()
    assert card.status == CardStatus.DEREGISTERED
    row = _card_row(logged_in(hr).get(f"/people/{person.pk}/").content.decode(), doc.number)
    assert "Deregistered" in row
    assert ">Valid<" not in row and "Valid</span>" not in row


def test_an_active_card_shows_its_status_and_links_to_the_card(hired):
    _, _, person, doc, card = hired
    body = logged_in(make_agency()).get(f"/people/{person.pk}/").content.decode()
    row = _card_row(body, doc.number)
    assert "Active" in row
    assert f'href="/cards/{card.pk}/"' in row


def test_a_typed_card_number_no_card_stands_behind_is_never_called_valid():
    """A number typed on a hire before hires recorded the card: its dates say nothing about
    whether a card is in force, so the page says it is not on the card register."""
    employer = make_employer()
    hr = make_hr(employer)
    reg = make_hire(employer, hr)
    # A number typed on a hire before issue #10, left on file (migration cards 0004 links only
    # numbers a card stands behind): written as those hires filed it.
    doc = document_add(
        actor=SYSTEM,
        person=reg.person,
        kind="integrated_card",
        number="IC1100199900042",
        issued_on=today() - timedelta(days=400),
        valid_to=today() + timedelta(days=330),
    )
    row = _card_row(logged_in(hr).get(f"/people/{reg.person.pk}/").content.decode(), doc.number)
    assert "Valid</span>" not in row and "Not on the card register" in row
