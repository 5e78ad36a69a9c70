"""``expatsi data reencrypt`` and ``expatsi data rehash``: bring every encrypted column onto the
newest data key, or every keyed hash onto the newest search key, after a rotation."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from expatsi.access import crypto
from expatsi.cli import Parser, add_command
from expatsi.rules.errors import RuleError


class Bar:
    """Progress per column on stderr (a line per update when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()

    def __call__(self, label: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        rate = done / max(time.monotonic() - self.started, 1e-9)
        text = (
            f"{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows ({rate:,.0f}/s)"
        )
        sys.stderr.write(("\r" + text) if self.tty else text + "\n")
        if self.tty and done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _run(args: argparse.Namespace, work: Callable[..., Any]) -> dict[str, Any]:
    if args.batch < 1:
        raise RuleError("invalid_batch", "the batch size must be 1 or more", "batch")
    try:
        columns = work(batch=args.batch, progress=None if args.quiet else Bar())
        listing = crypto.keys_listing()
    except crypto.DataKeyError as exc:
        raise RuleError("data_keys", str(exc), "EXPATSI_KEY_DIR") from None
    return {
        "columns": [
            {"column": f"{c.model}.{c.field}", "rows": c.rows, "changed": c.changed}
            for c in columns
        ],
        "changed": sum(c.changed for c in columns),
        "key_dir": listing["key_dir"],
        "data_key": listing["data_keys"][-1]["name"],
        "search_key": listing["search_keys"][-1]["name"],
    }


def reencrypt(args: argparse.Namespace) -> dict[str, Any]:
    return _run(args, crypto.reencrypt)


def rehash(args: argparse.Namespace) -> dict[str, Any]:
    return _run(args, crypto.rehash)


def register(subparsers: argparse._SubParsersAction[Parser]) -> None:
    for name, handler, help in (
        (
            "reencrypt",
            reencrypt,
            "re-encrypt every encrypted column with the newest data key (after `data keys "
            "rotate`); resumable, and a second run changes nothing",
        ),
        (
            "rehash",
            rehash,
            "recompute every keyed hash with the newest search key (after `data keys "
            "rotate-search`); resumable, and a second run changes nothing",
        ),
    ):
        p = add_command(subparsers, name, handler, help=help)
        p.add_argument("--batch", type=int, default=1000, help="rows per transaction (1000)")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")
