"""Reads of departures, applications, payouts and runs, always within the actor's scope.

A person sees their own; agency staff what belongs to their regions (the case's region, and the
person visible to them: insurance.selectors.persons_visible); everyone else nothing. An object
outside the scope is not found, whatever the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.benefits import ledger, permissions
from expatsi.benefits.models import (
    LIVE_CASE,
    SENT_KINDS,
    ApplicationStatus,
    DepartureCase,
    PaymentRun,
    Payout,
    PayoutStatus,
    TerminationApplication,
    Trigger,
)
from expatsi.cards.models import Card
from expatsi.insurance.models import Employment
from expatsi.people.models import Direction, EntryExit, Person
from expatsi.people.search import person_match
from expatsi.rules.accounts import LumpSum
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.retirement import RetirementAge


def cases_visible(actor: Actor) -> QuerySet[DepartureCase]:
    qs = DepartureCase.objects.select_related("person")
    scope = permissions.case_scope(actor)
    return qs if scope is None else qs.filter(scope)


def case_get(*, actor: Actor, case_id: int, audit: bool = True) -> DepartureCase:
    case = cases_visible(actor).filter(pk=case_id).first()
    if case is None:
        raise NotFound("not_found", f"no departure {case_id} that you may see", "case_id")
    if audit and permissions.reads_are_audited(actor):
        audit_record(
            actor=actor,
            action="departure.read",
            object_type="departure",
            object_id=case.pk,
            person_id=case.person_id,
        )
    return case


def my_cases(actor: Actor) -> QuerySet[DepartureCase]:
    return cases_visible(actor).order_by("-opened_at", "-pk")


def applications_visible(actor: Actor) -> QuerySet[TerminationApplication]:
    return TerminationApplication.objects.select_related("person", "case", "bank_account").filter(
        case__in=cases_visible(actor)
    )


def application_get(
    *, actor: Actor, termination_id: int, audit: bool = True
) -> TerminationApplication:
    app = applications_visible(actor).filter(pk=termination_id).first()
    if app is None:
        raise NotFound(
            "not_found",
            f"no termination application {termination_id} that you may see",
            "termination_id",
        )
    if audit and permissions.reads_are_audited(actor):
        audit_record(
            actor=actor,
            action="termination.read",
            object_type="termination",
            object_id=app.pk,
            person_id=app.person_id,
        )
    return app


def applications_queue(actor: Actor) -> QuerySet[TerminationApplication]:
    """Applications awaiting a first or a second decision, oldest first."""
    if not permissions.may_decide_applications(actor):
        return TerminationApplication.objects.none()
    return (
        applications_visible(actor)
        .filter(status__in=[ApplicationStatus.SUBMITTED, ApplicationStatus.SECOND_APPROVAL])
        .order_by("signed_at", "pk")
    )


def payouts_visible(actor: Actor) -> QuerySet[Payout]:
    qs = Payout.objects.select_related("person", "bank_account", "application", "heir")
    scope = permissions.region_scope(actor)
    return qs if scope is None else qs.filter(scope)


def payouts_pending(actor: Actor, region_code: str = "") -> QuerySet[Payout]:
    qs = payouts_visible(actor).filter(
        kind__in=SENT_KINDS, status=PayoutStatus.PENDING, run__isnull=True
    )
    return (qs.filter(region_code=region_code) if region_code else qs).order_by("pk")


def runs_visible(actor: Actor) -> QuerySet[PaymentRun]:
    scope = permissions.region_scope(actor)
    qs = PaymentRun.objects.all()
    return (qs if scope is None else qs.filter(scope)).order_by("-created_at", "-pk")


def run_get(*, actor: Actor, payment_run_id: int) -> PaymentRun:
    run = runs_visible(actor).filter(pk=payment_run_id).first()
    if run is None:
        raise NotFound(
            "not_found", f"no payment run {payment_run_id} that you may see", "payment_run_id"
        )
    return run


# --- what a person sees before choosing ----------------------------------------------------------


@dataclass(frozen=True)
class FoundDeparture:
    trigger: str
    on: date


def departure_found(person_id: int, today: date) -> FoundDeparture | None:
    """The event that makes a person's departure known, if there is one and no case covers it:
    a deregistered card, else an exit from China after the last employment ended, else the end
    of the last employment (none open on ``today``)."""
    if (
        Employment.objects.filter(person_id=person_id, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .exists()
    ):
        ended = None
    else:
        ended = (
            Employment.objects.filter(person_id=person_id, end_date__lt=today)
            .order_by("-end_date")
            .values_list("end_date", flat=True)
            .first()
        )
    card_day = (
        Card.objects.filter(
            person_id=person_id, deregistered_on__isnull=False, deregistered_on__lte=today
        )
        .order_by("-deregistered_on")
        .values_list("deregistered_on", flat=True)
        .first()
    )
    found: FoundDeparture | None = None
    if card_day is not None:
        found = FoundDeparture(Trigger.CARD_DEREGISTERED, card_day)
    elif ended is not None:
        exit_day = (
            EntryExit.objects.filter(
                person_id=person_id, direction=Direction.EXIT, date__gte=ended, date__lte=today
            )
            .order_by("-date")
            .values_list("date", flat=True)
            .first()
        )
        found = (
            FoundDeparture(Trigger.EXIT_RECORDED, exit_day)
            if exit_day
            else FoundDeparture(Trigger.EMPLOYMENT_ENDED, ended)
        )
    if found is None:
        return None
    covered = DepartureCase.objects.filter(person_id=person_id).filter(
        Q(status__in=LIVE_CASE) | Q(departure_date__gte=found.on)
    )
    return None if covered.exists() else found


@dataclass(frozen=True)
class Preview:
    """What the person sees before signing: the lump sum with its statement, and what stands in
    the way (pension age reached; months to settle)."""

    closing_date: date
    lump: LumpSum | None
    error: RuleError | None
    pension_age: RetirementAge | None
    unsettled: ledger.Unsettled


def preview(person: Person, closing_date: date) -> Preview:
    lump: LumpSum | None = None
    error: RuleError | None = None
    try:
        lump = ledger.lump_sum_on(person.pk, closing_date)
    except RuleError as exc:
        error = exc
    return Preview(
        closing_date=closing_date,
        lump=lump,
        error=error,
        pension_age=ledger.pension_age_reached(person, closing_date),
        unsettled=ledger.unsettled_months(person.pk, closing_date),
    )


# --- the signed form -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedForm:
    termination_id: int
    data: bytes
    content_type: str


def signed_form_get(*, actor: Actor, termination_id: int) -> SignedForm:
    """The uploaded signed application form, for agency staff who may review it; the read is
    audited. An application out of scope, or signed in the portal (no form), is not found."""
    app = applications_visible(actor).filter(pk=termination_id).first()
    if app is None or not permissions.may_read_signed_form(actor, app.case.region_code):
        raise NotFound(
            "not_found",
            f"no signed form of termination application {termination_id} that you may see",
            "termination_id",
        )
    if not app.signed_form:
        raise NotFound("no_signed_form", "this application was signed in the portal", "")
    audit_record(
        actor=actor,
        action="termination.form_read",
        object_type="termination",
        object_id=app.pk,
        person_id=app.person_id,
        detail={"content_type": app.signed_form_type, "bytes": len(app.signed_form)},
    )
    return SignedForm(app.pk, bytes(app.signed_form), app.signed_form_type)


def by_person(qs: QuerySet[Any], query: str) -> QuerySet[Any]:
    """A benefit list's rows whose person matches ``query`` as the person search matches people
    (names' starts, "FAMILY Given", social security or document number): one search for every
    list of the agency's queues."""
    return qs.filter(person__in=Person.objects.filter(person_match(query)))
