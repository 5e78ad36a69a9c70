"""Writes of the compliance context: scans, the review of findings, enforcement cases (order to
rectify, fine proposals, decision, closing) and opt-outs under a regional legacy rule.

Every function takes an explicit ``actor``, checks it (permissions.py) within the scope the
selectors give, runs in one transaction that locks the row it changes, writes the history
(CaseEvent) and the audit trail, and tells the employer's HR only after commit. Case transitions
come from ``states.py``; fines are checked against the statutory range of ``rules.penalties``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from expatsi.access import validation
from expatsi.access.actors import SYSTEM, Actor, actor_for_user
from expatsi.audit.services import audit_record
from expatsi.cases import permissions, scan, scan_pool, selectors, states
from expatsi.cases.checks import Scope
from expatsi.cases.complaints import REPORTED_LABELS, REPORTED_RULE
from expatsi.cases.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Finding,
    FindingStatus,
    FineProposal,
    OptOut,
    ProposalStatus,
    Scan,
    ScanPartition,
)
from expatsi.cases.permissions import Act
from expatsi.cases.registry import registry
from expatsi.cases.registry import rule as compliance_rule
from expatsi.employers.models import Employer
from expatsi.employers.selectors import employer_get
from expatsi.insurance.selectors import person_get
from expatsi.notify.services import notify_employer_hr
from expatsi.rules.errors import Conflict, NotFound, RuleError
from expatsi.rules.money import format_yuan
from expatsi.rules.penalties import fine_range

REASON_MAX = 500
ORDER_MAX_DAYS = 366


def _reason(value: str, field: str = "reason", *, required: bool = True) -> str:
    text = validation.text(value, field, max_length=REASON_MAX, multiline=True)
    if required and not text:
        raise RuleError("reason_required", "give the reason", field)
    return text


# --- scans --------------------------------------------------------------------------------------


def _scan_scope(
    actor: Actor,
    as_of: date | None,
    region_code: str,
    employer_id: int | None,
    rules: Sequence[str] | None,
) -> tuple[date, str, Employer | None, tuple[str, ...] | None]:
    """The checked day, region, employer and regions of a scan the actor asks for (else 4xx)."""
    day = as_of or timezone.localdate()
    validation.plausible_date(day, "as_of")
    employer: Employer | None = None
    if employer_id is not None:
        employer = employer_get(actor=actor, employer_id=employer_id)
        region_code = region_code or employer.region_code
        if employer.region_code != region_code:
            raise RuleError(
                "not_found", f"employer {employer_id} is not in region {region_code}", "employer_id"
            )
    if region_code:
        region_code = validation.region_code(region_code)
    permissions.require(actor, Act.SCAN, region_code=region_code)
    if rules is not None:
        for key in rules:
            compliance_rule(key)
    regions = (region_code,) if region_code else permissions.regions_to_scan(actor)
    return day, region_code, employer, regions


def _scan_audit(actor: Actor, record: Scan) -> None:
    """The scan's one audit event, with every rule's counts."""
    detail: dict[str, Any] = {
        "as_of": record.as_of.isoformat(),
        "region_code": record.region_code,
        "employer_id": record.employer_id,
        "counts": record.counts,
    }
    if record.partitions_total:
        detail["partitions"] = record.partitions_total
    audit_record(
        actor=actor,
        action="compliance.scan",
        object_type="scan",
        object_id=record.pk,
        detail=detail,
    )


def compliance_scan(
    *,
    actor: Actor,
    as_of: date | None = None,
    region_code: str = "",
    employer_id: int | None = None,
    rules: Sequence[str] | None = None,
) -> Scan:
    """Run the compliance checks as of ``as_of`` (default today) for everything the actor covers,
    or one region, or one employer, here and now; safe to run again at any time (scan.py says what
    a re-run writes). Agency staff of some regions scan only those. A scan of a region or more is
    better queued for the worker pool (:func:`compliance_scan_queue`)."""
    day, region_code, employer, regions = _scan_scope(actor, as_of, region_code, employer_id, rules)
    scope = Scope(as_of=day, regions=regions, employer_id=employer.pk if employer else None)
    record = Scan.objects.create(
        as_of=day, region_code=region_code, employer=employer, started_by=actor.label[:200]
    )
    counts = scan.run(scope, record, actor.label[:200], list(rules) if rules else None)
    record.counts = counts.as_dict()
    record.finished_at = timezone.now()
    record.save(update_fields=["counts", "finished_at"])
    _scan_audit(actor, record)
    return record


def compliance_scan_queue(
    *,
    actor: Actor,
    as_of: date | None = None,
    region_code: str = "",
    rules: Sequence[str] | None = None,
    partitions: int | None = None,
) -> Scan:
    """Record a scan of everything the actor covers (or one region) for the worker pool to work
    (:func:`scan_partition_work`; tasks.py queues the partitions): one partition per rule and
    employer-id range (at most ``partitions`` ranges, default ``EXPATSI_SCAN_PARTITIONS``), the
    heaviest rules first. Checked here, as an inline scan is; its audit event is written when the
    last partition is done, with the summed counts."""
    day, region_code, _employer, regions = _scan_scope(actor, as_of, region_code, None, rules)
    employers = Employer.objects.all()
    if regions is not None:
        employers = employers.filter(region_code__in=regions)
    ids = list(employers.order_by("pk").values_list("pk", flat=True))
    ranges = scan_pool.plan(ids, scan_pool.partition_count() if partitions is None else partitions)
    keys = scan_pool.heaviest_first(list(rules) if rules else list(registry().rules))
    with transaction.atomic():
        record = Scan.objects.create(
            as_of=day,
            region_code=region_code,
            started_by=actor.label[:200],
            regions=list(regions) if regions is not None else None,
            rules=list(rules) if rules else None,
            partitions_total=len(ranges) * len(keys),
            queued_by_id=actor.user_id,
        )
        ScanPartition.objects.bulk_create(
            ScanPartition(
                scan=record,
                number=n,
                rules=[key],
                employer_from=low,
                employer_to=high,
                employers=count,
            )
            for n, (key, (low, high, count)) in enumerate(
                (key, span) for key in keys for span in ranges
            )
        )
    return record


def scan_partition_work(*, partition_id: int) -> ScanPartition:
    """Check one partition of a queued scan, rule by rule; then any partition of the same scan
    whose worker was lost (scan_pool.orphaned); then, the last partition done, the scan's counts
    (their sum) and its audit event, once. Safe to run twice: a rule already recorded for the
    partition is skipped, and what the store writes again for it would be nothing new."""
    part = _partition_work(partition_id)
    for orphan in scan_pool.orphaned(part.scan_id):
        _partition_work(orphan)
    _scan_finish(part.scan_id)
    return part


def _partition_work(partition_id: int) -> ScanPartition:
    part = ScanPartition.objects.select_related("scan").get(pk=partition_id)
    record = part.scan
    if part.finished_at is not None:
        return part
    ScanPartition.objects.filter(pk=part.pk).update(
        attempts=F("attempts") + 1, heartbeat_at=timezone.now()
    )
    scope = Scope(
        as_of=record.as_of,
        regions=tuple(record.regions) if record.regions is not None else None,
        employer_from=part.employer_from,
        employer_to=part.employer_to,
    )
    for key in part.rules or record.rules or list(registry().rules):
        with transaction.atomic():
            # Locked for the rule: a second worker on the same partition waits, then skips it.
            part = ScanPartition.objects.select_for_update().get(pk=partition_id)
            if key in part.counts:
                continue
            counts = scan.run_rule(scope, record, record.started_by, key, pooled=True)
            part.counts = {**part.counts, key: counts.as_dict()}
            part.heartbeat_at = timezone.now()
            part.save(update_fields=["counts", "heartbeat_at"])
    ScanPartition.objects.filter(pk=partition_id, finished_at__isnull=True).update(
        finished_at=timezone.now()
    )
    part.refresh_from_db()
    return part


def _scan_finish(scan_id: int) -> None:
    """The scan's counts and audit event once every partition is done; the one worker whose update
    finishes it writes the event (a partition run twice finds it finished)."""
    with transaction.atomic():
        parts = list(ScanPartition.objects.filter(scan_id=scan_id))
        if any(p.finished_at is None for p in parts):
            return
        counts = scan_pool.sum_counts(p.counts for p in parts)
        won = Scan.objects.filter(pk=scan_id, finished_at__isnull=True).update(
            counts=counts, finished_at=timezone.now()
        )
        if not won:
            return
        record = Scan.objects.select_related("queued_by").get(pk=scan_id)
        actor = SYSTEM if record.queued_by is None else actor_for_user(record.queued_by, via="job")
        _scan_audit(actor, record)


# --- findings -----------------------------------------------------------------------------------


def _event(
    *,
    actor: Actor,
    action: str,
    before: str,
    after: str,
    case: Case | None = None,
    finding: Finding | None = None,
    **detail: Any,
) -> None:
    CaseEvent.objects.create(
        case=case,
        finding=finding,
        action=action,
        from_status=before,
        to_status=after,
        actor_label=actor.label[:200],
        detail={k: v if isinstance(v, int | bool | None) else str(v) for k, v in detail.items()},
    )
    if case is not None:
        audit_record(
            actor=actor,
            action=f"case.{action}",
            object_type="case",
            object_id=case.pk,
            detail={"from": before, "to": after, **detail},
        )
    elif finding is not None:
        audit_record(
            actor=actor,
            action=f"finding.{action}",
            object_type="finding",
            object_id=finding.pk,
            person_id=finding.person_id,
            detail={"from": before, "to": after, **detail},
        )


def _lock_finding(actor: Actor, finding_id: int) -> Finding:
    selectors.finding_get(actor=actor, finding_id=finding_id, audit=False)  # scope: else 404
    return Finding.objects.select_for_update().get(pk=finding_id)


def finding_confirm(*, actor: Actor, finding_id: int, reason: str = "") -> Finding:
    """Agency staff confirm a finding: the facts hold and call for action."""
    text = _reason(reason, required=False)
    with transaction.atomic():
        finding = _lock_finding(actor, finding_id)
        permissions.require(actor, Act.REVIEW, region_code=finding.region_code)
        before = finding.status
        if before == FindingStatus.CONFIRMED:
            return finding
        finding.status = FindingStatus.CONFIRMED
        finding.status_reason = text
        finding.decided_by_id = actor.user_id
        finding.decided_at = timezone.now()
        finding.save()
        _event(
            actor=actor,
            action="confirmed",
            before=before,
            after=finding.status,
            finding=finding,
            reason=text,
        )
    return finding


def finding_dismiss(*, actor: Actor, finding_id: int, reason: str) -> Finding:
    """Agency staff dismiss a finding, with the reason; it stays dismissed through later scans
    unless its evidence changes (scan.py)."""
    text = _reason(reason)
    with transaction.atomic():
        finding = _lock_finding(actor, finding_id)
        permissions.require(actor, Act.REVIEW, region_code=finding.region_code)
        if finding.case_id is not None:
            raise Conflict("already_in_case", "this finding is part of an enforcement case", "")
        before = finding.status
        finding.status = FindingStatus.DISMISSED
        finding.status_reason = text
        finding.decided_by_id = actor.user_id
        finding.decided_at = timezone.now()
        finding.save()
        _event(
            actor=actor,
            action="dismissed",
            before=before,
            after=finding.status,
            finding=finding,
            reason=text,
        )
    return finding


# --- cases --------------------------------------------------------------------------------------


def _lock_case(actor: Actor, case_id: int) -> Case:
    selectors.case_get(actor=actor, case_id=case_id, audit=False)  # scope: else 404
    case = Case.objects.select_for_update().select_related("employer").get(pk=case_id)
    permissions.require(actor, Act.MANAGE_CASE, region_code=case.region_code)
    return case


def _move(case: Case, action: str, actor: Actor, **detail: Any) -> None:
    before = case.status
    case.status = states.next_status(case.status, action)
    case.save()
    _event(actor=actor, action=action, before=before, after=case.status, case=case, **detail)


def case_open(*, actor: Actor, finding_ids: Sequence[int]) -> Case:
    """Open an enforcement case from findings of one employer; open findings become confirmed.
    A dismissed finding, or one already in a case, is refused."""
    ids = sorted({int(i) for i in finding_ids})
    if not ids:
        raise RuleError("no_findings", "choose at least one finding", "finding_ids")
    with transaction.atomic():
        visible = selectors.findings_visible(actor).filter(pk__in=ids).values_list("pk", flat=True)
        missing = sorted(set(ids) - set(visible))
        if missing:
            raise NotFound("not_found", f"no finding {missing[0]} that you may see", "finding_ids")
        findings = list(Finding.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        employers = {f.employer_id for f in findings}
        if len(employers) != 1:
            raise RuleError(
                "one_employer", "the findings concern more than one employer", "finding_ids"
            )
        first = findings[0]
        permissions.require(actor, Act.OPEN_CASE, region_code=first.region_code)
        for f in findings:
            if f.case_id is not None:
                raise Conflict(
                    "already_in_case", f"finding {f.pk} is already in a case", "finding_ids"
                )
            if f.status == FindingStatus.DISMISSED:
                raise Conflict("finding_dismissed", f"finding {f.pk} was dismissed", "finding_ids")
        case = Case.objects.create(
            number=f"tmp-{timezone.now().timestamp()}-{first.pk}",
            region_code=first.region_code,
            employer_id=first.employer_id,
            opened_by=actor.label[:200],
        )
        case.number = f"ENF-{case.region_code}-{timezone.localdate().year}-{case.pk:06d}"
        case.save(update_fields=["number"])
        now = timezone.now()
        for f in findings:
            before = f.status
            f.case = case
            if f.status == FindingStatus.OPEN:
                f.status = FindingStatus.CONFIRMED
                f.status_reason = f"enforcement case {case.number} opened"
                f.decided_by_id = actor.user_id
                f.decided_at = now
            f.save()
            CaseEvent.objects.create(
                finding=f,
                action="case_opened",
                from_status=before,
                to_status=f.status,
                actor_label=actor.label[:200],
                detail={"case": case.number},
            )
        _event(
            actor=actor,
            action="opened",
            before="",
            after=case.status,
            case=case,
            findings=",".join(str(f.pk) for f in findings),
        )
    return case


def _unlisted_rule(key: str, language: str) -> str:
    """A finding's rule that is no compliance check: one made from a complaint or report."""
    if key != REPORTED_RULE:
        return key
    return REPORTED_LABELS[1] if language.startswith("zh") else REPORTED_LABELS[0]


def _summary(case: Case, language: str = "en") -> str:
    counts: dict[str, int] = {}
    for f in case.findings.all():
        counts[f.rule] = counts.get(f.rule, 0) + 1
    reg = registry().rules
    return "; ".join(
        f"{reg[k].display(language) if k in reg else _unlisted_rule(k, language)} ({n})"
        for k, n in sorted(counts.items())
    )


def _notify(case: Case, kind: str, **params: Any) -> None:
    """Tell the employer's HR after commit (the message is rendered in each reader's language;
    the rule names go in English and Chinese both)."""

    def send() -> None:
        summary = f"{_summary(case, 'en')} / {_summary(case, 'zh-hans')}"
        payload = {
            "case": case.number,
            "employer": case.employer.name,
            "summary": summary,
            **{k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()},
        }
        notify_employer_hr(
            employer=case.employer,
            kind=kind,
            params=payload,
            dedupe_key=f"{kind}:{case.pk}:{case.status}",
        )

    transaction.on_commit(send)


def order_issue(*, actor: Actor, case_id: int, deadline: date, requirements: str = "") -> Case:
    """Issue the order to rectify within a time limit (SIL Art. 84, 86): the deadline, what is
    required; the employer's HR find it in their inbox and under "Orders to rectify" (PDF)."""
    today = timezone.localdate()
    validation.plausible_date(deadline, "deadline")
    if deadline <= today:
        raise RuleError("deadline_in_past", "the deadline must be after today", "deadline")
    if deadline > today + timedelta(days=ORDER_MAX_DAYS):
        raise RuleError("deadline_too_far", "at most one year from today", "deadline")
    text = _reason(requirements, "requirements", required=False)
    with transaction.atomic():
        case = _lock_case(actor, case_id)
        case.order_issued_on = today
        case.order_deadline = deadline
        case.order_requirements = text
        _move(case, "issue_order", actor, deadline=deadline.isoformat())
        _notify(case, "order_to_rectify", deadline=deadline)
    return case


@dataclass(frozen=True)
class FineBasis:
    """What the fines of a case are measured on, from its findings and the contributions ledger."""

    premiums_payable_fen: int  # not registered: premiums payable (estimated) — SIL Art. 84
    arrears_fen: int  # unpaid bills outstanding today, plus months unbilled or wrongly exempted
    late_fees_fen: int  # accrued on the unpaid bills to today, from the ledger
    illegal_persons: int  # distinct people with signs of illegal employment
    fine_kinds: tuple[str, ...]  # the fines its findings can lead to (compliance.toml)


def fine_basis(case: Case, on: date | None = None) -> FineBasis:
    on = on or timezone.localdate()
    reg = registry().rules
    premiums = arrears = fees = 0
    illegal: set[int] = set()
    kinds: list[str] = []
    bill_ids: list[int] = []
    for f in case.findings.all():
        rule = reg.get(f.rule)
        for k in rule.fines if rule else ():
            if k not in kinds:
                kinds.append(k)
        if f.rule == "not_registered":
            premiums += f.amount_fen
        elif f.rule == "unpaid_past_due":
            bill_ids.append(int(f.evidence.get("bill_id", 0)))
        elif f.rule in ("months_not_billed", "exemption_without_certificate"):
            arrears += f.amount_fen
        elif f.rule == "illegal_employment" and f.person_id is not None:
            illegal.add(f.person_id)
    for state in selectors.bill_states(case.employer_id, bill_ids, on):
        arrears += max(state.outstanding, 0)
        fees += state.fee_outstanding
    return FineBasis(premiums, arrears, fees, len(illegal), tuple(kinds))


def fine_bracket(
    basis: FineBasis, kind: str, persons: int | None = None
) -> tuple[Any, int | None, int | None]:
    """The statutory range for ``kind`` on this basis: (FineRange, basis amount, persons)."""
    if kind == "failure_to_register":
        return (
            fine_range(kind, amount_fen=basis.premiums_payable_fen),
            basis.premiums_payable_fen,
            None,
        )
    if kind == "arrears_not_paid":
        return fine_range(kind, amount_fen=basis.arrears_fen), basis.arrears_fen, None
    if kind == "illegal_employment":
        n = max(basis.illegal_persons, 1)
        return fine_range(kind, persons=n), None, n
    if persons is None:
        raise RuleError("persons_required", "give the number of responsible persons", "persons")
    return fine_range(kind, persons=persons), None, persons


def fine_propose(
    *,
    actor: Actor,
    case_id: int,
    kind: str,
    amount_fen: int,
    reason: str,
    persons: int | None = None,
) -> FineProposal:
    """Propose a fine once the order's deadline has passed: within the statutory range for the
    kind (1–3 × the premiums payable or the arrears; 500–3,000 yuan per responsible person;
    10,000 yuan per illegally employed foreigner, at most 100,000) — outside it, refused with the
    range named (``fine_out_of_range`` on ``amount``)."""
    text = _reason(reason)
    if persons is not None and (isinstance(persons, bool) or persons < 1 or persons > 1000):
        raise RuleError("invalid_persons", "a whole number from 1 to 1000", "persons")
    with transaction.atomic():
        case = _lock_case(actor, case_id)
        today = timezone.localdate()
        if case.status not in (CaseStatus.ORDERED, CaseStatus.FINE_PROPOSED):
            states.next_status(case.status, "propose_fine")  # raises wrong_state
        if case.order_deadline is None or case.order_deadline >= today:
            raise Conflict(
                "deadline_not_passed",
                f"the order's deadline {case.order_deadline} has not passed",
                "",
                {"deadline": case.order_deadline.isoformat() if case.order_deadline else ""},
            )
        basis = fine_basis(case, today)
        if kind not in basis.fine_kinds:
            raise RuleError(
                "fine_not_applicable",
                f"{kind!r} does not apply to this case; accepted: {', '.join(basis.fine_kinds) or 'none'}",
                "kind",
            )
        bracket, base_amount, n = fine_bracket(basis, kind, persons)
        if not bracket.min_fen <= amount_fen <= bracket.max_fen:
            raise RuleError(
                "fine_out_of_range",
                f"{format_yuan(amount_fen)} is outside {format_yuan(bracket.min_fen)} to "
                f"{format_yuan(bracket.max_fen)}: {bracket.explanation}",
                "amount",
                {
                    "min": format_yuan(bracket.min_fen, thousands=True),
                    "max": format_yuan(bracket.max_fen, thousands=True),
                    "article": bracket.article,
                },
            )
        proposal = FineProposal.objects.create(
            case=case,
            kind=kind,
            basis_fen=base_amount,
            persons=n,
            min_fen=bracket.min_fen,
            max_fen=bracket.max_fen,
            amount_fen=amount_fen,
            explanation=bracket.explanation,
            reason=text,
            proposed_by=actor.label[:200],
        )
        _move(
            case,
            "propose_fine",
            actor,
            kind=kind,
            amount=format_yuan(amount_fen),
            proposal=proposal.pk,
        )
    return proposal


OUTCOMES = ("fine", "no_fine")


def case_decide(*, actor: Actor, case_id: int, outcome: str, reason: str) -> Case:
    """Decide, with reasons: ``fine`` adopts the fines proposed; ``no_fine`` withdraws them. The
    late fees accrued on the case's bills are recorded from the contributions ledger."""
    if outcome not in OUTCOMES:
        raise RuleError("invalid_outcome", "choose fine or no_fine", "outcome")
    text = _reason(reason)
    with transaction.atomic():
        case = _lock_case(actor, case_id)
        states.next_status(case.status, "decide")
        proposals = list(case.proposals.filter(status=ProposalStatus.PROPOSED))
        if outcome == "fine" and not proposals:
            raise Conflict("no_proposal", "propose a fine first, or decide no fine", "outcome")
        today = timezone.localdate()
        if case.order_deadline is not None and case.order_deadline >= today:
            raise Conflict(
                "deadline_not_passed",
                f"the order's deadline {case.order_deadline} has not passed",
                "",
                {"deadline": case.order_deadline.isoformat()},
            )
        adopted = ProposalStatus.ADOPTED if outcome == "fine" else ProposalStatus.WITHDRAWN
        case.proposals.filter(status=ProposalStatus.PROPOSED).update(status=adopted)
        case.decision = outcome
        case.decision_reason = text
        case.decided_on = today
        case.fine_total_fen = sum(p.amount_fen for p in proposals) if outcome == "fine" else 0
        case.late_fee_fen = fine_basis(case, today).late_fees_fen
        _move(
            case,
            "decide",
            actor,
            outcome=outcome,
            fine_total=format_yuan(case.fine_total_fen),
            late_fees=format_yuan(case.late_fee_fen),
            reason=text,
        )
        words = {
            "fine": f"fines of {format_yuan(case.fine_total_fen, thousands=True)} yuan / 罚款 {format_yuan(case.fine_total_fen, thousands=True)} 元",
            "no_fine": "no fine / 不予罚款",
        }
        _notify(case, "case_decided", outcome=words[outcome], reason=text)
    return case


def case_close(*, actor: Actor, case_id: int, reason: str) -> Case:
    """Close a settled case. Before a decision, only once a later scan found every finding of the
    case resolved (the employer rectified within the time limit)."""
    text = _reason(reason)
    with transaction.atomic():
        case = _lock_case(actor, case_id)
        states.next_status(case.status, "close")
        if (
            case.status == CaseStatus.ORDERED
            and case.findings.filter(resolved_on__isnull=True).exists()
        ):
            raise Conflict("not_rectified", "findings of this case are not resolved", "")
        case.closed_on = timezone.localdate()
        case.close_reason = text
        _move(case, "close", actor, reason=text)
    return case


# --- opt-outs under a regional legacy rule --------------------------------------------------------


def opt_out_record(
    *,
    actor: Actor,
    legacy: str,
    person_id: int,
    employer_id: int,
    signed_on: date,
    reference: str = "",
) -> OptOut:
    """Record a contractual opt-out on file (e.g. under Shanghai Notice No. 38 [2009]): the
    checks the legacy rule suspends find nothing for this person at this employer while it was
    in force. Agency staff of the employer's region."""
    rule = registry().legacy.get(legacy)
    if rule is None:
        raise RuleError(
            "unknown_legacy",
            f"{legacy!r} is not a legacy rule; accepted: {', '.join(registry().legacy)}",
            "legacy",
        )
    validation.plausible_date(signed_on, "signed_on")
    ref = validation.text(reference, "reference", max_length=100)
    employer = employer_get(actor=actor, employer_id=employer_id)
    permissions.require(actor, Act.RECORD_OPT_OUT, region_code=employer.region_code)
    if employer.region_code != rule.region:
        raise RuleError(
            "legacy_region", f"the employer is not in region {rule.region}", "employer_id"
        )
    if not rule.in_force_from <= signed_on <= rule.in_force_to:
        raise RuleError(
            "signed_after_expiry",
            f"signed on {signed_on}, outside {rule.in_force_from}…{rule.in_force_to}",
            "signed_on",
        )
    person = person_get(actor=actor, person_id=person_id, audit=False)
    with transaction.atomic():
        found, created = OptOut.objects.get_or_create(
            legacy=legacy,
            person=person,
            employer=employer,
            defaults={"signed_on": signed_on, "reference": ref, "recorded_by": actor.label[:200]},
        )
        if not created:
            raise Conflict("duplicate", "this opt-out is already on file", "person_id")
        audit_record(
            actor=actor,
            action="optout.record",
            object_type="optout",
            object_id=found.pk,
            person_id=person.pk,
            detail={
                "legacy": legacy,
                "employer_id": employer.pk,
                "signed_on": signed_on.isoformat(),
            },
        )
    return found
