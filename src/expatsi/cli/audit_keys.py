"""``expatsi audit keys init|rotate|list``: the key that signs audit checkpoints (a PEM file)."""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.access.keystore import key_dir
from expatsi.audit import keys
from expatsi.cli import Parser, add_command


def _keys(args: argparse.Namespace) -> dict[str, Any]:
    if args.action == "init":
        keys.audit_key_init()
    elif args.action == "rotate":
        keys.audit_key_rotate()
    listing = keys.audit_keys_listing()
    current = [k["kid"] for k in listing if k["current"]]
    return {
        "key_dir": str(key_dir()),
        "current": current[0] if current else None,
        "keys": listing,
    }


def _render(result: dict[str, Any]) -> str:
    lines = [f"key directory: {result['key_dir']}"]
    if not result["keys"]:
        lines.append("  no audit key: run `expatsi audit keys init`")
    for key in result["keys"]:
        mark = "  (current: signs new checkpoints)" if key["current"] else ""
        lines.append(f"  {key['name']}  kid {key['kid']}{mark}")
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        subparsers,
        "keys",
        _keys,
        help="audit checkpoint signing key: init (create it if missing), rotate (a new key signs "
        "from now on; old ones keep verifying), list",
        render=_render,
    )
    p.add_argument("action", choices=("init", "rotate", "list"))
