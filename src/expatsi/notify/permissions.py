"""Whose notifications an actor may read and mark read: the one place the rule is written down.

A notification belongs to one user account, whatever that user's role: each user reads and marks
only their own. An actor without an account (an employer's API token, a system job) has no inbox.
Someone else's notification is simply not found.
"""

from __future__ import annotations

from django.db.models import Q

from expatsi.access.actors import Actor


def notification_scope(actor: Actor) -> Q:
    """The notifications ``actor`` may read, as a filter on Notification."""
    if actor.user_id is None:
        return Q(pk__in=[])
    return Q(user_id=actor.user_id)
