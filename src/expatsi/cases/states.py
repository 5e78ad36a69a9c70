"""The life of an enforcement case as a table: (state, action) → next state.

open ──issue_order──▶ ordered ──propose_fine──▶ fine_proposed ──decide──▶ decided ──close──▶ closed
                         │  └────────────decide (no fine)──────────────────▲
                         └──close (rectified in time)──▶ closed
An empty case opened by mistake may be closed from ``open``. Services lock the case row, look the
transition up here, and refuse anything else with 409 ``wrong_state``.
"""

from __future__ import annotations

from expatsi.rules.errors import Conflict

TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "issue_order"): "ordered",
    ("open", "close"): "closed",
    ("ordered", "propose_fine"): "fine_proposed",
    ("fine_proposed", "propose_fine"): "fine_proposed",
    ("ordered", "decide"): "decided",
    ("fine_proposed", "decide"): "decided",
    ("ordered", "close"): "closed",
    ("decided", "close"): "closed",
}


def next_status(current: str, action: str) -> str:
    found = TRANSITIONS.get((current, action))
    if found is None:
        raise Conflict(
            "wrong_state",
            f"a case that is {current.replace('_', ' ')} cannot {action.replace('_', ' ')}",
            "",
            {"status": current, "action": action},
        )
    return found


def allowed_actions(current: str) -> list[str]:
    return [action for (state, action) in TRANSITIONS if state == current]
