"""``expatsi card keys init|rotate|list``: the card signing keys (PEM files, never the database)."""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.access import crypto, keystore
from expatsi.audit.keys import audit_key_init
from expatsi.cards import keys
from expatsi.cli import Parser, add_command


def _keys(args: argparse.Namespace) -> dict[str, Any]:
    if args.action == "init":
        keys.keys_init()
        audit_key_init()  # the audit checkpoint key lives beside the card keys
        crypto.keys_init()  # and so do the keys that encrypt personal data (`expatsi data keys`)
    elif args.action == "rotate":
        keys.keyring()  # the anchor must exist before a rotation
        keys.key_rotate()
    keys.reset_caches()
    ring = keys.keyring()
    store = keystore.store()
    return {
        "key_dir": str(keystore.key_dir()),
        "anchor": ring.anchor.kid.hex(),
        "current": ring.current.kid.hex(),
        "keys": [
            {"name": name, "kid": signer.kid.hex(), "current": signer.kid == ring.current.kid}
            for name in store.names()
            if name.startswith("sign-")
            for signer in [store.load(name)]
        ],
    }


def _render(result: dict[str, Any]) -> str:
    lines = [f"key directory: {result['key_dir']}", f"trust anchor: {result['anchor']}"]
    for key in result["keys"]:
        mark = "  (current: signs new codes)" if key["current"] else ""
        lines.append(f"  {key['name']}  kid {key['kid']}{mark}")
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        subparsers,
        "keys",
        _keys,
        help="card signing keys: init (create the anchor and a first key), rotate (a new key "
        "signs from now on; old ones keep verifying), list",
        render=_render,
    )
    p.add_argument("action", choices=("init", "rotate", "list"))
