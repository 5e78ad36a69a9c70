"""Writes for the Integrated Card: apply, decide, enter, extend, change, deregister, expire, import.

Every function is one transaction; it locks the card (and the application) it changes, checks the
transition against ``states.TRANSITIONS``, writes the card's history and the audit trail, and
notifies the people concerned after commit. Two concurrent approvals of one application cannot both
win: the second finds it no longer submitted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from stdnum import luhn

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.access.crypto import masked
from expatsi.audit.services import audit_record
from expatsi.cards import keys, permissions, revocations, states
from expatsi.cards.card_document import card_document_sync
from expatsi.cards.models import (
    ApplicationKind,
    ApplicationStatus,
    Card,
    CardApplication,
    CardEvent,
    CardStatus,
    CardToken,
    Category,
    PermitNumber,
)
from expatsi.credentials import token as qr_token
from expatsi.credentials.trust import revocation_hash
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment
from expatsi.insurance.services import employment_end
from expatsi.notify.services import notify_employer_hr, notify_user
from expatsi.people.models import Person
from expatsi.people.services import passport_replace
from expatsi.rules.deadlines import deadline
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError

CHANGE_FIELDS = (
    "family_name",
    "given_names",
    "passport_country",
    "passport_number",
    "position",
    "category",
)
DEREGISTRATION_REASONS = ("contract_ended", "death", "employer_gone", "other")


# --- numbering (CONVENTIONs: no official layout was available) ---------------------------------


def permit_number_for(person: Person, region_code: str) -> str:
    """The person's work permit number, created on first need and kept for life.

    CONVENTION (the official structure is not published): 2-digit province + 4-digit year +
    11-digit serial + Luhn check digit = 18 digits.
    """
    existing = PermitNumber.objects.filter(person=person).first()
    if existing is not None:
        return existing.number
    row = PermitNumber.objects.create(person=person, number=f"tmp-{person.pk}")
    body = f"{region_code[:2]}{timezone.localdate().year:04d}{row.pk:011d}"
    row.number = body + luhn.calc_check_digit(body)
    row.save(update_fields=["number"])
    return row.number


def card_number_for(card: Card) -> str:
    """CONVENTION: 2-digit province + 2-digit year + 10-digit serial (the card's id)."""
    return f"{card.employer.region_code[:2]}{timezone.localdate().year % 100:02d}{card.pk:010d}"


# --- helpers ------------------------------------------------------------------------------------


def _lock_card(card_id: int) -> Card:
    card = (
        Card.objects.select_for_update()
        .select_related("employer", "person")
        .filter(pk=card_id)
        .first()
    )
    if card is None:
        raise NotFound("not_found", f"no card {card_id}", "card_id")
    return card


def _event(card: Card, action: str, before: str, actor: Actor, **detail: Any) -> None:
    CardEvent.objects.create(
        card=card,
        action=action,
        from_status=before,
        to_status=card.status,
        actor_label=actor.label,
        detail={k: str(v) for k, v in detail.items()},
    )
    audit_record(
        actor=actor,
        action=f"card.{action}",
        object_type="card",
        object_id=card.pk,
        person_id=card.person_id,
        detail={"from": before, "to": card.status, **detail},
    )


def _move(card: Card, action: str, actor: Actor, **detail: Any) -> None:
    before = card.status
    card.status = states.next_status(card.status, action)
    card.save()
    card_document_sync(card, actor=actor)  # the person's document says what the card says
    _event(card, action, before, actor, **detail)


def _notify(card: Card, kind: str, **params: Any) -> None:

    def send() -> None:
        payload = {
            "person": card.person.full_name,
            "card_number": card.card_number or "",
            # stored as JSON with the notification: dates travel as ISO text
            **{k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()},
        }
        key = f"{kind}:{card.pk}:{params.get('application', '')}:{card.status}"
        notify_employer_hr(employer=card.employer, kind=kind, params=payload, dedupe_key=key)
        user = card.person.user
        if user is not None:
            notify_user(user=user, kind=kind, params=payload, dedupe_key=key)

    transaction.on_commit(send)


def token_issue(card: Card) -> CardToken:
    """Sign a fresh QR token for an active card with the current key."""
    ring = keys.keyring()
    claims = qr_token.CardClaims(
        card_number=card.card_number or "",
        permit_number=card.permit_number,
        ssn=card.person.ssn or "",
        name=card.person.full_name,
        nationality=card.person.nationality,
        category=card.category,
        employer=card.employer.name,
        valid_from=card.valid_from or timezone.localdate(),
        valid_to=card.valid_to or timezone.localdate(),
        photo_hash=card.photo_hash,
    )
    serial = CardToken.objects.filter(card=card).count() + 1  # the card row is locked by the caller
    text, signature = qr_token.issue(claims, ring.current, serial=serial)
    return CardToken.objects.create(
        card=card,
        text=text,
        kid=ring.current.kid.hex(),
        revocation_hash=revocation_hash(signature).hex(),
    )


def tokens_revoke(card: Card, reason: str) -> int:
    n = CardToken.objects.filter(card=card, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    if n:
        transaction.on_commit(lambda: keys.revocation_list_document(fresh=True))
        transaction.on_commit(revocations.mark_stale)
    return n


# --- first application --------------------------------------------------------------------------


def card_apply(
    *,
    actor: Actor,
    employer: Employer,
    person: Person,
    category: str,
    position: str,
    valid_to: date,
    photo: bytes | None = None,
) -> CardApplication:
    """The employer applies online for a foreigner new to China (notice + card in one application)."""
    permissions.require_apply(actor, employer)
    if category not in Category.values:
        raise RuleError("invalid_category", "category must be A, B or C", "category")
    if valid_to <= timezone.localdate():
        raise RuleError(
            "invalid_valid_to", "the requested validity must end in the future", "valid_to"
        )
    validation.validity(
        timezone.localdate(),
        valid_to,
        kind="integrated_card",
        start_field="valid_to",
        end_field="valid_to",
    )
    try:
        with transaction.atomic():
            card = Card.objects.create(
                person=person,
                employer=employer,
                category=category,
                position=validation.required_text(position, "position"),
                valid_to=valid_to,
                photo=photo,
                photo_hash=hashlib.sha256(photo).hexdigest()[:32] if photo else "",
            )
            app = CardApplication.objects.create(
                card=card,
                kind=ApplicationKind.FIRST_ENTRY,
                filed_by_id=actor.user_id,
                filed_as="employer",
                request={"valid_to": valid_to.isoformat()},
            )
            _event(card, "apply", "", actor, application=app.pk)
    except IntegrityError:
        raise Conflict(
            "live_card_exists",
            "this person already has a card in progress or in force",
            "person_id",
        ) from None
    return app


def card_record_entry(*, actor: Actor, card_id: int, entry_date: date) -> Card:
    """The holder entered China on the work permit notice: the card becomes active."""
    with transaction.atomic():
        card = _lock_card(card_id)
        permissions.require_filing_role(actor, card)
        if (
            card.status == CardStatus.NOTICE_ISSUED
            and card.notice_valid_to
            and entry_date > card.notice_valid_to
        ):
            raise RuleError(
                "notice_lapsed",
                f"the work permit notice was valid only until {card.notice_valid_to}",
                "entry_date",
            )
        if card.notice_issued_on and entry_date < card.notice_issued_on:
            raise RuleError(
                "entry_before_notice", "entry cannot precede the work permit notice", "entry_date"
            )
        card.entry_date = entry_date
        card.valid_from = max(card.valid_from or entry_date, entry_date)
        card.residence_permit_due = deadline("residence_permit", entry_date).due
        _move(card, "enter", actor, entry_date=entry_date)
        token_issue(card)
    _notify(card, "card_active", residence_permit_due=card.residence_permit_due)
    return card


# --- later applications -------------------------------------------------------------------------


def _file(
    card: Card,
    actor: Actor,
    kind: str,
    request: dict[str, Any],
    event_date: date | None,
    clock: str | None,
    *,
    passport_number: str = "",
) -> CardApplication:
    filed_as = permissions.require_filing_role(actor, card)
    states.check_fileable(card.status, kind)
    due = deadline(clock, event_date).due if clock and event_date else None
    late = due is not None and timezone.localdate() > due
    try:
        with transaction.atomic():
            app = CardApplication.objects.create(
                card=card,
                kind=kind,
                filed_by_id=actor.user_id,
                filed_as=filed_as,
                request=request,
                passport_number=passport_number,
                event_date=event_date,
                deadline=due,
                late=late,
            )
    except IntegrityError:
        raise Conflict(
            "application_open",
            "this card already has an application awaiting a decision",
            "card_id",
        ) from None
    audit_record(
        actor=actor,
        action=f"card.file_{kind}",
        object_type="card_application",
        object_id=app.pk,
        person_id=card.person_id,
        detail={"deadline": due, "late": late},
    )
    return app


def card_extend_request(
    *, actor: Actor, card_id: int, new_valid_to: date, today: date | None = None
) -> CardApplication:
    """Apply to extend: the window opens 30 days before expiry (SECONDARY: agency guides)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        card = _lock_card(card_id)
        states.check_fileable(card.status, "extension")
        assert card.valid_to is not None
        window = deadline("permit_extension_window", card.valid_to)
        opens = window.opens or card.valid_to - timedelta(days=30)
        if today < opens:
            raise RuleError(
                "extension_window_not_open",
                f"an extension can be filed from {opens} (30 days before "
                f"the card expires on {card.valid_to})",
                "new_valid_to",
            )
        if new_valid_to <= card.valid_to:
            raise RuleError(
                "not_an_extension", f"the new date must be after {card.valid_to}", "new_valid_to"
            )
        validation.validity(
            card.valid_to,
            new_valid_to,
            kind="integrated_card",
            start_field="new_valid_to",
            end_field="new_valid_to",
        )
        return _file(
            card, actor, "extension", {"new_valid_to": new_valid_to.isoformat()}, None, None
        )


def card_change_request(
    *, actor: Actor, card_id: int, changes: dict[str, str], change_date: date
) -> CardApplication:
    """Apply to change personal data, passport, position or category: within 10 days of the change."""
    unknown = sorted(set(changes) - set(CHANGE_FIELDS))
    if unknown or not changes:
        raise RuleError(
            "invalid_change",
            f"changes may name only {', '.join(CHANGE_FIELDS)}",
            unknown[0] if unknown else "changes",
        )
    if "category" in changes and changes["category"] not in Category.values:
        raise RuleError("invalid_category", "category must be A, B or C", "category")
    passport_number = ""
    if "passport_number" in changes:
        passport_number = validation.passport_number(changes["passport_number"])
        changes = {**changes, "passport_number": masked(passport_number)}  # the number: encrypted
    with transaction.atomic():
        card = _lock_card(card_id)
        return _file(
            card,
            actor,
            "change",
            {"changes": changes},
            change_date,
            "permit_change",
            passport_number=passport_number,
        )


def card_deregister_request(
    *, actor: Actor, card_id: int, reason: str, end_date: date
) -> CardApplication:
    """Apply to cancel the permit: end of contract, death, employer gone — within 10 working days."""
    if reason not in DEREGISTRATION_REASONS:
        raise RuleError(
            "invalid_reason", f"reason must be one of {', '.join(DEREGISTRATION_REASONS)}", "reason"
        )
    with transaction.atomic():
        card = _lock_card(card_id)
        return _file(
            card, actor, "deregistration", {"reason": reason}, end_date, "permit_cancellation"
        )


# --- decisions ----------------------------------------------------------------------------------


def application_decide(
    *, actor: Actor, application_id: int, approve: bool, reason: str = ""
) -> CardApplication:
    """Agency staff approve or reject (a rejection needs a reason)."""
    if not approve:
        reason = validation.required_text(reason, "reason", max_length=300, multiline=True)
    with transaction.atomic():
        app = CardApplication.objects.select_for_update().filter(pk=application_id).first()
        if app is None:
            raise NotFound("not_found", f"no application {application_id}", "application_id")
        card = _lock_card(app.card_id)
        permissions.require_decide(actor, card, application_id)
        if app.status != ApplicationStatus.SUBMITTED:
            raise Conflict("already_decided", f"the application is already {app.status}", "status")
        app.status = ApplicationStatus.APPROVED if approve else ApplicationStatus.REJECTED
        app.decided_by_id = actor.user_id
        app.decided_at = timezone.now()
        app.reason = reason
        app.save()
        if approve:
            _apply(card, app, actor)
        elif app.kind == ApplicationKind.FIRST_ENTRY:
            _move(card, "reject_first_entry", actor, application=app.pk, reason=reason)
        else:
            _event(
                card, f"reject_{app.kind}", card.status, actor, application=app.pk, reason=reason
            )
    _notify(
        card,
        "card_application_approved" if approve else "card_application_rejected",
        application=app.pk,
        application_kind=app.get_kind_display(),
        reason=reason,
    )
    return app


def _convert_legacy(card: Card) -> None:
    """No change, no replacement: the first extension or change turns a physical permit into an
    Integrated Card with the same permit number."""
    if card.legacy:
        card.legacy = False
        if not card.card_number:
            card.card_number = card_number_for(card)


def _apply(card: Card, app: CardApplication, actor: Actor) -> None:
    if app.kind == ApplicationKind.FIRST_ENTRY:
        today = timezone.localdate()
        card.permit_number = permit_number_for(card.person, card.employer.region_code)
        card.card_number = card_number_for(card)
        card.notice_issued_on = today
        card.notice_valid_to = deadline("work_permit_notice_validity", today).due
        _move(
            card,
            "approve_first_entry",
            actor,
            application=app.pk,
            notice_valid_to=card.notice_valid_to,
        )
    elif app.kind == ApplicationKind.EXTENSION:
        old = card.valid_to
        card.valid_to = date.fromisoformat(app.request["new_valid_to"])
        _convert_legacy(card)
        _move(
            card, "extend", actor, application=app.pk, old_valid_to=old, new_valid_to=card.valid_to
        )
        tokens_revoke(card, "extended")
        token_issue(card)
    elif app.kind == ApplicationKind.CHANGE:
        changes: dict[str, str] = app.request["changes"]
        _apply_changes(card, changes, actor, passport_number=app.passport_number)
        _convert_legacy(card)
        _move(card, "change", actor, application=app.pk, fields=",".join(sorted(changes)))
        tokens_revoke(card, "changed")
        token_issue(card)
    elif app.kind == ApplicationKind.DEREGISTRATION:
        card.deregistered_on = app.event_date
        card.deregistration_reason = app.request.get("reason", "")
        _move(card, "deregister", actor, application=app.pk, on=app.event_date)
        tokens_revoke(card, "deregistered")
        _end_enrolment(card, app.event_date or timezone.localdate(), actor)


def _apply_changes(
    card: Card, changes: dict[str, str], actor: Actor, *, passport_number: str
) -> None:
    person = card.person
    if "family_name" in changes or "given_names" in changes:
        person.family_name = changes.get("family_name", person.family_name)
        person.given_names = changes.get("given_names", person.given_names)
        person.save(update_fields=["family_name", "given_names", "updated_at"])
    if "passport_number" in changes:
        passport_replace(
            actor=actor,
            person=person,
            country=changes.get("passport_country", person.nationality),
            number=passport_number,
        )
    if "position" in changes:
        card.position = validation.required_text(changes["position"], "position")
    if "category" in changes:
        card.category = changes["category"]


def _end_enrolment(card: Card, end: date, actor: Actor) -> None:
    """Deregistration ends the employment (so the enrolment stops from the next month) and opens
    the departure choice for the person (keep the account, or terminate and take the lump sum)."""

    open_employments = Employment.objects.filter(
        person=card.person, employer=card.employer, end_date__isnull=True, start_date__lte=end
    ).values_list("pk", flat=True)
    for employment_id in list(open_employments):
        employment_end(actor=actor, employment_id=employment_id, on=end)
    _notify(card, "departure_choice_open", end_date=end)


# --- photo --------------------------------------------------------------------------------------

PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_MAX_SIDE = 600
PHOTO_FORMATS = ("JPEG", "PNG")


class PhotoTooLarge(RuleError):
    status = 413


def _normalise_photo(data: bytes) -> bytes:
    """A JPEG or PNG portrait, re-encoded as a small JPEG without metadata (nothing else survives).

    The pixel count is checked from the header before anything is decoded (a small PNG can
    declare gigapixels), and a JPEG is decoded at a reduced scale straight away.
    """
    import io

    from expatsi import images

    if not data:
        raise RuleError("invalid_photo", "the photo must be a JPEG or PNG file", "photo")
    if len(data) > PHOTO_MAX_BYTES:
        raise PhotoTooLarge("photo_too_large", "the photo must be at most 2 MB", "photo")
    try:
        image = images.decode(
            data,
            field="photo",
            formats=PHOTO_FORMATS,
            draft=("RGB", (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE)),
            what="the photo",
        )
    except images.ImageTooLarge as exc:
        raise PhotoTooLarge("photo_too_large", exc.message, "photo") from None
    except RuleError as exc:
        raise RuleError("invalid_photo", exc.message, "photo") from None
    if min(image.size) < 100:
        raise RuleError(
            "invalid_photo", "the photo must be at least 100 pixels wide and high", "photo"
        )
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


def card_photo_set(*, actor: Actor, card_id: int, photo: bytes) -> Card:
    """Attach the holder's photo. The QR code carries a hash of it, so an active card's code is
    re-issued (and the previous one revoked)."""
    normalised = _normalise_photo(photo)
    with transaction.atomic():
        card = _lock_card(card_id)
        permissions.require_set_photo(actor, card)
        if card.status not in (CardStatus.APPLIED, CardStatus.NOTICE_ISSUED, CardStatus.ACTIVE):
            raise Conflict(
                "invalid_transition",
                f"no photo can be added to a card that is {card.status}",
                "status",
            )
        card.photo = normalised
        card.photo_hash = hashlib.sha256(normalised).hexdigest()[:32]
        card.save(update_fields=["photo", "photo_hash", "updated_at"])
        _event(card, "photo", card.status, actor, photo_hash=card.photo_hash)
        if card.status == CardStatus.ACTIVE:
            tokens_revoke(card, "photo")
            token_issue(card)
    return card


# --- jobs and imports ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpiryReport:
    expired: int
    lapsed: int


def cards_expire(*, actor: Actor, today: date | None = None) -> ExpiryReport:
    """Permits not extended are cancelled automatically on expiry; unused notices lapse after 90 days."""
    today = today or timezone.localdate()
    expired = lapsed = 0
    for card_id in Card.objects.filter(status=CardStatus.ACTIVE, valid_to__lt=today).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            card = _lock_card(card_id)
            if card.status == CardStatus.ACTIVE and card.valid_to and card.valid_to < today:
                _move(card, "expire", actor, on=today)
                tokens_revoke(card, "expired")
                expired += 1
    for card_id in Card.objects.filter(
        status=CardStatus.NOTICE_ISSUED, notice_valid_to__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            card = _lock_card(card_id)
            if card.status == CardStatus.NOTICE_ISSUED:
                _move(card, "lapse", actor, on=today)
                lapsed += 1
    return ExpiryReport(expired, lapsed)


@dataclass(frozen=True)
class LegacyPermit:
    permit_number: str
    person: Person
    employer: Employer
    category: str
    position: str
    valid_from: date
    valid_to: date


def legacy_permit_import(*, actor: Actor, permit: LegacyPermit) -> Card:
    """Bring a physical work permit issued before 1 Dec 2024 on file: valid as it is, no QR token
    until its first extension or change converts it."""
    if not permissions.may_import_legacy_permit(actor, permit.employer):
        raise Forbidden("forbidden", "legacy permits are imported by agency staff", "")
    number = permit.permit_number.strip()
    if len(number) != 18 or not number.isdigit():
        raise RuleError(
            "invalid_permit_number", "a work permit number has 18 digits", "permit_number"
        )
    if permit.category not in Category.values:
        raise RuleError("invalid_category", "category must be A, B or C", "category")
    validation.span(
        permit.valid_from, permit.valid_to, start_field="valid_from", end_field="valid_to"
    )
    with transaction.atomic():
        held = PermitNumber.objects.filter(number=number).first()
        if held is not None and held.person_id != permit.person.pk:
            raise Conflict(
                "permit_number_taken",
                f"permit number {number} belongs to another person",
                "permit_number",
            )
        if held is None:
            if PermitNumber.objects.filter(person=permit.person).exists():
                raise Conflict(
                    "person_has_permit_number",
                    "this person already has another permit number",
                    "permit_number",
                )
            PermitNumber.objects.create(person=permit.person, number=number)
        status = (
            CardStatus.ACTIVE if permit.valid_to >= timezone.localdate() else CardStatus.EXPIRED
        )
        try:
            with transaction.atomic():
                card = Card.objects.create(
                    person=permit.person,
                    employer=permit.employer,
                    permit_number=number,
                    category=permit.category,
                    position=permit.position,
                    valid_from=permit.valid_from,
                    valid_to=permit.valid_to,
                    status=status,
                    legacy=True,
                )
        except IntegrityError:
            raise Conflict(
                "live_card_exists", "this person already has a card in force", "person_id"
            ) from None
        _event(card, "import_legacy", "", actor, permit_number=number)
    return card
