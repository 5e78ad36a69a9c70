"""Building cards and codes for the API, page, CLI and PDF tests."""

from __future__ import annotations

import zlib
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from expatsi.cards import keys, services
from expatsi.cards.models import Card, CardStatus
from expatsi.credentials import base45
from expatsi.credentials import token as qr_token
from expatsi.credentials.keys import LocalSigner
from expatsi.employers.models import Employer
from expatsi.people.models import Person
from tests.factories import LIVE_CARD_STATUSES, card_through_steps


def today() -> date:
    return timezone.localdate()


def active_card(employer: Employer, person: Person, *, days: int | None = None) -> Card:
    """The person's card in force: the one they already hold when a world's hire put it on file
    (a person holds one live card, as in production), else one built through the card steps —
    application, approval, entry — valid ``days`` (365 by default) from today.

    A card already held keeps its own validity, so asking for ``days`` of a person who holds one
    is a mistake in the test (take a person without a card, such as the API world's ``pa2``)."""
    held = Card.objects.filter(person=person, status__in=LIVE_CARD_STATUSES).first()
    if held is not None:
        assert held.employer_id == employer.pk and held.status == CardStatus.ACTIVE, (
            f"{person} already holds card {held.pk} ({held.status}) at another employer"
        )
        assert days is None, f"{person} already holds card {held.pk}, valid to {held.valid_to}"
        return held
    return card_through_steps(employer, person, valid_to=today() + timedelta(days=days or 365))


def claims(valid_from: date, valid_to: date) -> qr_token.CardClaims:
    return qr_token.CardClaims(
        card_number="11260000000001",
        permit_number="112026000000000017",
        ssn="911276198005170018",
        name="MUELLER Hans",
        nationality="DEU",
        category="B",
        employer="Example Technology (Beijing) Co., Ltd.",
        valid_from=valid_from,
        valid_to=valid_to,
    )


def expired_code() -> str:
    text, _sig = qr_token.issue(
        claims(today() - timedelta(days=400), today() - timedelta(days=2)), keys.keyring().current
    )
    return text


def not_yet_valid_code() -> str:
    text, _sig = qr_token.issue(
        claims(today() + timedelta(days=3), today() + timedelta(days=300)), keys.keyring().current
    )
    return text


def wrong_key_code() -> str:
    text, _sig = qr_token.issue(
        claims(today() - timedelta(days=1), today() + timedelta(days=300)), LocalSigner.generate()
    )
    return text


def flip_byte(text: str, offset: int = -3) -> str:
    """Flip one byte of the signed envelope (inside the signature by default) and re-encode."""
    envelope = bytearray(zlib.decompress(base45.decode(text[len(qr_token.PREFIX) :])))
    envelope[offset] ^= 0x01
    return qr_token.PREFIX + base45.encode(zlib.compress(bytes(envelope), 9))


def revoke(card: Card) -> None:
    with transaction.atomic():
        services.tokens_revoke(card, "test")
    keys.revocation_list_document(fresh=True)
