"""REST API of disputes (``/api/v1/cases/disputes``) and of complaints and reports
(``/api/v1/cases/complaints``).

Disputes: the foreign employee, their employer's HR (and its API tokens) and agency staff of the
employer's region; anyone else is not shown a dispute (404). Complaints: whoever filed one and
agency staff of the employer's region. Amounts are yuan strings with two decimals.

Thin: schema in → one service or selector call → schema out.
"""

# No ``from __future__ import annotations``: ninja reads the query parameters of paginated views
# from their annotations at run time (as in cases/api.py).

import base64
import binascii
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from expatsi.access.actors import Actor
from expatsi.access.auth import Pagination, api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Day, Id, Text
from expatsi.billing.corrections import LineCorrection
from expatsi.cases import complaints, disputes, permissions
from expatsi.cases.models import Complaint, Dispute, DisputeCorrection, DisputeDocument
from expatsi.rules.errors import RuleError
from expatsi.rules.money import format_yuan, parse_yuan

disputes_router = Router(tags=["disputes"], auth=api_auth)
complaints_router = Router(tags=["complaints"], auth=api_auth)

StageName = Literal["mediation", "arbitration", "litigation"]
DisputeStatusName = Literal["open", "decided", "closed"]
OutcomeName = Literal["for_employee", "for_employer", "partly", "settled", "withdrawn"]
SubjectName = Literal["bill", "bill_line", "registration", "card_application", "other"]
ComplaintKindName = Literal["intervention", "report"]
ComplaintStatusName = Literal["received", "answered", "closed"]

# --- disputes ----------------------------------------------------------------------------------------


class DisputeOpenIn(Schema):
    employer_id: Id
    person_id: Id
    subject_kind: SubjectName
    subject_id: Id | None = None
    claim: Annotated[str, Text(2000, multiline=True)]
    stage: StageName = "mediation"
    stage_on: Day | None = None


class DisputeSummaryOut(Schema):
    id: int
    number: str
    region_code: str
    employer_id: int
    employer: str
    person_id: int
    person: str
    subject_kind: str
    stage: str
    status: str
    outcome: str
    opened_at: datetime

    @staticmethod
    def resolve_employer(obj: Dispute) -> str:
        return obj.employer.name

    @staticmethod
    def resolve_person(obj: Dispute) -> str:
        return obj.person.full_name


class DisputeDocumentOut(Schema):
    id: int
    title: str
    content_type: str
    size: int
    uploaded_as: str
    uploaded_by: str
    uploaded_at: datetime


class DisputeCorrectionOut(Schema):
    id: int
    bill_id: int
    bill_number: str
    line_ids: list[int]
    net: str  # yuan: what the correction adds to the bills (negative: less)
    reason: str
    created_by: str
    created_at: datetime

    @staticmethod
    def resolve_bill_number(obj: DisputeCorrection) -> str:
        return obj.bill.number

    @staticmethod
    def resolve_net(obj: DisputeCorrection) -> str:
        return format_yuan(obj.net_fen)


class DisputeEventOut(Schema):
    at: datetime
    action: str
    from_stage: str
    to_stage: str
    actor_label: str
    detail: dict[str, Any]


class DisputeOut(DisputeSummaryOut):
    opened_as: str
    opened_by: str
    bill_id: int | None
    bill_line_id: int | None
    registration_id: int | None
    card_application_id: int | None
    claim: str
    mediation_on: date | None
    arbitration_on: date | None
    litigation_on: date | None
    outcome_text: str
    decided_on: date | None
    decided_stage: str
    closed_on: date | None
    documents: list[DisputeDocumentOut]
    corrections: list[DisputeCorrectionOut]
    history: list[DisputeEventOut]

    @staticmethod
    def resolve_documents(obj: Dispute) -> list[DisputeDocument]:
        return list(disputes.dispute_documents(obj))

    @staticmethod
    def resolve_corrections(obj: Dispute) -> list[DisputeCorrection]:
        return list(disputes.dispute_corrections(obj))

    @staticmethod
    def resolve_history(obj: Dispute) -> list[Any]:
        return list(disputes.dispute_history(obj))


class StageIn(Schema):
    stage: StageName
    stage_on: Day | None = None


class DisputeDecisionIn(Schema):
    outcome: OutcomeName
    text: Annotated[str, Text(2000, multiline=True)]
    decided_on: Day | None = None


class DisputeCloseIn(Schema):
    reason: Annotated[str, Text(500, multiline=True)]


class DisputeDocumentIn(Schema):
    title: Annotated[str, Text(200)]
    content_base64: str = Field(..., max_length=7_000_000, description="the file, base64")


class LineCorrectionIn(Schema):
    line_id: Id
    employer_amount: Annotated[str, Text(20)] = Field(..., description="yuan, as decided")
    employee_amount: Annotated[str, Text(20)] = Field(..., description="yuan, as decided")
    base: Annotated[str, Text(20)] | None = Field(None, description="yuan; default: unchanged")


class CorrectionIn(Schema):
    lines: list[LineCorrectionIn] = Field(..., min_length=1, max_length=100)
    reason: Annotated[str, Text(300, multiline=True)]


def _actor(request: HttpRequest) -> Actor:
    return request_actor(request)


@disputes_router.get("", response=list[DisputeSummaryOut])
@paginate(Pagination)
def dispute_list(
    request: HttpRequest,
    status: DisputeStatusName | None = None,
    stage: StageName | None = None,
) -> QuerySet[Dispute]:
    """The parties: their own disputes; agency staff: those of their regions."""
    return disputes.dispute_list(actor=_actor(request), status=status or "", stage=stage or "")


@disputes_router.post("", response={201: DisputeOut})
@idempotent()
def dispute_open(request: HttpRequest, payload: DisputeOpenIn) -> Status[Dispute]:
    """Record a dispute between a foreign employee and an employer they work or worked for, about
    a bill, a line, a registration or card decision (``subject_id``), or something else."""
    dispute = disputes.dispute_open(
        actor=_actor(request),
        employer_id=payload.employer_id,
        person_id=payload.person_id,
        subject_kind=payload.subject_kind,
        subject_id=payload.subject_id,
        claim=payload.claim,
        stage=payload.stage,
        stage_on=payload.stage_on,
    )
    return Status(201, dispute)


@disputes_router.get("/{int:dispute_id}", response=DisputeOut)
def dispute_detail(request: HttpRequest, dispute_id: int) -> Dispute:
    return disputes.dispute_get(actor=_actor(request), dispute_id=dispute_id)


@disputes_router.post("/{int:dispute_id}/stage", response=DisputeOut)
@idempotent()
def dispute_stage(request: HttpRequest, dispute_id: int, payload: StageIn) -> Dispute:
    """Record that the dispute went on to the next stage (409 ``stage_backwards`` /
    ``stage_skipped`` otherwise)."""
    actor = _actor(request)
    disputes.dispute_escalate(
        actor=actor, dispute_id=dispute_id, stage=payload.stage, stage_on=payload.stage_on
    )
    return disputes.dispute_get(actor=actor, dispute_id=dispute_id, audit=False)


@disputes_router.post("/{int:dispute_id}/decision", response=DisputeOut)
@idempotent()
def dispute_decision(request: HttpRequest, dispute_id: int, payload: DisputeDecisionIn) -> Dispute:
    """Agency staff record the outcome of the present stage."""
    actor = _actor(request)
    disputes.dispute_decide(
        actor=actor,
        dispute_id=dispute_id,
        outcome=payload.outcome,
        text=payload.text,
        decided_on=payload.decided_on,
    )
    return disputes.dispute_get(actor=actor, dispute_id=dispute_id, audit=False)


@disputes_router.post("/{int:dispute_id}/close", response=DisputeOut)
@idempotent()
def dispute_close(request: HttpRequest, dispute_id: int, payload: DisputeCloseIn) -> Dispute:
    actor = _actor(request)
    disputes.dispute_close(actor=actor, dispute_id=dispute_id, reason=payload.reason)
    return disputes.dispute_get(actor=actor, dispute_id=dispute_id, audit=False)


@disputes_router.post("/{int:dispute_id}/documents", response={201: DisputeDocumentOut})
@idempotent(redact=("content_base64",))
def dispute_document_add(
    request: HttpRequest, dispute_id: int, payload: DisputeDocumentIn
) -> Status[DisputeDocument]:
    """Add a document (PDF, JPEG or PNG, at most 5 MB, base64): either party or staff."""
    try:
        data = base64.b64decode(payload.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise RuleError("invalid_base64", "not base64", "content_base64") from None
    document = disputes.document_add(
        actor=_actor(request), dispute_id=dispute_id, title=payload.title, data=data
    )
    return Status(201, document)


@disputes_router.get("/{int:dispute_id}/documents/{int:dispute_document_id}")
def dispute_document(
    request: HttpRequest, dispute_id: int, dispute_document_id: int
) -> HttpResponse:
    document = disputes.document_get(
        actor=_actor(request), dispute_id=dispute_id, document_id=dispute_document_id
    )
    response = HttpResponse(bytes(document.data), content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="dispute-document-{document.pk}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@disputes_router.post("/{int:dispute_id}/corrections", response={201: DisputeCorrectionOut})
@idempotent()
def dispute_correction(
    request: HttpRequest, dispute_id: int, payload: CorrectionIn
) -> Status[DisputeCorrection]:
    """After a decision: the amounts decided for the person's bill lines, posted in billing as
    reversing and new entries on an adjustment bill (agency staff)."""
    lines = [
        LineCorrection(
            line_id=item.line_id,
            employer_amount=parse_yuan(item.employer_amount, field="employer_amount"),
            employee_amount=parse_yuan(item.employee_amount, field="employee_amount"),
            base=None if item.base is None else parse_yuan(item.base, field="base"),
        )
        for item in payload.lines
    ]
    correction = disputes.dispute_correct(
        actor=_actor(request), dispute_id=dispute_id, lines=lines, reason=payload.reason
    )
    return Status(201, correction)


# --- complaints and reports ----------------------------------------------------------------------


class ComplaintIn(Schema):
    kind: ComplaintKindName
    employer_id: Id | None = Field(None, description="intervention: your employer")
    uscc: Annotated[str, Text(18)] = Field("", description="report: the employer's code")
    subject: Annotated[str, Text(200)]
    details: Annotated[str, Text(4000, multiline=True)]


class ComplaintEventOut(Schema):
    at: datetime
    action: str
    actor_label: str
    detail: dict[str, Any]


class ComplaintOut(Schema):
    id: int
    number: str
    kind: str
    region_code: str
    employer_id: int
    employer: str
    subject: str
    details: str
    received_on: date
    reply_due: date
    overdue: bool
    status: str
    reply: str
    replied_on: date | None
    finding_id: int | None
    complainant: str  # agency staff: who filed it ("" for anyone else)
    history: list[ComplaintEventOut]  # agency staff
    submitted_as: str  # employee | hr | public (a report without an account) | agency
    category: str  # a public report: what happens (ReportCategory), else ""
    place: str  # a public report: the region code it gave, else ""

    @staticmethod
    def resolve_employer(obj: Complaint) -> str:
        return obj.employer.name

    @staticmethod
    def resolve_overdue(obj: Complaint) -> bool:
        return obj.status == "received" and obj.reply_due < timezone.localdate()

    @staticmethod
    def resolve_complainant(obj: Complaint, context: Any) -> str:
        actor = request_actor(context["request"])
        if not permissions.may_answer_complaint(actor, obj.region_code):
            return ""
        return obj.person.full_name if obj.person is not None else obj.complainant_label

    @staticmethod
    def resolve_history(obj: Complaint, context: Any) -> list[Any]:
        actor = request_actor(context["request"])
        if not permissions.may_answer_complaint(actor, obj.region_code):
            return []
        return list(complaints.complaint_history(obj))


class ComplaintDetailOut(ComplaintOut):
    """One complaint or report, with the reporter's address when a public report left one: for
    agency staff only, on this audited read (``complaint.read``), never in the list."""

    contact_email: str

    @staticmethod
    def resolve_contact_email(obj: Complaint, context: Any) -> str:
        actor = request_actor(context["request"])
        if not permissions.may_answer_complaint(actor, obj.region_code):
            return ""
        return obj.contact_email


class ComplaintReplyIn(Schema):
    reply: Annotated[str, Text(4000, multiline=True)]


class ComplaintCloseIn(Schema):
    reason: Annotated[str, Text(500, multiline=True)]


class ComplaintFindingOut(Schema):
    complaint_id: int
    finding_id: int


@complaints_router.get("", response=list[ComplaintOut])
@paginate(Pagination)
def complaint_list(
    request: HttpRequest,
    status: ComplaintStatusName | None = None,
    kind: ComplaintKindName | None = None,
    overdue: bool = False,
) -> QuerySet[Complaint]:
    """Agency staff: every complaint of their regions, those awaiting a reply first (``overdue``:
    only those past the reply clock); anyone else: those they filed."""
    return complaints.complaint_list(
        actor=_actor(request), status=status or "", kind=kind or "", overdue=overdue
    )


@complaints_router.post("", response={201: ComplaintOut})
@idempotent()
def complaint_file(request: HttpRequest, payload: ComplaintIn) -> Status[Complaint]:
    """A foreign employee asks the agency to intervene with their employer (``employer_id``), or
    anyone signed in reports an employer (``uscc``)."""
    complaint = complaints.complaint_file(
        actor=_actor(request),
        kind=payload.kind,
        subject=payload.subject,
        details=payload.details,
        employer_id=payload.employer_id,
        uscc=payload.uscc,
    )
    return Status(201, complaint)


@complaints_router.get("/{int:complaint_id}", response=ComplaintDetailOut)
def complaint_detail(request: HttpRequest, complaint_id: int) -> Complaint:
    return complaints.complaint_get(actor=_actor(request), complaint_id=complaint_id)


@complaints_router.post("/{int:complaint_id}/reply", response=ComplaintOut)
@idempotent()
def complaint_reply(
    request: HttpRequest, complaint_id: int, payload: ComplaintReplyIn
) -> Complaint:
    """The agency's reply; it reaches the complainant's inbox once committed."""
    return complaints.complaint_reply(
        actor=_actor(request), complaint_id=complaint_id, reply=payload.reply
    )


@complaints_router.post("/{int:complaint_id}/close", response=ComplaintOut)
@idempotent()
def complaint_close(
    request: HttpRequest, complaint_id: int, payload: ComplaintCloseIn
) -> Complaint:
    return complaints.complaint_close(
        actor=_actor(request), complaint_id=complaint_id, reason=payload.reason
    )


@complaints_router.post("/{int:complaint_id}/finding", response={201: ComplaintFindingOut})
@idempotent()
def complaint_finding(request: HttpRequest, complaint_id: int) -> Status[dict[str, int]]:
    """Turn the complaint or report into a compliance finding about the employer (evidence: the
    complaint, without who filed it); asking again gives the same finding."""
    finding = complaints.complaint_to_finding(actor=_actor(request), complaint_id=complaint_id)
    return Status(201, {"complaint_id": complaint_id, "finding_id": finding.pk})
