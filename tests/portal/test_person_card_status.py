"""One card number: the person page shows the card's own status from the cards app, not a
separate "Valid" computed from the hire's document dates."""

from __future__ import annotations

import pytest

from expatsi.access.actors import SYSTEM
from expatsi.cards import services as card_services
from expatsi.cards.models import Card, CardStatus
from expatsi.people.models import Document
from tests.cards.helpers import active_card, today
from tests.portal.factories import make_agency, make_employer, make_hire, make_hr
from tests.portal.test_views import logged_in

pytestmark = pytest.mark.django_db


def _card_row(body: str, number: str) -> str:
    start = body.index(f'<td class="mono">{number}</td>')
    return body[start : body.index("</tr>", start)]


@pytest.fixture
def hired():
    employer = make_employer()
    hr = make_hr(employer)
    reg = make_hire(employer, hr)
    doc = Document.objects.get(person=reg.person, kind="integrated_card")
    card = active_card(employer, reg.person)
    # The card approved later carries the number typed on the hire form.
    Card.objects.filter(pk=card.pk).update(permit_number=doc.number)
    return employer, hr, reg.person, doc, card


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


def test_a_document_without_a_card_keeps_its_dates_validity():
    employer = make_employer()
    hr = make_hr(employer)
    reg = make_hire(employer, hr)
    doc = Document.objects.get(person=reg.person, kind="integrated_card")
    row = _card_row(logged_in(hr).get(f"/people/{reg.person.pk}/").content.decode(), doc.number)
    assert "Valid</span>" in row
