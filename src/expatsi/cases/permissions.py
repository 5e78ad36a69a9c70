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

from expatsi.access.actors import Actor
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
    return actor.kind in ("agency", "system")


def may_see_orders(actor: Actor) -> bool:
    """Whether the menu offers the cases list: agency staff (their cases) and employer HR (the
    orders addressed to their employer)."""
    return actor.kind in ("agency", "hr")
