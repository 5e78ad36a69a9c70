"""One card number: the person's document for a card is the card's, never a typed copy.

A hire records the card on file (or its application while it awaits a decision) through
:func:`card_document_for_hire`, which the cards app registers with insurance at start
(``insurance.cardlink``). The card owns the link to that document and :func:`card_document_sync`
keeps its kind, number, dates and validity in step with every approval, entry, extension, change,
deregistration, expiry or lapse, so that a person page, the eligibility rules and the registration
clock read the card's truth and nothing stale.
"""

from __future__ import annotations

import re
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.cards.models import Card, CardApplication, CardStatus
from expatsi.insurance.services import registrations_permit_issued
from expatsi.people.models import Document, DocumentKind, Person
from expatsi.rules.errors import RuleError

# A card application is named "A" and its number (as the card page shows it).
APPLICATION_REFERENCE = re.compile(r"^A-?(\d{1,12})$")
# Cards that a new hire may rest on: applied for, notice issued, or in force.
LIVE = (CardStatus.APPLIED, CardStatus.NOTICE_ISSUED, CardStatus.ACTIVE)
# A card ended for good: its document ends with it.
ENDED = (CardStatus.REJECTED, CardStatus.LAPSED)


def application_reference(application: CardApplication) -> str:
    return f"A{application.pk}"


def _fields(card: Card) -> dict[str, object]:
    """What the card's document says, worked out from the card alone."""
    number = card.card_number or card.permit_number or ""
    # Before approval: the day the application was filed (provisional, replaced on approval).
    issued = card.notice_issued_on or card.valid_from or timezone.localdate(card.created_at)
    start = card.valid_from or issued
    end: date | None = card.valid_to
    if card.status == CardStatus.DEREGISTERED and card.deregistered_on is not None:
        end = min(end, card.deregistered_on) if end else card.deregistered_on
    elif card.status in ENDED:
        end = start  # never in force
    if end is not None and end < start:
        end = start
    return {
        "kind": DocumentKind.WORK_PERMIT if card.legacy else DocumentKind.INTEGRATED_CARD,
        "number": number,
        "issued_on": issued,
        "valid_from": start,
        "valid_to": end,
        "authority": "",
    }


def card_document_sync(card: Card, *, actor: Actor, create: bool = False) -> Document | None:
    """Bring the card's document in step with the card (``create``: make it if there is none).

    A card with no document and ``create`` false is left alone: it gets one when a hire records
    it. When the card is approved (the document gains its number and issue date), registrations
    filed on the application get the 30-day clock from that date (``registrations_permit_issued``).
    """
    fields = _fields(card)
    doc = card.document
    if doc is None:
        if not create:
            return None
        with transaction.atomic():
            doc = _adopt_typed(card, fields)
            if doc is None:
                doc = Document.objects.create(person_id=card.person_id, **fields)
            Card.objects.filter(pk=card.pk).update(document=doc)
            card.document = doc
            audit_record(
                actor=actor,
                action="person.document",
                object_type="document",
                object_id=doc.pk,
                person_id=card.person_id,
                detail={"kind": doc.kind, "card": card.pk},
            )
        return doc
    changed = [name for name, value in fields.items() if getattr(doc, name) != value]
    if not changed:
        return doc
    was_pending = not doc.number
    for name in changed:
        setattr(doc, name, fields[name])
    try:
        with transaction.atomic():
            doc.save(update_fields=changed)
    except IntegrityError:
        # The number is on file as another person's typed document: keep this document's number,
        # take the card's dates (the agency sorts out the other record).
        doc.refresh_from_db()
        rest = [name for name in changed if name not in ("number", "kind")]
        for name in rest:
            setattr(doc, name, fields[name])
        if rest:
            doc.save(update_fields=rest)
    if was_pending and doc.number:
        registrations_permit_issued(actor=actor, document=doc)
    return doc


def _adopt_typed(card: Card, fields: dict[str, object]) -> Document | None:
    """A document of this person typed with this card's number before the link existed: it
    becomes the card's (in step from now on) instead of a second copy."""
    numbers = [n for n in (card.card_number, card.permit_number) if n]
    if not numbers:
        return None
    doc = (
        Document.objects.filter(
            person_id=card.person_id,
            kind__in=[DocumentKind.INTEGRATED_CARD, DocumentKind.WORK_PERMIT],
            number__in=numbers,
            card__isnull=True,
        )
        .order_by("-pk")
        .first()
    )
    if doc is None:
        return None
    for name, value in fields.items():
        setattr(doc, name, value)
    try:
        with transaction.atomic():
            doc.save()
    except IntegrityError:
        doc.refresh_from_db()
    return doc


def _find(reference: str) -> Card | None:
    match = APPLICATION_REFERENCE.match(reference)
    if match is not None:
        app = CardApplication.objects.select_related("card").filter(pk=int(match.group(1))).first()
        return app.card if app is not None else None
    return (
        Card.objects.filter(Q(card_number=reference) | Q(permit_number=reference))
        .order_by("-pk")
        .first()
    )


def card_document_for_hire(*, actor: Actor, person: Person, reference: str, field: str) -> Document:
    """The person's document for the card ``reference`` names: its card number, its 18-digit
    work permit number, or ``A`` and the number of its application while it awaits a decision.

    Refused on ``field``: a number no card or application has; another person's card (without
    saying whose); a card that is no longer in force (deregistered, expired, rejected, lapsed).
    The person's live card is the one taken when a permit number names several of their cards.
    """
    ref = (reference or "").replace(" ", "").upper()
    if not ref:
        raise RuleError(
            "card_required",
            "give the number of the person's Integrated Card or work permit, "
            "or A and the number of the card application",
            field,
        )
    card = _find(ref)
    if card is not None and card.person_id == person.pk and card.status not in LIVE:
        # A permit number is the person's for life: a live card of theirs may carry it too.
        live = Card.objects.filter(person=person, status__in=LIVE, permit_number=ref).first()
        card = live or card
    if card is None:
        raise RuleError(
            "card_unknown",
            f"no Integrated Card, work permit or card application {ref} is on file: check the "
            "number, or apply for the card first",
            field,
            {"number": ref},
        )
    if card.person_id != person.pk:
        raise RuleError(
            "card_of_another_person",
            f"{ref} is not a card of this person: check the number and the passport",
            field,
            {"number": ref},
        )
    if card.status not in LIVE:
        raise RuleError(
            "card_not_in_force",
            f"card {ref} is {card.status}: a hire needs a card that is in force or applied for",
            field,
            {"number": ref, "status": card.status},
        )
    doc = card_document_sync(card, actor=actor, create=True)
    assert doc is not None
    return doc
