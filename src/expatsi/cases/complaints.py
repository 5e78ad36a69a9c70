"""Complaints and reports to the agency (SIL Art. 82 and 83): a foreign employee asks the agency to
intervene with their employer, or anyone signed in reports an employer (anyone without an account:
public_reports.py, stored here too). Reads within the actor's scope, and the writes.

The agency owes a first reply by ``reply_due``: the ``complaint_reply`` clock of
``rules/policies/national/deadlines.toml`` (5 working days from receipt, SECONDARY: acceptance under
the Provisions on implementing the Labour Security Supervision Regulations, Art. 18). A complaint
still awaiting its reply after that day is overdue and shown so in the agency's list. The reply
reaches the complainant's inbox, in their language, once it is committed. A complaint can become a
compliance finding whose evidence is the complaint (without who filed it); the two are linked.

The employer is never shown who complained: only the person who filed it and agency staff of the
employer's region see a complaint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import Q, QuerySet, Value, When
from django.utils import timezone

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.cases import permissions
from expatsi.cases.models import (
    CaseEvent,
    Complaint,
    ComplaintEvent,
    ComplaintKind,
    ComplaintStatus,
    Finding,
    FindingStatus,
    Severity,
)
from expatsi.cases.report_mail import send_reply as send_reply_mail
from expatsi.cases.scan import evidence_hash
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment
from expatsi.notify.services import notify_user
from expatsi.rules.deadlines import Deadline, deadline
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError

CLOCK = "complaint_reply"
REPORTED_RULE = "reported"  # the rule key of findings made from a complaint or report
# Its name where the compliance rules' names are printed in both languages (the order to rectify,
# the employer's inbox); the pages use the catalogue ("Reported to the agency").
REPORTED_LABELS = ("Reported to the agency", "向经办机构举报")
SUBJECT_MAX = 200
DETAILS_MAX = 4000
REPLY_MAX = 4000

# --- reads -----------------------------------------------------------------------------------------


def complaints_visible(actor: Actor) -> QuerySet[Complaint]:
    qs = Complaint.objects.select_related("employer", "person")
    scope = permissions.complaint_scope(actor)
    return qs if scope is None else qs.filter(scope)


def overdue_q(today: date) -> Q:
    """Awaiting the agency's reply after the reply clock's last day."""
    return Q(status=ComplaintStatus.RECEIVED, reply_due__lt=today)


def complaint_list(
    *, actor: Actor, status: str = "", kind: str = "", overdue: bool = False
) -> QuerySet[Complaint]:
    """Awaiting a reply first, the most urgent (earliest reply due) at the top."""
    permissions.require_use_complaints(actor)
    qs = complaints_visible(actor)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if overdue:
        qs = qs.filter(overdue_q(timezone.localdate()))
    waiting = SqlCase(When(status=ComplaintStatus.RECEIVED, then=Value(0)), default=Value(1))
    return qs.annotate(waiting=waiting).order_by("waiting", "reply_due", "-pk")


def complaint_get(*, actor: Actor, complaint_id: int, audit: bool = True) -> Complaint:
    complaint = complaints_visible(actor).filter(pk=complaint_id).first()
    if complaint is None:
        raise NotFound("not_found", f"no complaint {complaint_id} that you may see", "complaint_id")
    if audit:
        audit_record(
            actor=actor,
            action="complaint.read",
            object_type="complaint",
            object_id=complaint.pk,
            person_id=complaint.person_id,
        )
    return complaint


def complaint_history(complaint: Complaint) -> QuerySet[ComplaintEvent]:
    return complaint.events.all()


@dataclass(frozen=True, slots=True)
class ReplyClock:
    """Where the agency stands against the reply clock of one complaint."""

    due: date
    overdue: bool
    days_left: int  # negative once overdue; 0 on the last day
    rule: str
    law: str
    status: str  # the clock's source status (SECONDARY…)


def reply_clock(complaint: Complaint, today: date | None = None) -> ReplyClock:
    rule = deadline(CLOCK, complaint.received_on)
    day = today or timezone.localdate()
    waiting = complaint.status == ComplaintStatus.RECEIVED
    left = (complaint.reply_due - day).days
    return ReplyClock(
        due=complaint.reply_due,
        overdue=waiting and left < 0,
        days_left=left,
        rule=rule.rule,
        law=rule.law,
        status=rule.provenance.status.value,
    )


def own_employers(actor: Actor) -> QuerySet[Employer]:
    """The employers a foreign employee may ask the agency to intervene with: those they work or
    worked for."""
    if actor.person_id is None:
        return Employer.objects.none()
    ids = Employment.objects.filter(person_id=actor.person_id).values_list("employer_id")
    return Employer.objects.filter(pk__in=ids).order_by("name", "pk")


# --- writes ------------------------------------------------------------------------------------------


def _text(value: str, field: str, max_length: int, *, multiline: bool = True) -> str:
    text = validation.text(value, field, max_length=max_length, multiline=multiline)
    if not text:
        raise RuleError("required", f"{field} is required", field)
    return text


def _event(complaint: Complaint, actor: Actor, action: str, **detail: Any) -> None:
    clean = {k: v if isinstance(v, int | bool | None) else str(v) for k, v in detail.items()}
    ComplaintEvent.objects.create(
        complaint=complaint, action=action, actor_label=actor.label[:200], detail=clean
    )
    audit_record(
        actor=actor,
        action=f"complaint.{action}",
        object_type="complaint",
        object_id=complaint.pk,
        person_id=complaint.person_id,
        detail={"number": complaint.number, **clean},
    )


def reply_deadline(received_on: date) -> Deadline:
    return deadline(CLOCK, received_on)


def complaint_file(
    *,
    actor: Actor,
    kind: str,
    subject: str,
    details: str,
    employer_id: int | None = None,
    uscc: str = "",
) -> Complaint:
    """File a request to intervene (a foreign employee, about an employer they work or worked
    for, by ``employer_id``) or a report (anyone signed in, about any registered employer, by its
    unified social credit code ``uscc``). The reply clock starts on the day it is received."""
    if kind not in ComplaintKind.values:
        raise RuleError("invalid_kind", "choose a request to intervene or a report", "kind")
    title = _text(subject, "subject", SUBJECT_MAX, multiline=False)
    body = _text(details, "details", DETAILS_MAX)
    employer: Employer | None
    if kind == ComplaintKind.INTERVENTION:
        if not permissions.may_request_intervention(actor):
            raise Forbidden("forbidden", "a foreign employee asks the agency to intervene", "")
        if employer_id is None:
            raise RuleError("required", "choose your employer", "employer_id")
        employer = own_employers(actor).filter(pk=employer_id).first()
        if employer is None:
            raise NotFound("not_found", "not an employer you work or worked for", "employer_id")
    else:
        if not permissions.may_file_report(actor):
            raise Forbidden("forbidden", "sign in to report an employer", "")
        code = validation.identifier(uscc.replace(" ", "").upper(), "uscc", max_length=18)
        employer = Employer.objects.filter(uscc=code).first()
        if employer is None:
            validation.uscc(code, field="uscc")  # a mistyped code: say what is wrong with it
            raise NotFound("unknown_employer", "no registered employer with this code", "uscc")
    today = timezone.localdate()
    due = reply_deadline(today).due
    with transaction.atomic():
        complaint = Complaint.objects.create(
            number=f"tmp-{timezone.now().timestamp()}-{actor.user_id}",
            kind=kind,
            region_code=employer.region_code,
            employer=employer,
            person_id=actor.person_id if kind == ComplaintKind.INTERVENTION else None,
            submitted_by_id=actor.user_id,
            submitted_as={"system": "agency"}.get(actor.kind, actor.kind)[:10],
            complainant_label=actor.label[:200],
            subject=title,
            details=body,
            received_on=today,
            reply_due=due,
        )
        complaint.number = f"CMP-{complaint.region_code}-{today.year}-{complaint.pk:06d}"
        complaint.save(update_fields=["number"])
        _event(complaint, actor, "filed", kind=kind, reply_due=due.isoformat())
    return complaint


def _lock(actor: Actor, complaint_id: int) -> Complaint:
    complaint_get(actor=actor, complaint_id=complaint_id, audit=False)  # scope: else 404
    complaint = (
        Complaint.objects.select_for_update().select_related("employer").get(pk=complaint_id)
    )
    if not permissions.may_answer_complaint(actor, complaint.region_code):
        raise Forbidden("forbidden", "agency staff of the employer's region answer complaints", "")
    return complaint


def _send_reply(complaint: Complaint) -> None:
    """Put the reply in the complainant's inbox, in their language (after commit); to a report
    from someone without an account, by e-mail to the address they gave (report_mail.py)."""
    if complaint.contact_email:
        send_reply_mail(complaint)
    if complaint.submitted_by_id is None:
        return
    user = get_user_model().objects.filter(pk=complaint.submitted_by_id).first()
    if user is None:
        return
    notify_user(
        user=user,
        kind="complaint_reply",
        params={
            "number": complaint.number,
            "subject": complaint.subject,
            "reply": complaint.reply,
            "replied_on": complaint.replied_on.isoformat() if complaint.replied_on else "",
        },
        dedupe_key=f"complaint_reply:{complaint.pk}",
    )


def complaint_reply(*, actor: Actor, complaint_id: int, reply: str) -> Complaint:
    """The agency's reply (accepted and being looked into, not accepted and why, or what was
    done); once, while the complaint awaits it. The complainant finds it in their inbox."""
    words = _text(reply, "reply", REPLY_MAX)
    with transaction.atomic():
        complaint = _lock(actor, complaint_id)
        if complaint.status != ComplaintStatus.RECEIVED:
            raise Conflict("already_answered", "this complaint has its reply", "")
        today = timezone.localdate()
        late = max(0, (today - complaint.reply_due).days)
        complaint.status = ComplaintStatus.ANSWERED
        complaint.reply = words
        complaint.replied_on = today
        complaint.replied_by = actor.label[:200]
        complaint.save()
        _event(complaint, actor, "answered", days_late=late)
        transaction.on_commit(lambda: _send_reply(complaint))
    return complaint


def complaint_close(*, actor: Actor, complaint_id: int, reason: str) -> Complaint:
    words = _text(reason, "reason", 500)
    with transaction.atomic():
        complaint = _lock(actor, complaint_id)
        if complaint.status != ComplaintStatus.ANSWERED:
            raise Conflict("not_answered", "reply to the complaint before closing it", "")
        complaint.status = ComplaintStatus.CLOSED
        complaint.save()
        _event(complaint, actor, "closed", reason=words)
    return complaint


def complaint_to_finding(*, actor: Actor, complaint_id: int) -> Finding:
    """Turn a complaint or report into an open compliance finding about the employer, with the
    complaint as its evidence (its number, kind, day, subject and details; not who filed it), and
    link the two. Asking again returns the same finding."""
    with transaction.atomic():
        complaint = _lock(actor, complaint_id)
        if complaint.finding_id is not None:
            return Finding.objects.get(pk=complaint.finding_id)
        today = timezone.localdate()
        evidence = {
            "complaint": complaint.number,
            "complaint_kind": complaint.kind,
            "received_on": complaint.received_on.isoformat(),
            "subject": complaint.subject,
            "details": complaint.details[:1000],
        }
        finding = Finding.objects.create(
            rule=REPORTED_RULE,
            key=f"{REPORTED_RULE}|{complaint.employer_id}|{complaint.pk}",
            region_code=complaint.region_code,
            employer_id=complaint.employer_id,
            person_id=complaint.person_id,
            period=complaint.received_on.isoformat()[:7],
            severity=Severity.MEDIUM,
            amount_fen=0,
            evidence=evidence,
            evidence_hash=evidence_hash(evidence),
            status=FindingStatus.OPEN,
            found_on=today,
            seen_on=today,
        )
        CaseEvent.objects.create(
            finding=finding,
            action="from_complaint",
            to_status=finding.status,
            actor_label=actor.label[:200],
            detail={"complaint": complaint.number},
        )
        audit_record(
            actor=actor,
            action="finding.from_complaint",
            object_type="finding",
            object_id=finding.pk,
            person_id=finding.person_id,
            detail={"complaint": complaint.number},
        )
        complaint.finding = finding
        complaint.save(update_fields=["finding", "updated_at"])
        _event(complaint, actor, "finding_created", finding=finding.pk)
    return finding
