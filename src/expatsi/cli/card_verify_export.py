"""``expatsi card export-lists``: the verifier's three files, written from this installation's keys
and database — the server side of card_verify.py, kept apart because it needs Django and the
offline commands must not."""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.access.keystore import key_dir
from expatsi.cards import keys
from expatsi.cli import Parser, add_command
from expatsi.cli.card_verify import (
    ANCHOR_FILE,
    REVOCATIONS_FILE,
    TRUST_FILE,
    lists_arg,
    lists_dir,
    public_pem,
    summary,
    write,
)
from expatsi.credentials import trust


def _export(args: argparse.Namespace) -> dict[str, Any]:
    directory = lists_dir(args)
    ring = keys.keyring()
    trust_doc = keys.trust_list_document()
    revocations_doc = keys.revocation_list_document(fresh=True)
    anchor = ring.anchor.public_key()
    write(directory / ANCHOR_FILE, public_pem(anchor))
    write(directory / TRUST_FILE, trust_doc)
    write(directory / REVOCATIONS_FILE, revocations_doc)
    return summary(
        directory,
        trust.load_trust_list(trust_doc, anchor),
        trust.load_revocation_list(revocations_doc, anchor),
        source=str(key_dir()),
    )


def register(subparsers: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        subparsers,
        "export-lists",
        _export,
        help="write the trust list and revocation list from this installation's keys and database",
    )
    lists_arg(p)
