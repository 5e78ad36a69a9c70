"""``expatsi audit verify``: walk the audit hash chain (nightly, from cron)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from expatsi.cli import Parser, add_command


def verify(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expatsi.settings")
    import django

    django.setup()
    from expatsi.audit.models import AuditEvent
    from expatsi.audit.services import audit_verify

    intact, broken_at = audit_verify(full=not args.since_checkpoint)
    result = {"intact": intact, "first_bad_event": broken_at, "events": AuditEvent.objects.count()}
    args._exit_code = 0 if intact else 1
    return result


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub,
        "verify",
        verify,
        help="check that no audit event was altered or removed (exit 1 if the chain is broken)",
    )
    p.add_argument(
        "--since-checkpoint",
        action="store_true",
        help="only the events since the last verification (fast); default: the whole chain",
    )
