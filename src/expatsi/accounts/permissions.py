"""Who may change a user's second factor: the one place the rule is written down.

A user changes their own (from a signed-in, verified session); an administrator resets anyone's
at the command line (``expatsi access reset-2fa``, which acts as the system). Nobody changes
another user's second factor from a web session — not even agency staff.
"""

from __future__ import annotations

from typing import Any

from expatsi.access.actors import Actor


def may_manage_second_factor(actor: Actor, user: Any) -> bool:
    return actor.kind == "system" or (actor.user_id is not None and actor.user_id == user.pk)
