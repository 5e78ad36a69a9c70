"""Who may do what with compliance findings and enforcement cases: the one place it is written down.

- **Agency staff** of a region: run the checks for their regions (or one employer there), see the
  findings and cases of employers in their regions, confirm or dismiss findings (a dismissal
  needs a reason), open cases, issue orders to rectify, propose fines, decide and close cases,
  record contractual opt-outs under a regional legacy rule. Agency staff for every region: all.
- **Employer HR** (portal users and API tokens alike): see the orders to rectify addressed to
  their employer (a case from the day its order is issued), with the order's PDF and, once
  decided, the decision. Never the findings list, the internal fine proposals of a case not yet
  decided, or another employer's case.
- **Foreign employees and the public**: nothing here.
- **System jobs** (the daily scan): run the checks everywhere.

Selectors find objects within the actor's scope (anything outside it is not found, 404); this
says whether an actor who can see an object may take the action (403 otherwise).
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q

from expatsi.access.actors import Actor
from expatsi.cases.models import CaseStatus
from expatsi.rules.errors import Forbidden


class Act(StrEnum):
    SCAN = "scan"  # run the compliance checks
    SEE_FINDINGS = "see_findings"
    REVIEW = "review"  # confirm or dismiss a finding
    OPEN_CASE = "open_case"
    MANAGE_CASE = "manage_case"  # order, fine proposal, decision, closing
    SEE_ORDER = "see_order"  # the order to rectify (and the decision) addressed to an employer
    RECORD_OPT_OUT = "record_opt_out"


AGENCY_ACTS = frozenset(Act)
HR_ACTS = frozenset({Act.SEE_ORDER})


def allowed(
    actor: Actor, act: Act, *, region_code: str = "", employer_id: int | None = None
) -> bool:
    """``region_code``: the region of the employer concerned ("" for a scan over every region the
    actor covers); ``employer_id``: the employer an order is addressed to."""
    if actor.kind == "system":
        return True
    if actor.kind == "agency":
        return not region_code or actor.covers_region(region_code)
    if actor.kind == "hr":
        return act in HR_ACTS and employer_id is not None and employer_id in actor.employer_ids
    return False


def require(
    actor: Actor, act: Act, *, region_code: str = "", employer_id: int | None = None
) -> None:
    if not allowed(actor, act, region_code=region_code, employer_id=employer_id):
        raise Forbidden("forbidden", f"you may not {act.value.replace('_', ' ')} here", "")


def is_staff(actor: Actor) -> bool:
    """Agency staff (and jobs): the compliance pages, findings, scans and managing cases."""
    return actor.kind in ("agency", "system")


def may_see_orders(actor: Actor) -> bool:
    """Whether the menu offers the cases list: agency staff (their cases) and employer HR (the
    orders addressed to their employer)."""
    return actor.kind in ("agency", "hr")


def may_list_cases(actor: Actor) -> bool:
    """Ask for the list of cases (the API): agency staff and jobs (their regions' cases) and
    employer HR and tokens (the orders addressed to their employer); anyone else 403."""
    return actor.kind in ("agency", "hr", "system")


def require_list_cases(actor: Actor) -> None:
    if not may_list_cases(actor):
        raise Forbidden("forbidden", "only agency staff and employer HR see cases", "")


def may_scan_region(actor: Actor, region_code: str) -> bool:
    """Run the checks in this region (the regions a scan form offers): staff who cover it."""
    return actor.covers_region(region_code)


def regions_to_scan(actor: Actor) -> tuple[str, ...] | None:
    """The regions a scan not limited to one region runs over: those of staff limited to some
    regions; None for every region (jobs and staff of every region)."""
    if actor.kind == "agency" and actor.regions is not None:
        return tuple(sorted(actor.regions))
    return None


# --- which rows -----------------------------------------------------------------------------------


def region_scope(actor: Actor) -> Q | None:
    """Findings and scans (by their ``region_code``) of the regions ``actor`` covers: None for
    every row, a filter matching nothing for anyone but agency staff and jobs."""
    if actor.covers_every_region:
        return None
    if actor.kind == "agency":
        return Q(region_code__in=actor.regions or ())
    return Q(pk__in=[])


def case_scope(actor: Actor) -> Q | None:
    """The cases ``actor`` may see (None: every one): staff those of their regions; employer HR
    those addressed to their employer from the day an order is issued (not while still open)."""
    if actor.kind == "hr":
        return Q(employer_id__in=actor.employer_ids) & ~Q(status=CaseStatus.OPEN)
    return region_scope(actor)


# --- disputes, complaints and reports -------------------------------------------------------------
# Disputes: the two parties (the foreign employee, their employer's HR and tokens) and agency staff
# of the employer's region see a dispute; anyone else is not shown it (404). The parties and staff
# open one, add documents and record that it moved to the next stage; staff record the outcome,
# post the corrections in billing that follow it, and close it.
# Complaints and reports: the person who filed one sees it and the reply; agency staff of the
# employer's region see every one there, answer it (the reply clock runs for them), and turn it
# into a finding. The employer is not shown who complained.


def dispute_scope(actor: Actor) -> Q | None:
    """The disputes ``actor`` may see (None: every one)."""
    if actor.covers_every_region:
        return None
    if actor.kind == "agency":
        return Q(region_code__in=actor.regions or ())
    if actor.kind == "hr":
        return Q(employer_id__in=actor.employer_ids)
    if actor.kind == "employee" and actor.person_id is not None:
        return Q(person_id=actor.person_id)
    return Q(pk__in=[])


def may_see_disputes(actor: Actor) -> bool:
    """The disputes list (menu, page, API): staff, jobs, employer HR and foreign employees."""
    return actor.kind in ("agency", "system", "hr", "employee")


def require_see_disputes(actor: Actor) -> None:
    if not may_see_disputes(actor):
        raise Forbidden("forbidden", "only the parties and agency staff see disputes", "")


def is_party_or_staff(actor: Actor, *, region_code: str, employer_id: int, person_id: int) -> bool:
    """Open a dispute between this employer and this person, add a document, record the next
    stage: the person themself, the employer's HR, or staff of the employer's region."""
    return (
        actor.covers_region(region_code)
        or actor.is_hr_of(employer_id)
        or actor.is_person(person_id)
    )


def may_decide_dispute(actor: Actor, region_code: str) -> bool:
    """Record the outcome, post a correction, close: agency staff of the employer's region."""
    return actor.covers_region(region_code)


def complaint_scope(actor: Actor) -> Q | None:
    """The complaints and reports ``actor`` may see (None: every one): staff those of their
    regions; anyone else signed in, those they filed themself."""
    if actor.covers_every_region:
        return None
    if actor.kind == "agency":
        return Q(region_code__in=actor.regions or ())
    if actor.user_id is not None:
        return Q(submitted_by_id=actor.user_id)
    return Q(pk__in=[])


def may_use_complaints(actor: Actor) -> bool:
    """The complaints page and API: staff, and anyone signed in with an account (who may file a
    report, and see their own); not an API token (nobody to answer) nor an anonymous visitor."""
    return actor.kind in ("agency", "system") or (actor.user_id is not None)


def require_use_complaints(actor: Actor) -> None:
    if not may_use_complaints(actor):
        raise Forbidden("forbidden", "sign in to file or follow a complaint", "")


def may_request_intervention(actor: Actor) -> bool:
    """Ask the agency to intervene with one's own employer: a foreign employee."""
    return actor.kind == "employee" and actor.person_id is not None and actor.user_id is not None


def may_file_report(actor: Actor) -> bool:
    """Report an employer: anyone signed in with an account."""
    return actor.user_id is not None and actor.kind != "system"


def may_answer_complaint(actor: Actor, region_code: str) -> bool:
    """Reply, close, turn into a finding: agency staff of the employer's region."""
    return actor.covers_region(region_code)
