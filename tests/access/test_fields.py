"""Encrypted model fields (access/fields.py): the keyed hash follows the number on every save, so a
corrected number is found by its new value and no longer by the old one; a blank value stays blank
(no token, no hash); and nothing but ``isnull`` can filter the encrypted column itself."""

from __future__ import annotations

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from expatsi.access.crypto import search_hash, search_hashes
from expatsi.cards.models import CardApplication
from expatsi.people.models import Passport
from tests.factories import CardFactory, PassportFactory

pytestmark = pytest.mark.django_db


def found(number: str) -> list[int]:
    return list(
        Passport.objects.filter(number_hash__in=search_hashes(number)).values_list("pk", flat=True)
    )


def stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_a_corrected_number_is_found_by_its_new_value_only() -> None:
    passport = PassportFactory(number="C01X00T47")
    assert found("c01x 00t47") == [passport.pk]
    passport.number = "C4J8LM2N1"
    passport.save()
    assert found("C4J8LM2N1") == [passport.pk]
    assert found("C01X00T47") == []
    assert stored("people_passport", "number_hash", passport.pk) == search_hash("C4J8LM2N1")


def test_a_blank_value_is_stored_blank_without_a_token() -> None:
    application = CardApplication.objects.create(
        card=CardFactory(), kind="extension", filed_as="employer"
    )
    assert stored("cards_cardapplication", "passport_number", application.pk) == ""
    application.refresh_from_db()
    assert application.passport_number == ""


def test_the_encrypted_column_can_only_be_asked_whether_it_is_empty() -> None:
    PassportFactory(number="C01X00T47")
    assert Passport.objects.filter(number__isnull=False).count() == 1
    for lookup in ("number", "number__startswith", "number__iexact"):
        with pytest.raises(FieldError, match="number_hash__in=search_hashes"):
            Passport.objects.filter(**{lookup: "C01X00T47"}).count()
    with pytest.raises(FieldError, match="it has no search hash"):
        CardApplication.objects.filter(passport_number="C01X00T47").count()
