"""Writes for people: creation (or finding the same person again), passports, documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.access.crypto import search_hashes
from expatsi.audit.services import audit_record
from expatsi.people.models import Document, DocumentKind, Language, Passport, Person, Sex
from expatsi.people.permissions import require_register_people
from expatsi.rules.errors import Conflict, RuleError
from expatsi.rules.identifiers import check_id

# A number on file for someone else is refused with the same words whoever holds it and wherever
# they work: an employer's HR must not learn who the holder is, their employer or their record.
# The agency sees every record and sorts it out.


def _passport_unavailable() -> Conflict:
    return Conflict(
        "passport_unavailable",
        "this passport cannot be registered with these details; "
        "please contact the social insurance agency",
        "passport_number",
    )


def _document_unavailable(field: str) -> Conflict:
    return Conflict(
        "document_unavailable",
        "this document number cannot be registered with these details; "
        "please contact the social insurance agency",
        field,
    )


@dataclass(frozen=True, slots=True)
class PersonData:
    family_name: str
    given_names: str
    sex: str
    birth_date: date
    nationality: str
    passport_number: str
    passport_country: str = ""
    chinese_name: str = ""
    email: str = ""
    phone: str = ""
    address_abroad: str = ""
    preferred_language: str = Language.EN


def person_find_or_create(*, actor: Actor, data: PersonData) -> tuple[Person, bool]:
    """The person holding this passport, or a new one.

    A foreigner who leaves and comes back, or changes employer, stays one person (and keeps the
    social security number for life). A passport already held by someone with another name or
    birth date is a conflict, never a silent merge.
    """
    require_register_people(actor)
    # Names and contact details reach e-mail headers and other systems: one line each, no control
    # characters, within the model's lengths; the address must be one.
    family = validation.required_text(data.family_name, "family_name", max_length=100)
    given = validation.text(data.given_names, "given_names", max_length=150)
    chinese = validation.text(data.chinese_name, "chinese_name", max_length=50)
    email = validation.email(data.email)
    phone = validation.text(data.phone, "phone", max_length=30)
    address = validation.text(data.address_abroad, "address_abroad", max_length=300)
    nationality = validation.nationality(data.nationality)
    number = validation.passport_number(data.passport_number)
    issuing = validation.nationality(data.passport_country or nationality, field="passport_country")
    if data.sex not in Sex.values:
        raise RuleError("invalid_sex", "sex must be male or female", "sex")
    validation.birth_date(data.birth_date)
    if data.preferred_language not in Language.values:
        raise RuleError(
            "invalid_language", "preferred language must be en or zh-hans", "preferred_language"
        )
    existing = (
        Passport.objects.select_related("person")
        .filter(country=issuing, number_hash__in=search_hashes(number))
        .first()
    )
    if existing is not None:
        person = existing.person
        same = (
            person.family_name.casefold() == family.casefold()
            and person.birth_date == data.birth_date
            and person.nationality == nationality
        )
        if not same:
            raise _passport_unavailable()
        return person, False
    with transaction.atomic():
        person = Person.objects.create(
            family_name=family,
            given_names=given,
            chinese_name=chinese,
            sex=data.sex,
            birth_date=data.birth_date,
            nationality=nationality,
            email=email,
            phone=phone,
            address_abroad=address,
            preferred_language=data.preferred_language,
        )
        try:
            with transaction.atomic():
                Passport.objects.create(
                    person=person, country=issuing, number=number, is_current=True
                )
        except IntegrityError:
            raise _passport_unavailable() from None
        audit_record(
            actor=actor,
            action="person.create",
            object_type="person",
            object_id=person.pk,
            person_id=person.pk,
        )
    return person, True


def passport_replace(
    *,
    actor: Actor,
    person: Person,
    country: str,
    number: str,
    issued_on: date | None = None,
    expires_on: date | None = None,
) -> Passport:
    """A new passport becomes current; the old one stays on file (history)."""
    require_register_people(actor)
    number = validation.passport_number(number)
    country = validation.nationality(country, field="passport_country")
    if issued_on is not None:
        validation.plausible_date(issued_on, "issued_on")
    if expires_on is not None:
        validation.plausible_date(expires_on, "expires_on")
    with transaction.atomic():
        Passport.objects.filter(person=person, is_current=True).update(is_current=False)
        try:
            with transaction.atomic():
                passport = Passport.objects.create(
                    person=person,
                    country=country,
                    number=number,
                    issued_on=issued_on,
                    expires_on=expires_on,
                    is_current=True,
                )
        except IntegrityError:
            raise _passport_unavailable() from None
        audit_record(
            actor=actor,
            action="person.passport",
            object_type="person",
            object_id=person.pk,
            person_id=person.pk,
            detail={"country": country},
        )
    return passport


def document_add(
    *,
    actor: Actor,
    person: Person,
    kind: str,
    number: str,
    issued_on: date,
    valid_from: date | None = None,
    valid_to: date | None = None,
    authority: str = "",
) -> Document:
    """File a work permit, Integrated Card, press card, residence permit or PR card."""
    require_register_people(actor)
    if kind not in DocumentKind.values:
        raise RuleError(
            "invalid_document_kind", f"kind must be one of {', '.join(DocumentKind.values)}", "kind"
        )
    number = validation.identifier(number, f"{kind}_number", max_length=40).replace(" ", "").upper()
    authority = validation.text(authority, "authority", max_length=200)
    validation.plausible_date(issued_on, f"{kind}_issued_on")
    start = valid_from or issued_on
    validation.validity(
        start, valid_to, kind=kind, start_field=f"{kind}_valid_from", end_field=f"{kind}_valid_to"
    )
    if kind == DocumentKind.PERMANENT_RESIDENT_ID:
        result = check_id(number)
        if not result.valid or result.kind not in (
            "permanent_resident_id",
            "permanent_resident_id_old",
        ):
            raise RuleError("invalid_permanent_resident_id", result.reason, f"{kind}_number")
    existing = Document.objects.filter(kind=kind, number=number).first()
    if existing is not None:
        if existing.person_id == person.pk:
            return existing  # the same document filed again: idempotent
        raise _document_unavailable(f"{kind}_number")
    with transaction.atomic():
        doc = Document.objects.create(
            person=person,
            kind=kind,
            number=number,
            issued_on=issued_on,
            valid_from=start,
            valid_to=valid_to,
            authority=authority,
        )
        audit_record(
            actor=actor,
            action="person.document",
            object_type="document",
            object_id=doc.pk,
            person_id=person.pk,
            detail={"kind": kind},
        )
    return doc
