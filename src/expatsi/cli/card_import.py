"""``expatsi card import-legacy FILE``: bring older physical work permits on file (CSV or XLSX).

Columns: permit_number, passport_country, passport_number, employer_uscc, category, position,
valid_from, valid_to (YYYY-MM-DD). All rows or none; ``--dry-run`` checks every row and writes
nothing; importing the same file again changes nothing. Exit status: 0 imported (or a clean dry
run), 1 the file was read but some rows were refused (each listed with its row and column), 2 bad
input (no such file, not CSV/XLSX).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from expatsi.access.actors import SYSTEM
from expatsi.cards.legacy_import import legacy_permits_import
from expatsi.cli import EXIT_FAILURE, Parser, add_command
from expatsi.insurance.imports import rows_from_file
from expatsi.rules.errors import RuleError


def _import_legacy(args: argparse.Namespace) -> dict[str, Any]:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RuleError("unreadable_file", f"cannot read {path}: {exc.strerror}", "file") from None
    rows = rows_from_file(path.name, data)
    report = legacy_permits_import(actor=SYSTEM, rows=rows, dry_run=args.dry_run)
    if not report.ok:
        args._exit_code = EXIT_FAILURE
    return report.as_dict()


def _render(result: dict[str, Any]) -> str:
    if result["errors"]:
        lines = [f"{len(result['errors'])} error(s); nothing was imported:"]
        lines += [
            f"  row {e['row']}" + (f", {e['column']}" if e["column"] else "") + f": {e['message']}"
            for e in result["errors"]
        ]
        return "\n".join(lines)
    verb = "would be imported (dry run)" if result["dry_run"] else "imported"
    return f"{result['imported']} {verb}, {result['already_imported']} already on file"


def register(subparsers: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        subparsers,
        "import-legacy",
        _import_legacy,
        help="import older physical work permits from a CSV or XLSX file (all rows or none)",
        render=_render,
    )
    p.add_argument("file", help="a .csv (UTF-8) or .xlsx file with a header row")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
