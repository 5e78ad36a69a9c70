"""Reads of findings and cases, always within the actor's scope: an object outside it is not found.

Agency staff see the findings and cases of employers in their regions; employer HR see the cases
addressed to their employer from the day the order to rectify is issued; nobody else sees any.
Reads of a finding about a person, and of a case, are audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db.models import QuerySet

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.billing.models import Bill
from expatsi.billing.payments import BillState, bill_state
from expatsi.cases import permissions
from expatsi.cases.models import Case, CaseEvent, Finding, FindingStatus, Scan
from expatsi.people.models import Person
from expatsi.rules.errors import NotFound


def findings_visible(actor: Actor) -> QuerySet[Finding]:
    qs = Finding.objects.select_related("employer", "person")
    scope = permissions.region_scope(actor)
    return qs if scope is None else qs.filter(scope)


def finding_list(
    *,
    actor: Actor,
    region_code: str = "",
    rule: str = "",
    status: str = "",
    employer_id: int | None = None,
    person_id: int | None = None,
    unresolved: bool = False,
) -> QuerySet[Finding]:
    """Filters that do not apply (an unknown status, say) are the caller's to refuse; here an
    empty value means "any"."""
    qs = findings_visible(actor)
    if region_code:
        qs = qs.filter(region_code=region_code)
    if rule:
        qs = qs.filter(rule=rule)
    if status:
        qs = qs.filter(status=status)
    if employer_id is not None:
        qs = qs.filter(employer_id=employer_id)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if unresolved:
        qs = qs.filter(resolved_on__isnull=True)
    return qs.order_by("-found_on", "-pk")


def finding_get(*, actor: Actor, finding_id: int, audit: bool = True) -> Finding:
    finding = findings_visible(actor).filter(pk=finding_id).first()
    if finding is None:
        raise NotFound("not_found", f"no finding {finding_id} that you may see", "finding_id")
    if audit:
        audit_record(
            actor=actor,
            action="finding.read",
            object_type="finding",
            object_id=finding.pk,
            person_id=finding.person_id,
        )
    return finding


def finding_people(actor: Actor, finding: Finding) -> QuerySet[Person]:
    """The people a finding about several names (``person_ids`` in its evidence), those the
    actor may see (the same people as the finding's employer's)."""
    ids = finding.evidence.get("person_ids") or []
    if not isinstance(ids, list) or not findings_visible(actor).filter(pk=finding.pk).exists():
        return Person.objects.none()
    return Person.objects.filter(pk__in=[int(i) for i in ids]).order_by("family_name", "pk")


def finding_history(finding: Finding) -> QuerySet[CaseEvent]:
    return finding.events.all()


def findings_for_new_case(actor: Actor, finding: Finding) -> QuerySet[Finding]:
    """The findings of ``finding``'s employer that can go into a new case with it: in no case,
    not dismissed, not resolved."""
    return (
        findings_visible(actor)
        .filter(employer_id=finding.employer_id, case__isnull=True, resolved_on__isnull=True)
        .exclude(status=FindingStatus.DISMISSED)
        .order_by("rule", "period", "pk")
    )


def open_findings_count(actor: Actor) -> int:
    return (
        findings_visible(actor).filter(status=FindingStatus.OPEN, resolved_on__isnull=True).count()
    )


def cases_visible(actor: Actor) -> QuerySet[Case]:
    qs = Case.objects.select_related("employer")
    scope = permissions.case_scope(actor)
    return qs if scope is None else qs.filter(scope)


def case_list(*, actor: Actor, status: str = "", region_code: str = "") -> QuerySet[Case]:
    qs = cases_visible(actor)
    if status:
        qs = qs.filter(status=status)
    if region_code:
        qs = qs.filter(region_code=region_code)
    return qs.order_by("-opened_at", "-pk")


def case_get(*, actor: Actor, case_id: int, audit: bool = True) -> Case:
    case = cases_visible(actor).filter(pk=case_id).first()
    if case is None:
        raise NotFound("not_found", f"no case {case_id} that you may see", "case_id")
    if audit:
        audit_record(actor=actor, action="case.read", object_type="case", object_id=case.pk)
    return case


def case_findings(case: Case) -> QuerySet[Finding]:
    return case.findings.select_related("person").order_by("rule", "period", "pk")


def case_history(case: Case) -> QuerySet[CaseEvent]:
    return case.events.all()


def bill_states(employer_id: int, bill_ids: Sequence[int], on: date) -> list[BillState]:
    """Where the case's bills stand on ``on`` in the contributions ledger (paid, outstanding, late
    fee accrued and unpaid), the same figures the employer's bills page shows."""
    if not bill_ids:
        return []
    bills = Bill.objects.filter(employer_id=employer_id, pk__in=list(bill_ids)).prefetch_related(
        "allocations"
    )
    return [bill_state(b, on) for b in bills.order_by("due_date", "pk")]


def scans_visible(actor: Actor) -> QuerySet[Scan]:
    scope = permissions.region_scope(actor)
    return Scan.objects.all() if scope is None else Scan.objects.filter(scope)


def scan_get(*, actor: Actor, scan_id: int) -> Scan:
    """A scan of the actor's regions, or one they queued themselves (a scan of all their regions
    is of no single region); else not found."""
    if actor.kind != "agency":
        raise NotFound("not_found", f"no scan {scan_id} that you may see", "scan_id")
    found = scans_visible(actor).filter(pk=scan_id).first()
    if found is None and actor.user_id is not None:
        found = Scan.objects.filter(pk=scan_id, queued_by_id=actor.user_id).first()
    if found is None:
        raise NotFound("not_found", f"no scan {scan_id} that you may see", "scan_id")
    return found
