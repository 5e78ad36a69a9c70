"""How a hire names the Integrated Card (or work permit) it rests on: by the card on file.

The hire records the person's existing card — or the card application while the card is not yet
approved — never a second, free-typed number. Cards live a layer above insurance, so the cards
app hands its lookup in at start (``CardsConfig.ready``), as employers hand access their API-token
lookup: given the person and the number the employer gave (card number, 18-digit work permit
number, or the application number ``A…``), it answers the person's document for that card, kept in
step with the card, or refuses with a field-level RuleError (unknown number, another person's
card, a card no longer in force).
"""

from __future__ import annotations

from typing import Protocol

from expatsi.access.actors import Actor
from expatsi.people.models import Document, DocumentKind, Person

# The employment documents that are cards in the cards app (the others — press card, permanent
# resident ID card — are documents of their own and are filed as such).
CARD_KINDS: frozenset[str] = frozenset({DocumentKind.INTEGRATED_CARD, DocumentKind.WORK_PERMIT})


class CardDocumentLookup(Protocol):
    def __call__(self, *, actor: Actor, person: Person, reference: str, field: str) -> Document:
        """The person's document for the card ``reference`` names, or a RuleError on ``field``."""
        ...


_lookup: CardDocumentLookup | None = None


def register_card_lookup(lookup: CardDocumentLookup) -> None:
    """Called once at start by the cards app."""
    global _lookup
    _lookup = lookup


def card_document(*, actor: Actor, person: Person, reference: str, field: str) -> Document:
    if _lookup is None:  # pragma: no cover - the cards app registers it at start
        raise RuntimeError("no card lookup registered: is expatsi.cards in INSTALLED_APPS?")
    return _lookup(actor=actor, person=person, reference=reference, field=field)


def is_pending(document: Document) -> bool:
    """A card's document before the card is approved: no number yet, so no registration clock."""
    return document.kind in CARD_KINDS and not document.number
