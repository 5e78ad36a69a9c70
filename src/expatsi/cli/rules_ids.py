"""``expatsi rules check-id`` and ``assign-ssn``: identifier checks and SSN assignment.

An invalid number is an answer (exit 0, ``valid: false`` with the reason); only a question that
cannot be asked (an unknown ``--kind``, a bad province) is an error (exit 2).
"""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.cli import Parser, add_command
from expatsi.rules.dates import parse_date
from expatsi.rules.errors import RuleError
from expatsi.rules.identifiers import (
    DEFAULT_SSN_SCHEME,
    FOREIGNER_SSN,
    KINDS,
    LAYOUT_PROVENANCE,
    InMemorySequenceStore,
    Sex,
    check_id,
)


def _check_id(args: argparse.Namespace) -> dict[str, Any]:
    return check_id(args.number, args.kind).as_dict()


def _assign_ssn(args: argparse.Namespace) -> dict[str, Any]:
    birth = parse_date(args.birth, field="birth")
    sex_text = str(args.sex).strip().lower()
    if sex_text not in ("male", "female"):
        raise RuleError("invalid_sex", f"{args.sex!r} must be 'male' or 'female'", "sex")
    sex: Sex = "male" if sex_text == "male" else "female"
    number = DEFAULT_SSN_SCHEME.assign(
        province=args.province,
        nationality=args.nationality,
        birth=birth,
        sex=sex,
        store=InMemorySequenceStore(),
    )
    check = DEFAULT_SSN_SCHEME.validate(number)
    return {
        "number": number,
        "scheme": "convention",
        "status_of_rule": LAYOUT_PROVENANCE[FOREIGNER_SSN].status.value,
        "details": dict(check.details),
        "note": (
            "in-memory sequence store: every run starts again at the first sequence number, so this "
            "number is an example, not an assignment; the agency's database store assigns for real"
        ),
    }


def register(subparsers: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        subparsers,
        "check-id",
        _check_id,
        help="check an identifier (resident ID, permanent resident ID, USCC, SSN, passport)",
    )
    p.add_argument("number", help="the identifier as written; spaces are ignored")
    p.add_argument("--kind", help=f"check as this kind instead of detecting it: {', '.join(KINDS)}")

    p = add_command(
        subparsers,
        "assign-ssn",
        _assign_ssn,
        help="show the foreigner's social security number the convention scheme would assign",
    )
    p.add_argument("--province", required=True, help="2-digit province code, e.g. 11 Beijing")
    p.add_argument("--nationality", required=True, help="ISO 3166-1 alpha-3 code, e.g. DEU")
    p.add_argument("--birth", required=True, help="birth date YYYY-MM-DD")
    p.add_argument("--sex", required=True, help="male or female")
