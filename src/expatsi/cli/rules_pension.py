"""``expatsi rules pension``: the monthly pension award (basic + individual-account pension)."""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.cli import Parser, add_command
from expatsi.cli.rules_retirement import parse_original_age, sources
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.money import format_yuan, parse_yuan
from expatsi.rules.pension import parse_age, pension_award
from expatsi.rules.retirement import statutory_retirement


def _age_text(months: int) -> str:
    years, rest = divmod(months, 12)
    return f"{years}y{rest}m" if rest else f"{years}y"


def _whole(text: str, field: str) -> int:
    if not (text.strip().isascii() and text.strip().isdigit()):  # not full-width digits
        raise RuleError("invalid_number", f"{text!r} is not a whole number ≥ 0", field)
    return int(text)


def pension(args: argparse.Namespace) -> dict[str, Any]:
    retirement_month: str | None = None
    if args.age is not None:
        if args.birth is not None or args.sex is not None:
            raise RuleError(
                "age_and_birth", "give either --age or --birth with --sex, not both", "age"
            )
        age = parse_age(args.age)
        if args.year is None:
            raise RuleError("year_required", "--age needs --year (the year of retirement)", "year")
        year = _whole(args.year, "year")
    else:
        if args.birth is None or args.sex is None:
            raise RuleError(
                "age_required", "give --age (e.g. 60y3m) or --birth YYYY-MM with --sex", "age"
            )
        stat = statutory_retirement(
            Month.parse(args.birth, field="birth"), args.sex, parse_original_age(args.original_age)
        )
        age = stat.age_in_months
        retirement_month = str(stat.retirement_month)
        year = stat.retirement_month.year if args.year is None else _whole(args.year, "year")
    award = pension_award(
        region=args.region,
        year=year,
        contribution_months=_whole(args.months, "months"),
        index=args.index,
        balance_fen=parse_yuan(args.balance, field="balance"),
        age_months=age,
    )
    result: dict[str, Any] = {
        "region": award.region,
        "region_name": award.region_name,
        "year": award.year,
        "calc_base": format_yuan(award.calc_base),
        "index": str(award.index),
        "contribution_months": award.contribution_months,
        "min_contribution_months": award.min_contribution_months,
        "age": _age_text(award.age_months),
        "basic_pension": format_yuan(award.basic_pension),
        "balance": format_yuan(award.balance),
        "divisor": award.divisor.text,
        "account_pension": format_yuan(award.account_pension),
        "total": format_yuan(award.total),
        "steps": list(award.steps),
        "status": award.status.value,
        "sources": sources(award.provenance),
    }
    if retirement_month is not None:
        result["retirement_month"] = retirement_month
    return result


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub, "pension", pension, help="monthly pension award: basic pension + account pension"
    )
    p.add_argument("--region", required=True, help="6-digit region code, e.g. 110000 (Beijing)")
    p.add_argument("--year", help="calendar year of retirement (derived from --birth if omitted)")
    p.add_argument("--months", required=True, help="contribution months, e.g. 180")
    p.add_argument("--index", required=True, help="average contribution index, e.g. 1.0 or 1.2")
    p.add_argument("--balance", required=True, help="individual account balance in yuan")
    p.add_argument("--age", help="age at retirement, e.g. 60y3m or 60")
    p.add_argument("--birth", help="birth month YYYY-MM: derive the statutory age instead of --age")
    p.add_argument("--sex", help="male or female (with --birth)")
    p.add_argument("--original-age", help="60 (men); 50 or 55 (women) (with --birth)")
