"""``expatsi rules contributions`` and ``expatsi rules policies``."""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.cli import Parser, add_command
from expatsi.rules.contributions import person_month
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.identifiers import country
from expatsi.rules.money import parse_rate, parse_yuan
from expatsi.rules.policy import policy_files, read_table
from expatsi.rules.regions import regions


def _nationality(text: str) -> str:
    return country(text.strip().upper()).alpha3


def contributions(args: argparse.Namespace) -> dict[str, Any]:
    month = Month.parse(args.month, field="month")
    wage = parse_yuan(args.wage, field="wage")
    rate = None
    if args.work_injury_rate is not None:
        rate = parse_rate(args.work_injury_rate, field="work_injury_rate")
    nationality = _nationality(args.nationality) if args.nationality else None
    if args.coverage_certificate and not nationality:
        raise RuleError(
            "certificate_without_nationality",
            "--coverage-certificate needs --nationality (the issuing country)",
            "nationality",
        )
    result = person_month(
        region_code=args.region,
        month=month,
        wage=wage,
        work_injury_rate=rate,
        nationality=nationality,
        coverage_certificate=args.coverage_certificate,
    )
    return result.as_dict()


def render_contributions(result: dict[str, Any]) -> str:
    head = (
        f"{result['region_name']} ({result['region']}) {result['month']}, wage {result['wage']} "
        f"— policy {result['policy']['period']} [{result['policy']['status']}]"
    )
    rows = [head, f"{'insurance':<14}{'base':>12}{'employer':>12}{'employee':>12}"]
    for line in result["lines"]:
        note = (
            " exempt"
            if line["exempt"]
            else (f" in {line['merged_into']}" if line["merged_into"] else "")
        )
        rows.append(
            f"{line['insurance']:<14}{line['base']:>12}{line['employer']:>12}{line['employee']:>12}{note}"
        )
    rows.append(
        f"{'total':<14}{'':>12}{result['employer_total']:>12}{result['employee_total']:>12}"
    )
    rows += [f"  {line['explanation']}" for line in result["lines"]]
    rows += [f"  convention: {c}" for c in result["conventions"]]
    return "\n".join(rows)


def policies(args: argparse.Namespace) -> dict[str, Any]:
    """Every policy table with its period, status and source; regions list each period."""
    tables: list[dict[str, Any]] = []
    by_file = {r.file: r for r in regions().values()}
    for name in policy_files():
        meta = read_table(name).table("meta")
        entry: dict[str, Any] = {
            "file": name,
            "title": meta.str("title"),
            "status": meta.str("status"),
            "source": meta.str("source"),
        }
        for key in ("effective_from", "effective_to"):
            if key in meta:
                entry[key] = str(meta.raw(key))
        if name in by_file:
            entry["periods"] = [
                {
                    "period": f"{p.span.first}…{p.span.last or ''}",
                    "status": p.status.value,
                    "source": p.provenance.source,
                }
                for p in by_file[name].periods
            ]
        tables.append(entry)
    return {"tables": tables}


def render_policies(result: dict[str, Any]) -> str:
    rows: list[str] = []
    for t in result["tables"]:
        span = (
            f" {t.get('effective_from', '')}…{t.get('effective_to', '')}"
            if "effective_from" in t
            else ""
        )
        rows.append(f"{t['file']}: {t['title']}{span} [{t['status']}]")
        rows.append(f"    source: {t['source']}")
        for p in t.get("periods", []):
            rows.append(f"    {p['period']} [{p['status']}] {p['source']}")
    return "\n".join(rows)


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub,
        "contributions",
        contributions,
        render=render_contributions,
        help="contributions for one person-month: five insurances, employer and employee",
    )
    p.add_argument("--region", required=True, help="6-digit region code, e.g. 110000 (Beijing)")
    p.add_argument("--month", required=True, help="contribution month, YYYY-MM")
    p.add_argument("--wage", required=True, help="monthly contribution wage in yuan, e.g. 30000")
    p.add_argument(
        "--work-injury-rate", help="the employer's work-injury rate, e.g. 0.004 or 0.4%%"
    )
    p.add_argument("--nationality", help="ISO 3166-1 alpha-3 code, e.g. DEU")
    p.add_argument(
        "--coverage-certificate",
        action="store_true",
        help="a valid certificate of coverage from the home country is on file",
    )
    add_command(
        sub,
        "policies",
        policies,
        render=render_policies,
        help="every policy table with its period, status and source",
    )
