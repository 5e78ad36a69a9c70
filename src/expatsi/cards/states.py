"""The card state machine as a table: every transition checks the current state first."""

from __future__ import annotations

from expatsi.cards.models import CardStatus
from expatsi.rules.errors import Conflict

S = CardStatus
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.APPLIED, "approve_first_entry"): S.NOTICE_ISSUED,
    (S.APPLIED, "reject_first_entry"): S.REJECTED,
    (S.NOTICE_ISSUED, "enter"): S.ACTIVE,
    (S.NOTICE_ISSUED, "lapse"): S.LAPSED,
    (S.ACTIVE, "extend"): S.ACTIVE,
    (S.ACTIVE, "change"): S.ACTIVE,
    (S.ACTIVE, "deregister"): S.DEREGISTERED,
    (S.ACTIVE, "expire"): S.EXPIRED,
}
# Applications that may be filed against a card in each state.
FILEABLE: dict[str, frozenset[str]] = {
    S.ACTIVE: frozenset({"extension", "change", "deregistration"}),
}


def next_status(current: str, action: str) -> str:
    target = TRANSITIONS.get((current, action))
    if target is None:
        raise Conflict(
            "invalid_transition",
            f"not allowed for a card that is {current}: {action.replace('_', ' ')}",
            "status",
        )
    return target


def check_fileable(current: str, kind: str) -> None:
    if kind not in FILEABLE.get(current, frozenset()):
        raise Conflict(
            "invalid_transition", f"no {kind} can be filed for a card that is {current}", "status"
        )
