"""Reads of Integrated Cards, always within the actor's scope (``cards.permissions``): agency
staff see the cards of employers in their regions, HR its employers' cards, a foreign employee
their own; the public none (it verifies codes instead). An invisible card is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.cards import permissions
from expatsi.cards.models import (
    ApplicationStatus,
    Card,
    CardApplication,
    CardEvent,
    CardToken,
)
from expatsi.insurance.models import Registration
from expatsi.insurance.selectors import registration_deadline_status
from expatsi.people.models import DocumentKind
from expatsi.people.permissions import may_see_full_passport
from expatsi.rules.deadlines import deadline
from expatsi.rules.errors import NotFound
from expatsi.rules.first_entry import first_entry_steps as policy_steps


def cards_visible(actor: Actor) -> QuerySet[Card]:
    qs = Card.objects.select_related("person", "employer")
    scope = permissions.card_scope(actor)
    return qs if scope is None else qs.filter(scope)


def card_list(*, actor: Actor, status: str = "", query: str = "") -> QuerySet[Card]:
    qs = cards_visible(actor)
    if status:
        qs = qs.filter(status=status)
    q = query.strip()
    if q:
        qs = qs.filter(
            Q(person__family_name__icontains=q)
            | Q(person__given_names__icontains=q)
            | Q(card_number=q)
            | Q(permit_number=q)
            | Q(person__ssn=q.upper())
        )
    return qs.order_by("-updated_at", "-pk")


def card_get(*, actor: Actor, card_id: int, audit: bool = True) -> Card:
    """One card the actor may see; the read of personal data is audited."""
    card = cards_visible(actor).filter(pk=card_id).first()
    if card is None:
        raise NotFound("not_found", f"no card {card_id} that you may see", "card_id")
    if audit:
        audit_record(
            actor=actor,
            action="card.read",
            object_type="card",
            object_id=card.pk,
            person_id=card.person_id,
        )
    return card


def card_current_token(card: Card) -> CardToken | None:
    """The token a holder shows now: the newest one not revoked."""
    return card.tokens.filter(revoked_at__isnull=True).order_by("-issued_at", "-pk").first()


def applications_visible(actor: Actor) -> QuerySet[CardApplication]:
    qs = CardApplication.objects.select_related("card", "card__person", "card__employer")
    scope = permissions.card_scope(actor, "card__")
    return qs if scope is None else qs.filter(scope)


def applications_awaiting_decision(*, actor: Actor) -> QuerySet[CardApplication]:
    """The agency's decision queue, oldest first (by deadline where the law sets one)."""
    if not permissions.may_decide_applications(actor):
        return CardApplication.objects.none()
    return (
        applications_visible(actor)
        .filter(status=ApplicationStatus.SUBMITTED)
        .order_by("filed_at", "pk")
    )


def application_request_for(actor: Actor, app: CardApplication) -> dict[str, Any]:
    """The application's request as ``actor`` may see it: a change's new passport number is stored
    masked in the request and encrypted beside it; those allowed see it whole
    (:mod:`expatsi.people.permissions`, as the passport about to become current)."""
    request: dict[str, Any] = app.request
    changes = request.get("changes")
    if not app.passport_number or not isinstance(changes, dict) or "passport_number" not in changes:
        return request
    if not may_see_full_passport(actor, app.card.person_id, current=True):
        return request
    return {**request, "changes": {**changes, "passport_number": app.passport_number}}


def application_get(*, actor: Actor, application_id: int) -> CardApplication:
    app = applications_visible(actor).filter(pk=application_id).first()
    if app is None:
        raise NotFound("not_found", f"no application {application_id}", "application_id")
    return app


def application_list(*, actor: Actor, status: str = "") -> QuerySet[CardApplication]:
    """Applications the actor may see, oldest first; ``status`` keeps one status."""
    qs = applications_visible(actor)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("filed_at", "pk")


def card_open_application(card: Card) -> CardApplication | None:
    """The card's application awaiting a decision (at most one is open at a time)."""
    return card.applications.filter(status=ApplicationStatus.SUBMITTED).first()


def card_applications(card: Card) -> QuerySet[CardApplication]:
    """Every application filed for the card (the card was found in the reader's scope)."""
    return card.applications.all()


def card_history(card: Card) -> QuerySet[CardEvent]:
    """The card's events, in the model's order."""
    return card.events.all()


def cards_of_documents(*, actor: Actor, document_ids: set[int]) -> dict[int, tuple[Card, bool]]:
    """For each of these documents that is a card's (a hire records the card on file, and the card
    keeps its document in step), that card and whether ``actor`` may open it.

    The card's own status (deregistered, expired …) is the truth: a page must never call a
    deregistered card "Valid" from the document's dates.
    """
    if not document_ids:
        return {}
    cards = list(Card.objects.filter(document_id__in=document_ids))
    visible = set(
        cards_visible(actor).filter(pk__in=[c.pk for c in cards]).values_list("pk", flat=True)
    )
    return {card.document_id: (card, card.pk in visible) for card in cards if card.document_id}


@dataclass(frozen=True)
class Step:
    """One step of a first entry, with its date or deadline and where it stands.

    ``law``, ``status`` and ``source`` come from national/first_entry.toml (the step's rule)."""

    key: str
    label: str
    day: date | None
    state: str  # done | pending | due_soon | overdue | not_applicable | not_recorded
    note: str = ""
    law: str = ""
    status: str = ""
    source: str = ""


def first_entry_steps(card: Card, today: date | None = None) -> list[Step]:
    """The steps of national/first_entry.toml in their order (application → notice → Z visa →
    entry → 24-hour lodging registration → residence permit → social insurance registration →
    e-SSC activation), each with its deadline from deadlines.toml and where this card stands.
    Steps expatsi does not record (lodging, e-SSC) say so rather than guess."""
    from django.utils import timezone, translation
    from django.utils.translation import gettext as _

    today = today or timezone.localdate()
    language = translation.get_language()
    first = card.applications.filter(kind="first_entry").order_by("filed_at").first()
    entered = card.entry_date
    lapsed = card.status == "lapsed"

    def computed(key: str) -> tuple[date | None, str, str]:
        if key == "applied":
            return (
                first.filed_at.date() if first else None,
                "done" if first else "not_applicable",
                "",
            )
        if key == "notice":
            if card.notice_issued_on:
                note = _("valid until %(day)s") % {"day": card.notice_valid_to}
                return card.notice_issued_on, "overdue" if lapsed else "done", note
            return None, "pending" if card.status == "applied" else "not_applicable", ""
        if key == "z_visa":
            if entered:
                return None, "done", ""
            if card.notice_valid_to:
                note = _("apply while the notice is valid, by %(day)s") % {
                    "day": card.notice_valid_to
                }
                return card.notice_valid_to, "overdue" if lapsed else "pending", note
            return None, "pending" if card.status == "applied" else "not_applicable", ""
        if key == "entry":
            if entered:
                return entered, "done", ""
            waiting = card.status == "notice_issued"
            return card.notice_valid_to, "pending" if waiting else "not_applicable", ""
        if key == "lodging":
            if not entered:
                return None, "not_applicable", ""
            due = deadline("lodging_registration", entered).due
            return (
                due,
                "not_recorded",
                _("done at the police station or the hotel; not recorded here"),
            )
        if key == "residence":
            if not entered:
                return None, "not_applicable", ""
            has_residence = card.person.documents.filter(
                kind=DocumentKind.RESIDENCE_PERMIT, valid_from__gte=entered
            ).exists()
            rp_due = card.residence_permit_due
            late = rp_due is not None and today > rp_due
            return rp_due, "done" if has_residence else ("overdue" if late else "pending"), ""
        if key == "registration":
            reg = (
                Registration.objects.filter(person=card.person, employer=card.employer)
                .exclude(status="rejected")
                .order_by("-submitted_at")
                .first()
            )
            if reg is None:
                return None, "pending", _("not yet submitted")
            view = registration_deadline_status(reg, today)
            state = {
                "registered_on_time": "done",
                "registered_late": "done",
                "overdue": "overdue",
                "due_soon": "due_soon",
            }.get(view.status, "pending")
            note = (
                _("registered on %(day)s") % {"day": reg.registered_on} if reg.registered_on else ""
            )
            return reg.deadline, state, note
        if key == "essc":
            if not entered:
                return None, "not_applicable", ""
            return None, "not_recorded", _("no national deadline; done by the holder in the app")
        return None, "not_recorded", ""

    steps: list[Step] = []
    for rule in policy_steps():
        day, state, note = computed(rule.key)
        steps.append(
            Step(
                rule.key,
                rule.label(language),
                day,
                state,
                note,
                law=rule.law,
                status=rule.provenance.status.value,
                source=rule.provenance.source,
            )
        )
    return steps


# --- lists (web.lists) ------------------------------------------------------------------------------


def card_search(qs: QuerySet[Card], query: str) -> QuerySet[Card]:
    """Narrow cards by the holder's name or social security number, or the card or permit
    number (exact)."""
    q = query.strip()
    if not q:
        return qs
    return qs.filter(
        Q(person__family_name__icontains=q)
        | Q(person__given_names__icontains=q)
        | Q(person__chinese_name__icontains=q)
        | Q(card_number=q)
        | Q(permit_number=q)
        | Q(person__ssn=q.upper())
    )


def application_search(qs: QuerySet[CardApplication], query: str) -> QuerySet[CardApplication]:
    """Narrow applications by their card's holder, card or permit number, or employer."""
    q = query.strip()
    if not q:
        return qs
    return qs.filter(
        Q(card__person__family_name__icontains=q)
        | Q(card__person__given_names__icontains=q)
        | Q(card__person__chinese_name__icontains=q)
        | Q(card__card_number=q)
        | Q(card__permit_number=q)
        | Q(card__person__ssn=q.upper())
        | Q(card__employer__name__icontains=q)
        | Q(card__employer__name_zh__icontains=q)
    )


def applications_by_ids(*, actor: Actor, ids: list[int]) -> QuerySet[CardApplication]:
    """The applications among ``ids`` the actor may see (a bulk decision's selection)."""
    return applications_visible(actor).filter(pk__in=ids).order_by("filed_at", "pk")
