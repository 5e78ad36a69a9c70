"""``expatsi data keys init|rotate|rotate-search|list``: the keys that encrypt personal data at rest."""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.access import crypto
from expatsi.cli import Parser, add_command
from expatsi.rules.errors import RuleError


def _keys(args: argparse.Namespace) -> dict[str, Any]:
    try:
        created: list[str] = []
        if args.action == "init":
            created = crypto.keys_init()
        elif args.action == "rotate":
            created = [crypto.data_key_rotate()]
        elif args.action == "rotate-search":
            created = [crypto.search_key_rotate()]
        return {**crypto.keys_listing(), "created": created}
    except crypto.DataKeyError as exc:
        raise RuleError("data_keys", str(exc), "EXPATSI_KEY_DIR") from None


def _render(result: dict[str, Any]) -> str:
    lines = [f"key directory: {result['key_dir']}"]
    for kind, note in (
        ("data_keys", "encrypts new values"),
        ("search_keys", "hashes new values"),
    ):
        lines.append(kind.replace("_", " ") + ":")
        for key in result[kind]:
            mark = f"  (current: {note})" if key["current"] else ""
            lines.append(f"  {key['name']}{mark}")
    for name in result["created"]:
        lines.append(f"created {name}")
    created = result["created"]
    if any(n.startswith("data-") for n in created) and len(result["data_keys"]) > 1:
        lines.append("next: `expatsi data reencrypt`, then move the older data key files away")
    if any(n.startswith("search-") for n in created) and len(result["search_keys"]) > 1:
        lines.append("next: `expatsi data rehash`, then move the older search key file away")
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        subparsers,
        "keys",
        _keys,
        help="keys for personal data at rest: init (create the data and search keys if missing), "
        "rotate (a new data key encrypts from now on; older ones keep decrypting), rotate-search "
        "(a new search key; run `rehash` after), list",
        render=_render,
    )
    p.add_argument("action", choices=("init", "rotate", "rotate-search", "list"))
