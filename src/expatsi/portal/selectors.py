"""Reads the portal composes from several contexts."""

from __future__ import annotations

from expatsi.access.actors import Actor
from expatsi.audit.selectors import AuditScope
from expatsi.employers.selectors import employers_visible
from expatsi.insurance.selectors import persons_visible


def audit_scope(actor: Actor) -> AuditScope:
    """The people and employers whose audit events a region's staff may read: those they may see
    (decided by ``insurance.permissions`` and ``employers.permissions``, above the audit trail)."""
    return AuditScope(
        person_ids=persons_visible(actor).values("pk"),
        employer_ids=employers_visible(actor).values_list("pk", flat=True),
    )
