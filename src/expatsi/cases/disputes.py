"""Disputes between a foreign employee and their employer over social insurance (SIL Art. 83:
mediation, arbitration, lawsuit): reads within the actor's scope, and the writes.

A dispute is about something on file — a bill, a line of a bill, a registration decision, a card
decision — or something else described in words. It moves forward only, one stage at a time:
mediation → arbitration → litigation (CONVENTION: it may be recorded first at any stage, since the
agency often learns of it late; it never goes back, and never skips a stage once recorded). The
agency records the outcome of a stage; a party may take a decided dispute to the next stage, which
opens it again. A correction that follows a decision goes to billing as reversing and new entries
(:mod:`expatsi.billing.corrections`), never as an edit, and is linked from the dispute.

Every write takes an explicit ``actor``, locks the dispute row, writes a :class:`DisputeEvent` and
an audit event in the same transaction. Anything outside the actor's scope is not found (404).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.billing.corrections import LineCorrection, correction_post
from expatsi.billing.models import Bill, BillLine
from expatsi.cards.models import CardApplication
from expatsi.cases import permissions
from expatsi.cases.dispute_notices import notify_other_party
from expatsi.cases.models import (
    Dispute,
    DisputeCorrection,
    DisputeDocument,
    DisputeEvent,
    DisputeOutcome,
    DisputeStage,
    DisputeStatus,
    DisputeSubject,
)
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment, Registration
from expatsi.people.models import Person
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError

STAGES: tuple[str, ...] = tuple(DisputeStage.values)  # in order: forward only
CLAIM_MAX = 2000
TEXT_MAX = 2000
TITLE_MAX = 200
DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = {
    b"%PDF": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}
# A correction follows a decision that found for the employee, at least in part, or a settlement.
CORRECTABLE = (DisputeOutcome.FOR_EMPLOYEE, DisputeOutcome.PARTLY, DisputeOutcome.SETTLED)

# --- reads -----------------------------------------------------------------------------------------


def disputes_visible(actor: Actor) -> QuerySet[Dispute]:
    qs = Dispute.objects.select_related("employer", "person")
    scope = permissions.dispute_scope(actor)
    return qs if scope is None else qs.filter(scope)


def dispute_list(*, actor: Actor, status: str = "", stage: str = "") -> QuerySet[Dispute]:
    permissions.require_see_disputes(actor)
    qs = disputes_visible(actor)
    if status:
        qs = qs.filter(status=status)
    if stage:
        qs = qs.filter(stage=stage)
    return qs.order_by("-opened_at", "-pk")


def dispute_get(*, actor: Actor, dispute_id: int, audit: bool = True) -> Dispute:
    dispute = disputes_visible(actor).filter(pk=dispute_id).first()
    if dispute is None:
        raise NotFound("not_found", f"no dispute {dispute_id} that you may see", "dispute_id")
    if audit:
        audit_record(
            actor=actor,
            action="dispute.read",
            object_type="dispute",
            object_id=dispute.pk,
            person_id=dispute.person_id,
        )
    return dispute


def dispute_history(dispute: Dispute) -> QuerySet[DisputeEvent]:
    return dispute.events.all()


def dispute_documents(dispute: Dispute) -> QuerySet[DisputeDocument]:
    return dispute.documents.defer("data")


def dispute_corrections(dispute: Dispute) -> QuerySet[DisputeCorrection]:
    return dispute.corrections.select_related("bill")


def document_get(*, actor: Actor, dispute_id: int, document_id: int) -> DisputeDocument:
    dispute = dispute_get(actor=actor, dispute_id=dispute_id, audit=False)
    document = dispute.documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound("not_found", f"no document {document_id} in this dispute", "document_id")
    audit_record(
        actor=actor,
        action="dispute.document_read",
        object_type="dispute",
        object_id=dispute.pk,
        person_id=dispute.person_id,
        detail={"document": document.pk},
    )
    return document


def subject_lines(dispute: Dispute) -> QuerySet[BillLine]:
    """The bill lines a correction of this dispute may touch: the person's lines at the employer
    (of the bill or line in dispute, when it is about one)."""
    qs = BillLine.objects.select_related("bill").filter(
        person_id=dispute.person_id, bill__employer_id=dispute.employer_id
    )
    if dispute.bill_line_id is not None:
        qs = qs.filter(pk=dispute.bill_line_id)
    elif dispute.bill_id is not None:
        qs = qs.filter(bill_id=dispute.bill_id)
    return qs.order_by("bill__month", "bill_id", "insurance", "pk")


# --- writes ------------------------------------------------------------------------------------------


def _text(value: str, field: str, max_length: int, *, required: bool = True) -> str:
    text = validation.text(value, field, max_length=max_length, multiline=True)
    if required and not text:
        raise RuleError("required", f"{field} is required", field)
    return text


def _day(value: date | None, field: str) -> date:
    today = timezone.localdate()
    day = value or today
    validation.plausible_date(day, field)
    if day > today:
        raise RuleError("date_in_future", "this date is after today", field)
    return day


def _role(actor: Actor) -> str:
    return {"system": "agency"}.get(actor.kind, actor.kind)[:10]


def _event(
    dispute: Dispute, actor: Actor, action: str, before: str = "", after: str = "", **detail: Any
) -> None:
    clean = {k: v if isinstance(v, int | bool | None) else str(v) for k, v in detail.items()}
    DisputeEvent.objects.create(
        dispute=dispute,
        action=action,
        from_stage=before,
        to_stage=after,
        actor_label=actor.label[:200],
        detail=clean,
    )
    audit_record(
        actor=actor,
        action=f"dispute.{action}",
        object_type="dispute",
        object_id=dispute.pk,
        person_id=dispute.person_id,
        detail={"number": dispute.number, **clean},
    )


def _subject(
    kind: str, subject_id: int | None, employer: Employer, person: Person
) -> dict[str, Any]:
    """The object the dispute is about, checked to be between these two parties."""
    if kind not in DisputeSubject.values:
        raise RuleError("invalid_subject", "choose what the dispute is about", "subject_kind")
    if kind == DisputeSubject.OTHER:
        return {}
    if subject_id is None:
        raise RuleError("subject_required", "name the bill, line or decision", "subject_id")
    found: Any
    if kind == DisputeSubject.BILL:
        found = Bill.objects.filter(pk=subject_id, employer=employer, lines__person=person).first()
        key = "bill"
    elif kind == DisputeSubject.BILL_LINE:
        found = BillLine.objects.filter(
            pk=subject_id, person=person, bill__employer=employer
        ).first()
        key = "bill_line"
    elif kind == DisputeSubject.REGISTRATION:
        found = Registration.objects.filter(pk=subject_id, person=person, employer=employer).first()
        key = "registration"
    else:
        found = CardApplication.objects.filter(
            pk=subject_id, card__person=person, card__employer=employer
        ).first()
        key = "card_application"
    if found is None:
        raise NotFound(
            "subject_not_found",
            f"no {kind.replace('_', ' ')} {subject_id} between this employee and employer",
            "subject_id",
        )
    return {key: found}


def dispute_open(
    *,
    actor: Actor,
    employer_id: int,
    person_id: int,
    subject_kind: str,
    claim: str,
    subject_id: int | None = None,
    stage: str = DisputeStage.MEDIATION,
    stage_on: date | None = None,
) -> Dispute:
    """Record a dispute between a foreign employee and an employer they work or worked for:
    opened by the employee, the employer's HR, or agency staff of the employer's region."""
    text = _text(claim, "claim", CLAIM_MAX)
    if stage not in STAGES:
        raise RuleError("invalid_stage", "choose mediation, arbitration or litigation", "stage")
    day = _day(stage_on, "stage_on")
    employer = Employer.objects.filter(pk=employer_id).first()
    person = Person.objects.filter(pk=person_id).first()
    if (
        employer is None
        or person is None
        or not permissions.is_party_or_staff(
            actor, region_code=employer.region_code, employer_id=employer.pk, person_id=person.pk
        )
    ):
        raise NotFound("not_found", "no such employee and employer that you may see", "person_id")
    if not Employment.objects.filter(person=person, employer=employer).exists():
        raise RuleError(
            "not_employed", "this person has never worked for this employer", "person_id"
        )
    subject = _subject(subject_kind, subject_id, employer, person)
    with transaction.atomic():
        dispute = Dispute.objects.create(
            number=f"tmp-{timezone.now().timestamp()}-{person.pk}",
            region_code=employer.region_code,
            employer=employer,
            person=person,
            opened_as=_role(actor),
            opened_by=actor.label[:200],
            subject_kind=subject_kind,
            claim=text,
            stage=stage,
            **{f"{stage}_on": day},
            **subject,
        )
        dispute.number = f"DSP-{dispute.region_code}-{timezone.localdate().year}-{dispute.pk:06d}"
        dispute.save(update_fields=["number"])
        _event(dispute, actor, "opened", "", stage, subject=subject_kind, since=day.isoformat())
        notify_other_party(dispute, actor, "opened")
    return dispute


def _lock(actor: Actor, dispute_id: int) -> Dispute:
    dispute_get(actor=actor, dispute_id=dispute_id, audit=False)  # scope: else 404
    return Dispute.objects.select_for_update().select_related("employer").get(pk=dispute_id)


def _require_party_or_staff(actor: Actor, dispute: Dispute) -> None:
    if not permissions.is_party_or_staff(
        actor,
        region_code=dispute.region_code,
        employer_id=dispute.employer_id,
        person_id=dispute.person_id,
    ):
        raise Forbidden("forbidden", "only the parties and agency staff act on a dispute", "")


def _require_staff(actor: Actor, dispute: Dispute) -> None:
    if not permissions.may_decide_dispute(actor, dispute.region_code):
        raise Forbidden("forbidden", "the agency records outcomes and corrections", "")


def _stage_start(dispute: Dispute) -> date | None:
    started: date | None = getattr(dispute, f"{dispute.stage}_on")
    return started


def dispute_escalate(
    *, actor: Actor, dispute_id: int, stage: str, stage_on: date | None = None
) -> Dispute:
    """Record that the dispute went on to ``stage`` on ``stage_on``: only the next stage after the
    present one (never back, never skipping one); a decided dispute is open again."""
    if stage not in STAGES:
        raise RuleError("invalid_stage", "choose mediation, arbitration or litigation", "stage")
    day = _day(stage_on, "stage_on")
    with transaction.atomic():
        dispute = _lock(actor, dispute_id)
        _require_party_or_staff(actor, dispute)
        if dispute.status == DisputeStatus.CLOSED:
            raise Conflict("dispute_closed", "this dispute is closed", "")
        here, there = STAGES.index(dispute.stage), STAGES.index(stage)
        if there <= here:
            raise Conflict(
                "stage_backwards",
                f"a dispute at {dispute.stage} cannot go back to {stage}",
                "stage",
                {"stage": dispute.stage, "to": stage},
            )
        if there > here + 1:
            raise Conflict(
                "stage_skipped",
                f"from {dispute.stage} the next stage is {STAGES[here + 1]}",
                "stage",
                {"stage": dispute.stage, "to": stage},
            )
        started = _stage_start(dispute)
        if started is not None and day < started:
            raise RuleError(
                "before_stage_start", f"before the present stage began ({started})", "stage_on"
            )
        before = dispute.stage
        dispute.stage = stage
        setattr(dispute, f"{stage}_on", day)
        dispute.status = DisputeStatus.OPEN
        dispute.save()
        _event(dispute, actor, "escalated", before, stage, since=day.isoformat())
        notify_other_party(dispute, actor, "escalated")
    return dispute


def dispute_decide(
    *,
    actor: Actor,
    dispute_id: int,
    outcome: str,
    text: str,
    decided_on: date | None = None,
) -> Dispute:
    """Record the outcome of the present stage (the agreement, award or judgment, in words);
    agency staff of the employer's region."""
    if outcome not in DisputeOutcome.values:
        raise RuleError("invalid_outcome", "choose an outcome", "outcome")
    words = _text(text, "text", TEXT_MAX)
    day = _day(decided_on, "decided_on")
    with transaction.atomic():
        dispute = _lock(actor, dispute_id)
        _require_staff(actor, dispute)
        if dispute.status != DisputeStatus.OPEN:
            raise Conflict(
                "wrong_state", f"a dispute that is {dispute.status} cannot be decided", ""
            )
        started = _stage_start(dispute)
        if started is not None and day < started:
            raise RuleError(
                "before_stage_start", f"before the present stage began ({started})", "decided_on"
            )
        dispute.status = DisputeStatus.DECIDED
        dispute.outcome = outcome
        dispute.outcome_text = words
        dispute.decided_on = day
        dispute.decided_stage = dispute.stage
        dispute.save()
        _event(
            dispute,
            actor,
            "decided",
            dispute.stage,
            dispute.stage,
            outcome=outcome,
            on=day.isoformat(),
            reason=words[:500],
        )
        notify_other_party(dispute, actor, "decided")
    return dispute


def dispute_close(*, actor: Actor, dispute_id: int, reason: str) -> Dispute:
    """Close a decided dispute (nobody takes it further, corrections are posted)."""
    words = _text(reason, "reason", 500)
    with transaction.atomic():
        dispute = _lock(actor, dispute_id)
        _require_staff(actor, dispute)
        if dispute.status != DisputeStatus.DECIDED:
            raise Conflict("wrong_state", "only a decided dispute can be closed", "")
        dispute.status = DisputeStatus.CLOSED
        dispute.closed_on = timezone.localdate()
        dispute.save()
        _event(dispute, actor, "closed", dispute.stage, dispute.stage, reason=words)
    return dispute


def document_add(*, actor: Actor, dispute_id: int, title: str, data: bytes) -> DisputeDocument:
    """Add a document (PDF, JPEG or PNG, at most 5 MB): either party or staff, until closed."""
    name = _text(title, "title", TITLE_MAX)
    if not data:
        raise RuleError("document_required", "choose the file", "file")
    if len(data) > DOCUMENT_MAX_BYTES:
        raise RuleError("document_too_large", "at most 5 MB", "file")
    kind = next((t for magic, t in DOCUMENT_TYPES.items() if data.startswith(magic)), "")
    if not kind:
        raise RuleError("document_type", "a PDF, JPEG or PNG file", "file")
    with transaction.atomic():
        dispute = _lock(actor, dispute_id)
        _require_party_or_staff(actor, dispute)
        if dispute.status == DisputeStatus.CLOSED:
            raise Conflict("dispute_closed", "this dispute is closed", "")
        document = DisputeDocument.objects.create(
            dispute=dispute,
            title=name,
            content_type=kind,
            data=data,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_as=_role(actor),
            uploaded_by=actor.label[:200],
        )
        _event(dispute, actor, "document_added", title=name, document=document.pk)
    return document


def dispute_correct(
    *,
    actor: Actor,
    dispute_id: int,
    lines: Sequence[LineCorrection],
    reason: str,
) -> DisputeCorrection:
    """After a decision for the employee (in full or in part) or a settlement: post the amounts
    decided for the person's bill lines as reversing and new entries on an adjustment bill
    (billing.corrections), linked from the dispute. A line already corrected in this dispute is
    refused (409): the correction is posted once."""
    words = _text(reason, "reason", 300)
    with transaction.atomic():
        dispute = _lock(actor, dispute_id)
        _require_staff(actor, dispute)
        if dispute.status != DisputeStatus.DECIDED:
            raise Conflict(
                "not_decided", "a correction follows a decision: record the outcome first", ""
            )
        if dispute.outcome not in CORRECTABLE:
            raise Conflict(
                "outcome_not_correctable",
                f"the outcome {dispute.outcome} calls for no correction",
                "",
            )
        allowed = set(subject_lines(dispute).values_list("pk", flat=True))
        ids = [c.line_id for c in lines]
        outside = [i for i in ids if i not in allowed]
        if outside:
            raise NotFound(
                "line_not_in_dispute",
                f"bill line {outside[0]} is not one of this dispute's",
                "lines",
            )
        done: set[int] = set()
        for earlier in dispute.corrections.all():
            done.update(int(i) for i in earlier.line_ids)
        again = sorted(done & set(ids))
        if again:
            raise Conflict(
                "already_corrected", f"bill line {again[0]} was corrected already", "lines"
            )
        posted = correction_post(
            actor=actor,
            employer_id=dispute.employer_id,
            lines=lines,
            reason=f"dispute {dispute.number}: {words}",
        )
        correction = DisputeCorrection.objects.create(
            dispute=dispute,
            bill=posted.bill,
            line_ids=list(posted.line_ids),
            net_fen=posted.net_fen,
            reason=words,
            created_by=actor.label[:200],
        )
        _event(
            dispute,
            actor,
            "corrected",
            dispute.stage,
            dispute.stage,
            bill=posted.bill.number,
            amount=posted.net_fen,
            reason=words,
        )
    return correction
