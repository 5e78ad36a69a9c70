"""Withdrawing one fine proposal before the decision, with the reason (a wrong kind, a figure
that changed, a proposal made twice).

A proposal is internal until the decision (the employer never sees it), so it may be withdrawn
while the case waits for its decision; once decided, the proposals adopted are the decision and
only a new decision could change them (refused here with ``already_decided``). The proposal row
stays, marked withdrawn: the history keeps what was proposed, by whom, and why it was withdrawn
(a case event and an audit event, ``case.withdraw_fine``, with the reason).

When the last proposal still standing is withdrawn the case goes back from "fine proposed" to
"order to rectify issued", the stage it was at before any proposal; a decision then needs a new
proposal, or "no fine".
"""

from __future__ import annotations

from django.db import transaction

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.cases import permissions, selectors
from expatsi.cases.models import Case, CaseEvent, CaseStatus, FineProposal, ProposalStatus
from expatsi.cases.permissions import Act
from expatsi.rules.errors import Conflict, NotFound, RuleError
from expatsi.rules.money import format_yuan

REASON_MAX = 500
ACTION = "withdraw_fine"

# Messages of this module's refusals (the pages show them in the reader's language).
CODES = ("already_decided", "proposal_not_found", "proposal_not_open")


def withdrawable(case: Case) -> list[FineProposal]:
    """The proposals of ``case`` that may still be withdrawn (none once it is decided)."""
    if case.decision or case.status not in (CaseStatus.ORDERED, CaseStatus.FINE_PROPOSED):
        return []
    return list(case.proposals.filter(status=ProposalStatus.PROPOSED).order_by("proposed_at", "pk"))


def fine_withdraw(*, actor: Actor, case_id: int, proposal_id: int, reason: str) -> FineProposal:
    """Withdraw proposal ``proposal_id`` of case ``case_id``, with the reason. Asking again for a
    proposal already withdrawn this way changes nothing and returns it (a retried request)."""
    text = validation.text(reason, "reason", max_length=REASON_MAX, multiline=True)
    if not text:
        raise RuleError("reason_required", "give the reason", "reason")
    with transaction.atomic():
        selectors.case_get(actor=actor, case_id=case_id, audit=False)  # scope: else 404
        case = Case.objects.select_for_update().get(pk=case_id)
        permissions.require(actor, Act.MANAGE_CASE, region_code=case.region_code)
        proposal = (
            FineProposal.objects.select_for_update().filter(pk=proposal_id, case=case).first()
        )
        if proposal is None:
            raise NotFound(
                "proposal_not_found",
                f"case {case.number} has no proposal {proposal_id}",
                "proposal",
            )
        if case.decision or case.status in (CaseStatus.DECIDED, CaseStatus.CLOSED):
            raise Conflict(
                "already_decided",
                "the case is decided: its fines are part of the decision",
                "proposal",
                {"status": case.status},
            )
        if proposal.status == ProposalStatus.WITHDRAWN:
            return proposal
        if proposal.status != ProposalStatus.PROPOSED:
            raise Conflict("proposal_not_open", f"the proposal is {proposal.status}", "proposal")
        proposal.status = ProposalStatus.WITHDRAWN
        proposal.save(update_fields=["status"])
        before = case.status
        still = case.proposals.filter(status=ProposalStatus.PROPOSED).exists()
        if case.status == CaseStatus.FINE_PROPOSED and not still:
            case.status = CaseStatus.ORDERED
            case.save(update_fields=["status", "updated_at"])
        detail = {
            "proposal": proposal.pk,
            "kind": proposal.kind,
            "amount": format_yuan(proposal.amount_fen),
            "reason": text,
        }
        CaseEvent.objects.create(
            case=case,
            action=ACTION,
            from_status=before,
            to_status=case.status,
            actor_label=actor.label[:200],
            detail=detail,
        )
        audit_record(
            actor=actor,
            action=f"case.{ACTION}",
            object_type="case",
            object_id=case.pk,
            detail={"from": before, "to": case.status, **detail},
        )
    return proposal
