"""Four eyes on payouts: a decision above the threshold is approved twice, by two different agency
users, and each step is stamped on the record it decides.

Terminations, inheritance claims, pensions and programme applications share this: they carry the
same review and second-approval fields, and the rule that the first reviewer may not also give the
second approval is the same everywhere — kept in one place so that it cannot drift between them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.rules.errors import Forbidden


class TwoStep(Protocol):
    """A record decided in up to two steps (the fields the benefit models carry)."""

    reviewed_by_id: int | None
    reviewed_by_label: str
    reviewed_at: datetime | None
    review_note: str
    second_by_id: int | None
    second_by_label: str
    second_at: datetime | None
    second_note: str


def refuse_same_reviewer(
    record: TwoStep, actor: Actor, *, second: bool, what: str = "payout", field: str = "decision"
) -> None:
    """403 ``four_eyes`` when the second approval would come from the first reviewer."""
    if second and record.reviewed_by_id is not None and record.reviewed_by_id == actor.user_id:
        raise Forbidden(
            "four_eyes", f"this {what} needs a second approval by another agency user", field
        )


def stamp(record: TwoStep, actor: Actor, *, second: bool, note: str) -> None:
    """Who decided this step, when, and what they noted (the record is saved by the caller)."""
    now = timezone.now()
    if second:
        record.second_by_id = actor.user_id
        record.second_by_label = actor.label[:200]
        record.second_at = now
        record.second_note = note
    else:
        record.reviewed_by_id = actor.user_id
        record.reviewed_by_label = actor.label[:200]
        record.reviewed_at = now
        record.review_note = note
