"""The other party hears of a dispute in their inbox: when it is opened, taken to the next stage
and decided. The employee hears what the employer's HR did and the other way round; what agency
staff record reaches both parties. Sent after commit, in each reader's language (the stage and the
outcome are put in words for that reader before the message is stored)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import translation

from expatsi.access.actors import Actor
from expatsi.cases.models import Dispute, DisputeOutcome, DisputeStage
from expatsi.employers.models import HrMembership
from expatsi.notify.services import notify_user, user_language

KINDS = {
    "opened": "dispute_opened",
    "escalated": "dispute_escalated",
    "decided": "dispute_decided",
}


def _recipients(dispute: Dispute, actor: Actor) -> list[Any]:
    """The other party's users: the employee's account and/or the active HR users of the
    employer, never the actor themselves."""
    users: list[Any] = []
    model = get_user_model()
    if actor.kind != "employee" and dispute.person.user_id is not None:
        users += list(model.objects.filter(pk=dispute.person.user_id, is_active=True))
    if actor.kind != "hr":
        hr_ids = HrMembership.objects.filter(employer_id=dispute.employer_id, active=True)
        users += list(
            model.objects.filter(pk__in=hr_ids.values("user_id"), is_active=True).order_by("pk")
        )
    return [u for u in users if u.pk != actor.user_id]


def _params(dispute: Dispute, language: str) -> dict[str, str]:
    with translation.override(language):
        return {
            "number": dispute.number,
            "employer": dispute.employer.name,
            "stage": str(DisputeStage(dispute.stage).label) if dispute.stage else "",
            "outcome": str(DisputeOutcome(dispute.outcome).label) if dispute.outcome else "",
        }


def _send(dispute_id: int, actor: Actor, action: str, key: str) -> None:
    dispute = Dispute.objects.select_related("employer", "person").get(pk=dispute_id)
    for user in _recipients(dispute, actor):
        language = user_language(user)
        notify_user(
            user=user,
            kind=KINDS[action],
            params=_params(dispute, language),
            dedupe_key=f"dispute:{dispute.pk}:{key}",
            language=language,
        )


def notify_other_party(dispute: Dispute, actor: Actor, action: str) -> None:
    """Once the write commits, tell the other party (``action``: opened, escalated, decided)."""
    key = {
        "opened": "opened",
        "escalated": f"escalated:{dispute.stage}",
        "decided": f"decided:{dispute.decided_stage}:{dispute.decided_on}",
    }[action]
    dispute_id = dispute.pk
    transaction.on_commit(lambda: _send(dispute_id, actor, action, key))
