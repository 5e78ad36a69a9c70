"""REST API of compliance and enforcement, under ``/api/v1/cases``.

Agency staff: the rules, running the checks for a region or an employer, findings (filters,
confirm, dismiss), contractual opt-outs under a regional legacy rule, and enforcement cases (open,
order to rectify, fine proposals within the legal range, decision, closing). Employer HR and API
tokens: the cases addressed to their employer from the day the order is issued, and the order as
a PDF. Amounts are yuan strings with two decimals.

Thin: schema in → one service or selector call → schema out.
"""

# No ``from __future__ import annotations``: ninja reads the query parameters of paginated views
# from their annotations at run time (as in billing/api.py).

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from expatsi.access.actors import Actor
from expatsi.access.auth import Pagination, api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Day, Id, Identifier, Text
from expatsi.cases import notice, permissions, scan_pool, selectors, services, tasks, withdrawals
from expatsi.cases.api_disputes import complaints_router, disputes_router
from expatsi.cases.complaints import REPORTED_LABELS, REPORTED_RULE
from expatsi.cases.models import Case, Finding, FineProposal, OptOut, ProposalStatus, Scan
from expatsi.cases.permissions import Act
from expatsi.cases.registry import registry
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.money import format_yuan, parse_yuan
from expatsi.rules.penalties import penalty_rules

router = Router(tags=["cases"], auth=api_auth)

FindingStatusName = Literal["open", "confirmed", "dismissed"]
CaseStatusName = Literal["open", "ordered", "fine_proposed", "decided", "closed"]
RuleKey = Literal[
    "not_registered",
    "months_not_billed",
    "unpaid_past_due",
    "billed_after_deregistration",
    "billed_after_exit",
    "base_below_lower_limit",
    "exemption_without_certificate",
    "illegal_employment",
    "reported",  # findings made from a complaint or report (complaints.REPORTED_RULE)
]


def _staff(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    permissions.require(actor, Act.SEE_FINDINGS)
    return actor


# --- schemas ------------------------------------------------------------------------------------


class RuleOut(Schema):
    key: str
    label: str
    label_zh: str
    article: str
    severity: str
    fines: list[str]
    params: dict[str, int]
    status: str
    source: str


class LegacyOut(Schema):
    key: str
    label: str
    label_zh: str
    document: str
    region_code: str
    in_force_from: date
    in_force_to: date
    obligation_from: date
    suspends: list[str]
    status: str
    source: str


class RulesOut(Schema):
    rules: list[RuleOut]
    legacy: list[LegacyOut]


class ScanIn(Schema):
    region_code: Annotated[str, Identifier(6)] = ""
    employer_id: Id | None = None
    as_of: Day | None = None


class ScanOut(Schema):
    id: int
    as_of: date
    region_code: str
    employer_id: int | None
    started_by: str
    # A scan of a region or more is queued for the worker pool: its counts are the sum of the
    # partitions done so far until ``status`` is done (GET /scans/{id} follows it).
    status: Literal["done", "queued", "running", "interrupted"]
    partitions_total: int
    partitions_done: int
    percent: int
    counts: dict[str, dict[str, int]]


class FindingOut(Schema):
    id: int
    rule: str
    rule_label: str
    region_code: str
    employer_id: int
    employer: str
    person_id: int | None
    person: str
    period: str
    severity: str
    amount: str  # yuan
    evidence: dict[str, Any]
    figures: dict[str, Any]
    status: str
    status_reason: str
    found_on: date
    seen_on: date
    resolved_on: date | None
    case_id: int | None

    @staticmethod
    def resolve_rule_label(obj: Finding) -> str:
        found = registry().rules.get(obj.rule)
        if found is None and obj.rule == REPORTED_RULE:
            return REPORTED_LABELS[0]
        return found.label if found else obj.rule

    @staticmethod
    def resolve_employer(obj: Finding) -> str:
        return obj.employer.name

    @staticmethod
    def resolve_person(obj: Finding) -> str:
        return obj.person.full_name if obj.person is not None else ""

    @staticmethod
    def resolve_amount(obj: Finding) -> str:
        return format_yuan(obj.amount_fen)


class ReviewIn(Schema):
    reason: Annotated[str, Text(500, multiline=True)] = ""


class OptOutIn(Schema):
    legacy: Annotated[str, Identifier(60)]
    person_id: Id
    employer_id: Id
    signed_on: Day
    reference: Annotated[str, Text(100)] = ""


class OptOutOut(Schema):
    id: int
    legacy: str
    person_id: int
    employer_id: int
    signed_on: date
    reference: str
    recorded_by: str


class CaseOpenIn(Schema):
    finding_ids: list[Id] = Field(..., min_length=1, max_length=500)


class ProposalOut(Schema):
    id: int
    kind: str
    basis: str | None  # yuan: the premiums payable or arrears it is measured on
    persons: int | None
    min: str
    max: str
    amount: str
    explanation: str
    reason: str
    status: str
    proposed_at: datetime

    @staticmethod
    def resolve_basis(obj: FineProposal) -> str | None:
        return None if obj.basis_fen is None else format_yuan(obj.basis_fen)

    @staticmethod
    def resolve_min(obj: FineProposal) -> str:
        return format_yuan(obj.min_fen)

    @staticmethod
    def resolve_max(obj: FineProposal) -> str:
        return format_yuan(obj.max_fen)

    @staticmethod
    def resolve_amount(obj: FineProposal) -> str:
        return format_yuan(obj.amount_fen)


class CaseEventOut(Schema):
    at: datetime
    action: str
    from_status: str
    to_status: str
    actor_label: str
    detail: dict[str, Any]


class RangeOut(Schema):
    kind: str
    article: str
    basis: str | None
    persons: int | None
    min: str
    max: str
    explanation: str


class CaseBase(Schema):
    id: int
    number: str
    region_code: str
    employer_id: int
    employer: str
    status: str
    opened_at: datetime
    order_issued_on: date | None
    order_deadline: date | None
    decision: str
    fine_total: str


class CaseSummaryOut(CaseBase):
    @staticmethod
    def resolve_employer(obj: Case) -> str:
        return obj.employer.name

    @staticmethod
    def resolve_fine_total(obj: Case) -> str:
        return format_yuan(obj.fine_total_fen)


class CaseOut(CaseBase):
    order_requirements: str
    decision_reason: str
    decided_on: date | None
    late_fees: str  # yuan, from the contributions ledger when decided
    closed_on: date | None
    close_reason: str
    findings: list[FindingOut]
    proposals: list[ProposalOut]  # HR: the fines adopted in the decision only
    fine_ranges: list[RangeOut]  # agency staff, while fines can be proposed
    history: list[CaseEventOut]  # agency staff


class OrderIn(Schema):
    deadline: Day
    requirements: Annotated[str, Text(500, multiline=True)] = ""


class FineIn(Schema):
    kind: Annotated[str, Identifier(60)]
    amount: Annotated[str, Text(20)] = Field(..., description="yuan, e.g. 12345.00")
    persons: int | None = Field(None, ge=1, le=1000)
    reason: Annotated[str, Text(500, multiline=True)]


class CaseDecisionIn(Schema):
    outcome: Literal["fine", "no_fine"]
    reason: Annotated[str, Text(500, multiline=True)]


class CloseIn(Schema):
    reason: Annotated[str, Text(500, multiline=True)]


def _case_out(actor: Actor, case: Case) -> dict[str, Any]:
    staff = permissions.allowed(actor, Act.MANAGE_CASE, region_code=case.region_code)
    proposals = case.proposals.all()
    if not staff:
        proposals = (
            proposals.filter(status=ProposalStatus.ADOPTED) if case.decision else proposals.none()
        )
    ranges: list[dict[str, Any]] = []
    if staff and not case.decision and case.status != "closed":
        basis = services.fine_basis(case)
        for kind in basis.fine_kinds:
            try:
                per_person = penalty_rules().fines[kind].type == "range"
                bracket, base, persons = services.fine_bracket(
                    basis, kind, 1 if per_person else None
                )
            except RuleError:
                continue
            ranges.append(
                {
                    "kind": kind,
                    "article": bracket.article,
                    "basis": None if base is None else format_yuan(base),
                    "persons": persons,
                    "min": format_yuan(bracket.min_fen),
                    "max": format_yuan(bracket.max_fen),
                    "explanation": bracket.explanation,
                }
            )
    return {
        "id": case.pk,
        "number": case.number,
        "region_code": case.region_code,
        "employer_id": case.employer_id,
        "employer": case.employer.name,
        "status": case.status,
        "opened_at": case.opened_at,
        "order_issued_on": case.order_issued_on,
        "order_deadline": case.order_deadline,
        "order_requirements": case.order_requirements,
        "decision": case.decision,
        "decision_reason": case.decision_reason,
        "decided_on": case.decided_on,
        "fine_total": format_yuan(case.fine_total_fen),
        "late_fees": format_yuan(case.late_fee_fen),
        "closed_on": case.closed_on,
        "close_reason": case.close_reason,
        "findings": list(selectors.case_findings(case).select_related("employer")),
        "proposals": list(proposals),
        "fine_ranges": ranges,
        "history": list(selectors.case_history(case)) if staff else [],
    }


# --- rules, scans, findings, opt-outs -----------------------------------------------------------


@router.get("/rules", response=RulesOut)
def rule_list(request: HttpRequest) -> dict[str, Any]:
    """The compliance rules and regional legacy rules as data (source and status of each)."""
    _staff(request)
    reg = registry()
    return {
        "rules": [
            {
                "key": r.key,
                "label": r.label,
                "label_zh": r.label_zh,
                "article": r.article,
                "severity": r.severity,
                "fines": list(r.fines),
                "params": r.params,
                "status": r.provenance.status.value,
                "source": r.provenance.source,
            }
            for r in reg.rules.values()
        ],
        "legacy": [
            {
                "key": lr.key,
                "label": lr.label,
                "label_zh": lr.label_zh,
                "document": lr.document,
                "region_code": lr.region,
                "in_force_from": lr.in_force_from,
                "in_force_to": lr.in_force_to,
                "obligation_from": lr.obligation_from,
                "suspends": sorted(lr.suspends),
                "status": lr.provenance.status.value,
                "source": lr.provenance.source,
            }
            for lr in reg.legacy.values()
        ],
    }


def _scan_out(record: Scan) -> dict[str, Any]:
    progress = scan_pool.scan_progress(record, len(registry().rules))
    return {
        "id": record.pk,
        "as_of": record.as_of,
        "region_code": record.region_code,
        "employer_id": record.employer_id,
        "started_by": record.started_by,
        "status": progress.status,
        "partitions_total": progress.partitions_total,
        "partitions_done": progress.partitions_done,
        "percent": progress.percent,
        "counts": progress.counts,
    }


@router.post("/scans", response=ScanOut)
@idempotent()
def scan_run(request: HttpRequest, payload: ScanIn) -> dict[str, Any]:
    """Run the checks as of ``as_of`` (default today) for one employer now; for one region or
    every region the caller covers, queued for the worker pool (``status`` queued; follow it with
    GET /scans/{id}) unless scans are not queued (EXPATSI_SCAN_PARTITIONS=0). Running them again
    adds no duplicate; a dismissed finding stays dismissed unless its evidence changed."""
    actor = _staff(request)
    record = tasks.compliance_scan_auto(
        actor=actor,
        as_of=payload.as_of,
        region_code=payload.region_code,
        employer_id=payload.employer_id,
    )
    return _scan_out(record)


@router.get("/scans/{scan_id}", response=ScanOut)
def scan_detail(request: HttpRequest, scan_id: int) -> dict[str, Any]:
    """A scan and its progress: the partitions done, and the counts so far."""
    return _scan_out(selectors.scan_get(actor=_staff(request), scan_id=scan_id))


@router.post("/scans/{scan_id}/resume", response={202: ScanOut})
@idempotent()
def scan_resume(request: HttpRequest, scan_id: int) -> Status[dict[str, Any]]:
    """Queue again the partitions of an interrupted scan (their workers were lost; staff who may
    scan its region); 409 unless it is interrupted. They go on from their last recorded rule, so
    the scan ends as if never stopped."""
    record = tasks.compliance_scan_resume(actor=_staff(request), scan_id=scan_id)
    return Status(202, _scan_out(record))


@router.get("/findings", response=list[FindingOut])
@paginate(Pagination)
def finding_list(
    request: HttpRequest,
    region_code: Annotated[str, Identifier(6)] = "",
    rule: RuleKey | None = None,
    status: FindingStatusName | None = None,
    employer_id: Id | None = None,
    person_id: Id | None = None,
    unresolved: bool = False,
) -> QuerySet[Finding]:
    """Findings in the caller's regions, newest first; ``unresolved``: only those the latest
    checks still found."""
    actor = _staff(request)
    return selectors.finding_list(
        actor=actor,
        region_code=region_code,
        rule=rule or "",
        status=status or "",
        employer_id=employer_id,
        person_id=person_id,
        unresolved=unresolved,
    )


@router.get("/findings/{finding_id}", response=FindingOut)
def finding_detail(request: HttpRequest, finding_id: int) -> Finding:
    return selectors.finding_get(actor=_staff(request), finding_id=finding_id)


@router.post("/findings/{finding_id}/confirm", response=FindingOut)
@idempotent()
def finding_confirm(request: HttpRequest, finding_id: int, payload: ReviewIn) -> Finding:
    services.finding_confirm(actor=_staff(request), finding_id=finding_id, reason=payload.reason)
    return selectors.finding_get(actor=request_actor(request), finding_id=finding_id, audit=False)


@router.post("/findings/{finding_id}/dismiss", response=FindingOut)
@idempotent()
def finding_dismiss(request: HttpRequest, finding_id: int, payload: ReviewIn) -> Finding:
    """Dismiss with a reason (400 ``reason_required`` without one)."""
    services.finding_dismiss(actor=_staff(request), finding_id=finding_id, reason=payload.reason)
    return selectors.finding_get(actor=request_actor(request), finding_id=finding_id, audit=False)


@router.post("/opt-outs", response={201: OptOutOut})
@idempotent()
def opt_out_record(request: HttpRequest, payload: OptOutIn) -> Status[OptOut]:
    """Record a contractual opt-out under a regional legacy rule (``shanghai_notice_38_2009``)."""
    found = services.opt_out_record(
        actor=_staff(request),
        legacy=payload.legacy,
        person_id=payload.person_id,
        employer_id=payload.employer_id,
        signed_on=payload.signed_on,
        reference=payload.reference,
    )
    return Status(201, found)


# --- cases --------------------------------------------------------------------------------------


@router.get("", response=list[CaseSummaryOut])
@paginate(Pagination)
def case_list(request: HttpRequest, status: CaseStatusName | None = None) -> QuerySet[Case]:
    """Agency staff: the cases of their regions. Employer HR and tokens: the orders to rectify
    addressed to their employer."""
    actor = request_actor(request)
    permissions.require_list_cases(actor)
    return selectors.case_list(actor=actor, status=status or "")


@router.post("", response={201: CaseOut})
@idempotent()
def case_open(request: HttpRequest, payload: CaseOpenIn) -> Status[dict[str, Any]]:
    """Open an enforcement case from findings of one employer (they become confirmed)."""
    actor = _staff(request)
    case = services.case_open(actor=actor, finding_ids=payload.finding_ids)
    return Status(201, _case_out(actor, case))


@router.get("/{int:case_id}", response=CaseOut)
def case_detail(request: HttpRequest, case_id: int) -> dict[str, Any]:
    actor = request_actor(request)
    return _case_out(actor, selectors.case_get(actor=actor, case_id=case_id))


@router.get("/{int:case_id}/order.pdf")
def case_order_pdf(request: HttpRequest, case_id: int) -> HttpResponse:
    """The order to rectify in English and Chinese (PDF), once issued."""
    case = selectors.case_get(actor=request_actor(request), case_id=case_id)
    if case.order_issued_on is None:
        raise NotFound("no_order", "no order has been issued in this case", "case_id")
    response = HttpResponse(notice.order_pdf(case), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="order-{case.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.post("/{int:case_id}/order", response=CaseOut)
@idempotent()
def case_order(request: HttpRequest, case_id: int, payload: OrderIn) -> dict[str, Any]:
    """Issue the order to rectify by ``deadline`` (after today, at most a year ahead); the
    employer's HR get it in their inbox once it is committed."""
    actor = request_actor(request)
    case = services.order_issue(
        actor=actor, case_id=case_id, deadline=payload.deadline, requirements=payload.requirements
    )
    return _case_out(actor, case)


@router.post("/{int:case_id}/fine-proposals", response={201: ProposalOut})
@idempotent()
def case_fine_propose(request: HttpRequest, case_id: int, payload: FineIn) -> Status[FineProposal]:
    """Propose a fine once the deadline has passed, within the legal range for its kind (see
    ``fine_ranges`` on the case); outside it: 400 ``fine_out_of_range`` on ``amount``."""
    actor = request_actor(request)
    amount = parse_yuan(payload.amount, field="amount")
    proposal = services.fine_propose(
        actor=actor,
        case_id=case_id,
        kind=payload.kind,
        amount_fen=amount,
        persons=payload.persons,
        reason=payload.reason,
    )
    return Status(201, proposal)


@router.post("/{int:case_id}/decision", response=CaseOut)
@idempotent()
def case_decide(request: HttpRequest, case_id: int, payload: CaseDecisionIn) -> dict[str, Any]:
    actor = request_actor(request)
    case = services.case_decide(
        actor=actor, case_id=case_id, outcome=payload.outcome, reason=payload.reason
    )
    return _case_out(actor, case)


@router.post("/{int:case_id}/close", response=CaseOut)
@idempotent()
def case_close(request: HttpRequest, case_id: int, payload: CloseIn) -> dict[str, Any]:
    actor = request_actor(request)
    case = services.case_close(actor=actor, case_id=case_id, reason=payload.reason)
    return _case_out(actor, case)


# --- withdrawing a fine proposal (withdrawals.py) -------------------------------------------------


class FineWithdrawIn(Schema):
    proposal_id: Id
    reason: Annotated[str, Text(500, multiline=True)]


@router.post("/{int:case_id}/fine-proposals/withdraw", response=ProposalOut)
@idempotent()
def case_fine_withdraw(request: HttpRequest, case_id: int, payload: FineWithdrawIn) -> FineProposal:
    """Withdraw one fine proposal before the decision, with the reason (agency staff of the
    case's region); after the decision 409 ``already_decided``. The proposal stays, withdrawn."""
    actor = request_actor(request)
    return withdrawals.fine_withdraw(
        actor=actor, case_id=case_id, proposal_id=payload.proposal_id, reason=payload.reason
    )


# --- disputes, complaints and reports (api_disputes.py) ------------------------------------------

router.add_router("/disputes", disputes_router)
router.add_router("/complaints", complaints_router)
