"""Reads of death reports and inheritance claims, always within the actor's scope (an object
outside it is not found), and the one question other services ask: is this person dead?

Kept apart from selectors.py so that services.py (departures, lump sums) can ask it without
importing the death services, which build on services.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.benefits import ledger, permissions
from expatsi.benefits.models import ClaimStatus, DeathDocument, DeathReport, InheritanceClaim
from expatsi.rules.accounts import LumpSum
from expatsi.rules.errors import Conflict, NotFound, RuleError


def death_of(person_id: int) -> DeathReport | None:
    return DeathReport.objects.filter(person_id=person_id).first()


def refuse_if_deceased(person_id: int, field: str = "person_id") -> None:
    """The account of a person reported dead is frozen: no departure, no lump sum — the balance
    goes to the heirs (Social Insurance Law Art. 14)."""
    death = death_of(person_id)
    if death is not None:
        on = death.died_on.isoformat()
        raise Conflict(
            "person_deceased",
            f"this person was reported dead (died on {on}): the individual account is frozen "
            "and its balance goes to the heirs through an inheritance claim",
            field,
            {"died_on": on},
        )


def deaths_visible(actor: Actor) -> QuerySet[DeathReport]:
    qs = DeathReport.objects.select_related("person")
    scope = permissions.death_scope(actor)
    return qs if scope is None else qs.filter(scope)


def death_get(*, actor: Actor, death_id: int, audit: bool = True) -> DeathReport:
    death = deaths_visible(actor).filter(pk=death_id).first()
    if death is None:
        raise NotFound("not_found", f"no death report {death_id} that you may see", "death_id")
    if audit and permissions.reads_are_audited(actor):
        audit_record(
            actor=actor,
            action="death.read",
            object_type="death",
            object_id=death.pk,
            person_id=death.person_id,
        )
    return death


def deaths_list(actor: Actor) -> QuerySet[DeathReport]:
    return deaths_visible(actor).order_by("-recorded_at", "-pk")


def claims_visible(actor: Actor) -> QuerySet[InheritanceClaim]:
    if not permissions.may_examine_deaths(actor) and actor.kind != "system":
        return InheritanceClaim.objects.none()
    return InheritanceClaim.objects.select_related("person", "death").filter(
        death__in=deaths_visible(actor)
    )


def claim_get(*, actor: Actor, claim_id: int, audit: bool = True) -> InheritanceClaim:
    claim = claims_visible(actor).filter(pk=claim_id).first()
    if claim is None:
        raise NotFound("not_found", f"no inheritance claim {claim_id} that you may see", "claim_id")
    if audit and permissions.reads_are_audited(actor):
        audit_record(
            actor=actor,
            action="inheritance.read",
            object_type="inheritance",
            object_id=claim.pk,
            person_id=claim.person_id,
        )
    return claim


def claims_queue(actor: Actor) -> QuerySet[InheritanceClaim]:
    """Claims awaiting a first or a second decision, oldest first."""
    return (
        claims_visible(actor)
        .filter(status__in=[ClaimStatus.SUBMITTED, ClaimStatus.SECOND_APPROVAL])
        .order_by("filed_at", "pk")
    )


def document_get(*, actor: Actor, document_id: int) -> DeathDocument:
    """One piece of evidence or claim document: agency staff of the report's region; the read is
    audited (a death certificate is another person's record)."""
    doc = (
        DeathDocument.objects.select_related("death")
        .filter(death__in=deaths_visible(actor), pk=document_id)
        .first()
    )
    if doc is None or not permissions.may_examine_deaths(actor):
        raise NotFound("not_found", f"no document {document_id} that you may see", "document_id")
    audit_record(
        actor=actor,
        action="death.document_read",
        object_type="death",
        object_id=doc.death_id,
        person_id=doc.death.person_id,
        detail={"document": doc.pk, "name": doc.name},
    )
    return doc


@dataclass(frozen=True)
class Balance:
    """The account on the date of death: what the heirs would share, and what stands in the way
    (months not yet billed or paid up to the month of death)."""

    lump: LumpSum | None
    error: RuleError | None
    unsettled: ledger.Unsettled


def balance_on_death(death: DeathReport) -> Balance:
    lump: LumpSum | None = None
    error: RuleError | None = None
    try:
        lump = ledger.lump_sum_on(death.person_id, death.died_on)
    except RuleError as exc:
        error = exc
    return Balance(
        lump=lump, error=error, unsettled=ledger.unsettled_months(death.person_id, death.died_on)
    )
