"""``expatsi audit verify``: walk the audit hash chain (nightly, from cron)."""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.audit.models import AuditEvent
from expatsi.audit.services import audit_check
from expatsi.cli import Parser, add_command


def verify(args: argparse.Namespace) -> dict[str, Any]:
    result = audit_check(full=not args.since_checkpoint)
    args._exit_code = 0 if result.intact else 1
    return {
        "intact": result.intact,
        "first_bad_event": result.first_bad_event,
        "problem": result.problem,  # altered, removed, rewritten, forged_checkpoint
        "detail": result.detail,
        "events": AuditEvent.objects.count(),
    }


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub,
        "verify",
        verify,
        help="check that no audit event was altered or removed, and sign a checkpoint of the "
        "chain's head (exit 1 if the chain is broken)",
    )
    p.add_argument(
        "--since-checkpoint",
        action="store_true",
        help="only the events since the last verification (fast); default: the whole chain",
    )
