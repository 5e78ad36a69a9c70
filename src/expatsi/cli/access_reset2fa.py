"""``expatsi access reset-2fa USERNAME``: remove a user's authenticator and recovery codes (a lost
phone), audited. Agency staff are then asked to set up a new one right after their password."""

from __future__ import annotations

import argparse
import getpass
import os
import socket
from typing import Any

from django.contrib.auth import get_user_model

from expatsi.access.actors import Actor
from expatsi.access.twofactor import second_factor_required
from expatsi.accounts.services import second_factor_reset
from expatsi.cli import Parser, add_command
from expatsi.rules.errors import NotFound


def _operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in a bare container
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def reset(args: argparse.Namespace) -> dict[str, Any]:
    user = get_user_model().objects.filter(username=args.username).first()
    if user is None:
        raise NotFound("unknown_user", f"no user named {args.username!r}", "username")
    actor = Actor(
        kind="system",
        user_id=None,
        label=f"expatsi access reset-2fa ({_operator()}@{socket.gethostname()})",
        via="cli",
    )
    removed = second_factor_reset(actor=actor, user=user, reason=args.reason or "")
    return {
        "username": user.get_username(),
        "authenticators_removed": removed["authenticators"],
        "recovery_codes_removed": removed["recovery_devices"] > 0,
        "must_enrol_again": second_factor_required(user),
    }


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub,
        "reset-2fa",
        reset,
        help="remove a user's two-step sign-in (authenticator and recovery codes) and lift a lock "
        "of the second step; agency staff then set up a new authenticator at their next sign-in",
    )
    p.add_argument("username", help="the user name of the account")
    p.add_argument("--reason", default="", help="recorded in the audit trail (e.g. 'lost phone')")
