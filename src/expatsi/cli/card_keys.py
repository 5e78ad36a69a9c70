"""``expatsi card keys init|rotate|list``: the card signing keys (PEM files, never the database)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from expatsi.cli import Parser, add_command


def _keys(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expatsi.settings")
    import django

    django.setup()
    from expatsi.cards import keys

    if args.action == "init":
        keys.keys_init()
        from expatsi.audit.keys import audit_key_init

        audit_key_init()  # the audit checkpoint key lives beside the card keys
        from expatsi.access.crypto import keys_init as data_keys_init

        data_keys_init()  # and so do the keys that encrypt personal data (`expatsi data keys`)
    elif args.action == "rotate":
        keys.keyring()  # the anchor must exist before a rotation
        keys.key_rotate()
    keys.reset_caches()
    ring = keys.keyring()
    store = keys.store()
    return {
        "key_dir": str(keys.key_dir()),
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
