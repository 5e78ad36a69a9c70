"""The annual proof of life for a pension paid abroad (Order No. 16 Art. 7 as amended in 2024;
policy-facts.md 10), by any of four routes: a life certificate from a Chinese embassy or
consulate, or a certificate notarised in the country of residence and apostilled (both uploaded
and reviewed by agency staff); online in the portal (the person types their password again); in
person at an agency (staff record it).

Why the clock lives in deadlines.toml: the interval (12 months) and the reminder days are data
(``[clocks.proof_of_life]``), not code. On lapse the daily job suspends payment; an accepted
proof resumes it, and the next monthly run pays the suspended months (pensions.months_owed).
A pension stopped because of death takes no proof of life.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.benefits.models import (
    DOCUMENT_ROUTES,
    PAYABLE_PENSION,
    Pension,
    PensionStatus,
    ProofOfLife,
    ProofRoute,
    ProofStatus,
)
from expatsi.benefits.pensions import pension_get, pensions_visible
from expatsi.benefits.permissions import PensionAct, require_pension
from expatsi.benefits.services import SIGNED_FORM_MAX_BYTES, SIGNED_FORM_TYPES
from expatsi.notify.services import notify_user
from expatsi.rules.deadlines import deadline
from expatsi.rules.errors import Conflict, NotFound, RuleError
from expatsi.rules.money import format_yuan

CLOCK = "proof_of_life"


def _document_type(data: bytes) -> str:
    if not data:
        raise RuleError("certificate_required", "upload the certificate", "document")
    if len(data) > SIGNED_FORM_MAX_BYTES:
        raise RuleError("certificate_too_large", "the certificate must be at most 2 MB", "document")
    for magic, kind in SIGNED_FORM_TYPES.items():
        if data.startswith(magic):
            return kind
    raise RuleError(
        "certificate_type", "the certificate must be a PDF, JPEG or PNG file", "document"
    )


def _refuse_unless_payable(pension: Pension) -> None:
    if pension.status == PensionStatus.STOPPED or pension.died_on is not None:
        raise Conflict(
            "pensioner_deceased",
            f"this pension was stopped because of a death reported on {pension.died_on}: no proof "
            "of life is taken",
            "pension_id",
            {"died_on": str(pension.died_on or "")},
        )
    if pension.status not in PAYABLE_PENSION:
        raise Conflict(
            "pension_not_awarded", "only an awarded pension needs a proof of life", "pension_id"
        )


def _notify_person(pension: Pension, kind: str, params: dict[str, object], key: str) -> None:
    user_id = pension.person.user_id

    def send() -> None:
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        if user is not None:
            notify_user(user=user, kind=kind, params=params, dedupe_key=key)

    transaction.on_commit(send)


def _accept(actor: Actor, pension: Pension, proof: ProofOfLife, today: date) -> None:
    """Move the clock to the proof's date; resume a suspended pension if the new due date is not
    past (the suspended months are paid by the next monthly run)."""
    if pension.verified_on is None or proof.verified_on > pension.verified_on:
        pension.verified_on = proof.verified_on
        pension.proof_due = deadline(CLOCK, proof.verified_on).due
    resumed = False
    if (
        pension.status == PensionStatus.SUSPENDED
        and pension.proof_due is not None
        and pension.proof_due >= today
    ):
        pension.status = PensionStatus.AWARDED
        pension.suspended_on = None
        resumed = True
    pension.save(update_fields=["verified_on", "proof_due", "status", "suspended_on"])
    audit_record(
        actor=actor,
        action="proof_of_life.accept",
        object_type="proof_of_life",
        object_id=proof.pk,
        person_id=pension.person_id,
        detail={
            "pension": pension.pk,
            "route": proof.route,
            "verified_on": proof.verified_on,
            "proof_due": pension.proof_due,
            "resumed": resumed,
        },
    )
    if resumed:
        _notify_person(
            pension,
            "pension_resumed",
            {"due": str(pension.proof_due)},
            f"pension-resumed:{pension.pk}:{proof.pk}",
        )


def _check_date(verified_on: date, today: date) -> None:
    validation.plausible_date(verified_on, "verified_on")
    if verified_on > today:
        raise RuleError("future_date", "the date cannot be in the future", "verified_on")
    if deadline(CLOCK, verified_on).due < today:
        raise RuleError(
            "certificate_too_old",
            "this certificate is more than 12 months old: it proves nothing for this year",
            "verified_on",
        )


def proof_online(
    *, actor: Actor, pension_id: int, password: str, today: date | None = None
) -> ProofOfLife:
    """The person proves online that they are alive: their password typed again, as when signing
    an application. Accepted at once."""
    day = today or timezone.localdate()
    with transaction.atomic():
        pension_get(actor=actor, pension_id=pension_id, audit=False)
        pension = Pension.objects.select_for_update().select_related("person").get(pk=pension_id)
        require_pension(
            actor,
            PensionAct.PROVE_ONLINE,
            person_id=pension.person_id,
            region_code=pension.region_code,
        )
        _refuse_unless_payable(pension)
        user = (
            get_user_model().objects.filter(pk=actor.user_id).first()
            if actor.user_id is not None
            else None
        )
        if user is None or not password or not user.check_password(password):
            raise RuleError(
                "wrong_password", "type your password again to confirm that it is you", "password"
            )
        proof = ProofOfLife.objects.create(
            pension=pension,
            person_id=pension.person_id,
            route=ProofRoute.ONLINE,
            status=ProofStatus.ACCEPTED,
            verified_on=day,
            submitted_by=actor.label[:200],
        )
        _accept(actor, pension, proof, day)
    return proof


def proof_in_person(
    *, actor: Actor, pension_id: int, note: str = "", today: date | None = None
) -> ProofOfLife:
    """Agency staff record that the person came to the agency (identity checked). Accepted."""
    day = today or timezone.localdate()
    note = validation.text(note, "note", max_length=500)
    with transaction.atomic():
        pension_get(actor=actor, pension_id=pension_id, audit=False)
        pension = Pension.objects.select_for_update().select_related("person").get(pk=pension_id)
        require_pension(
            actor,
            PensionAct.PROVE_IN_PERSON,
            person_id=pension.person_id,
            region_code=pension.region_code,
        )
        _refuse_unless_payable(pension)
        proof = ProofOfLife.objects.create(
            pension=pension,
            person_id=pension.person_id,
            route=ProofRoute.IN_PERSON,
            status=ProofStatus.ACCEPTED,
            verified_on=day,
            submitted_by=actor.label[:200],
            reviewed_by_label=actor.label[:200],
            reviewed_at=timezone.now(),
            rejection_reason="",
        )
        _accept(actor, pension, proof, day)
    return proof


def proof_upload(
    *,
    actor: Actor,
    pension_id: int,
    route: str,
    document: bytes,
    verified_on: date,
    today: date | None = None,
) -> ProofOfLife:
    """A life certificate (embassy or consulate) or a notarised and apostilled certificate,
    uploaded by the person or by agency staff; it waits for an agency review."""
    day = today or timezone.localdate()
    if route not in DOCUMENT_ROUTES:
        raise RuleError(
            "invalid_route", "upload an embassy certificate or a notarised certificate", "route"
        )
    with transaction.atomic():
        pension_get(actor=actor, pension_id=pension_id, audit=False)
        pension = Pension.objects.select_for_update().select_related("person").get(pk=pension_id)
        require_pension(
            actor,
            PensionAct.UPLOAD_PROOF,
            person_id=pension.person_id,
            region_code=pension.region_code,
        )
        _refuse_unless_payable(pension)
        kind = _document_type(document)
        _check_date(verified_on, day)
        proof = ProofOfLife.objects.create(
            pension=pension,
            person_id=pension.person_id,
            route=route,
            verified_on=verified_on,
            document=document,
            document_type=kind,
            submitted_by=actor.label[:200],
        )
        audit_record(
            actor=actor,
            action="proof_of_life.upload",
            object_type="proof_of_life",
            object_id=proof.pk,
            person_id=pension.person_id,
            detail={"pension": pension.pk, "route": route, "verified_on": verified_on},
        )
    return proof


def proof_review(
    *,
    actor: Actor,
    proof_id: int,
    decision: str,
    reason: str = "",
    today: date | None = None,
) -> ProofOfLife:
    """Accept or reject an uploaded certificate."""
    if decision not in ("approve", "reject"):
        raise RuleError("invalid_decision", "decide approve or reject", "decision")
    day = today or timezone.localdate()
    with transaction.atomic():
        found = proof_get(actor=actor, proof_id=proof_id)
        proof = ProofOfLife.objects.select_for_update().get(pk=found.pk)
        pension = (
            Pension.objects.select_for_update().select_related("person").get(pk=proof.pension_id)
        )
        require_pension(
            actor, PensionAct.REVIEW, person_id=pension.person_id, region_code=pension.region_code
        )
        if proof.status != ProofStatus.SUBMITTED:
            raise Conflict("already_decided", "this proof of life has already been decided", "")
        proof.reviewed_by_label = actor.label[:200]
        proof.reviewed_at = timezone.now()
        if decision == "reject":
            proof.rejection_reason = validation.required_text(reason, "reason", max_length=500)
            proof.status = ProofStatus.REJECTED
            proof.save()
            audit_record(
                actor=actor,
                action="proof_of_life.reject",
                object_type="proof_of_life",
                object_id=proof.pk,
                person_id=pension.person_id,
                detail={"reason": proof.rejection_reason},
            )
            _notify_person(
                pension,
                "proof_of_life_rejected",
                {
                    "date": str(timezone.localtime(proof.submitted_at).date()),
                    "reason": proof.rejection_reason,
                    "due": str(pension.proof_due or "—"),
                },
                f"proof-rejected:{proof.pk}",
            )
            return proof
        _refuse_unless_payable(pension)
        proof.status = ProofStatus.ACCEPTED
        proof.save()
        _accept(actor, pension, proof, day)
    return proof


def proofs_visible(actor: Actor) -> QuerySet[ProofOfLife]:
    return ProofOfLife.objects.select_related("pension", "person").filter(
        pension__in=pensions_visible(actor)
    )


def proofs_to_review(actor: Actor) -> QuerySet[ProofOfLife]:
    """Certificates awaiting an agency review, oldest first (agency staff only)."""
    if actor.kind != "agency":
        return ProofOfLife.objects.none()
    return proofs_visible(actor).filter(status=ProofStatus.SUBMITTED).order_by("submitted_at", "pk")


def proof_get(*, actor: Actor, proof_id: int) -> ProofOfLife:
    proof = proofs_visible(actor).filter(pk=proof_id).first()
    if proof is None:
        raise NotFound("not_found", f"no proof of life {proof_id} that you may see", "proof_id")
    return proof


# --- the daily job -------------------------------------------------------------------------------


@dataclass
class ProofJob:
    reminded: int = 0  # pensions at a reminder stage (each stage is delivered once)
    suspended: int = 0


def proofs_daily(*, actor: Actor, today: date | None = None) -> ProofJob:
    """Reminders before the due date (the days in deadlines.toml), and suspension of payment when
    the due date has passed without a proof. Idempotent: a reminder is sent once per stage (its
    dedupe key), a suspended pension is not suspended again."""
    require_pension(actor, PensionAct.LAPSE)
    day = today or timezone.localdate()
    job = ProofJob()
    for pension in Pension.objects.select_related("person").filter(
        status=PensionStatus.AWARDED, verified_on__isnull=False
    ):
        assert pension.verified_on is not None
        d = deadline(CLOCK, pension.verified_on)
        if d.due < day:
            with transaction.atomic():
                locked = Pension.objects.select_for_update().get(pk=pension.pk)
                if locked.status != PensionStatus.AWARDED:
                    continue
                locked.status = PensionStatus.SUSPENDED
                locked.suspended_on = day
                locked.save(update_fields=["status", "suspended_on"])
                audit_record(
                    actor=actor,
                    action="pension.suspend",
                    object_type="pension",
                    object_id=locked.pk,
                    person_id=locked.person_id,
                    detail={"proof_due": d.due, "on": day},
                )
                _notify_person(
                    pension,
                    "pension_suspended",
                    {"due": str(d.due), "amount": format_yuan(pension.total)},
                    f"pension-suspended:{pension.pk}:{d.due}",
                )
            job.suspended += 1
            continue
        stages = [r for r in d.reminders if r <= day]
        if stages:
            stage = max(stages)
            with transaction.atomic():
                _notify_person(
                    pension,
                    "proof_of_life_due",
                    {"due": str(d.due)},
                    f"proof-of-life:{pension.pk}:{d.due}:{stage}",
                )
            job.reminded += 1
    return job
