"""Reads of a person's passports and documents.

Which people an actor may see depends on employment and is decided a layer up
(``insurance.permissions``; ``insurance.selectors.person_get``): these take a person the caller has
already found that way, or name the person whose document is asked for.
"""

from __future__ import annotations

from django.db.models import QuerySet

from expatsi.people.models import Document, Passport, Person
from expatsi.rules.eligibility import DocumentSpan
from expatsi.rules.errors import NotFound


def passports_of(person: Person) -> QuerySet[Passport]:
    """Every passport on file, the current one first, then the newest."""
    return person.passports.order_by("-is_current", "-created_at", "-pk")


def current_passports() -> QuerySet[Passport]:
    """Current passports only (to prefetch with a list of people)."""
    return Passport.objects.filter(is_current=True)


def current_passport(person: Person) -> Passport | None:
    return person.passports.filter(is_current=True).first()


def documents_of(person: Person) -> QuerySet[Document]:
    """The person's documents by kind, the latest issued first."""
    return person.documents.order_by("kind", "-issued_on", "-pk")


def document_spans(person: Person) -> list[DocumentSpan]:
    """What the eligibility rules read of each document: its kind and when it is valid."""
    return [
        DocumentSpan(kind, start, end)
        for kind, start, end in person.documents.values_list("kind", "valid_from", "valid_to")
    ]


def document_of_person(*, person_id: int, document_id: int, field: str = "document_id") -> Document:
    """One document of this person; another person's is not found."""
    document = Document.objects.filter(pk=document_id, person_id=person_id).first()
    if document is None:
        raise NotFound("not_found", f"no document {document_id} of this person", field)
    return document
