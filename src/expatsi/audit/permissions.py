"""Who may read the audit trail: the one place the rule is written down.

Agency staff of every region (and system jobs) read all of it; staff of some regions read the
events about the people and employers of their regions and their own actions (the scope is
decided above the audit trail and passed in: ``audit.selectors.AuditScope``). Nobody else reads
any of it: HR, foreign employees and the public are refused (403).
"""

from __future__ import annotations

from expatsi.access.actors import Actor


def may_read_audit_trail(actor: Actor) -> bool:
    return actor.is_agency


def reads_whole_audit_trail(actor: Actor) -> bool:
    """Everything, unscoped: system jobs and agency staff of every region."""
    return actor.covers_every_region
