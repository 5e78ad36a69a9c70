"""Late fees on unpaid premiums (SIL Art. 86) and the statutory fine ranges an agency may impose.

Why ranges, not amounts: the law gives the authority a bracket (1–3 times the arrears, 500–3,000
yuan …); the decision inside it is a person's. The rules give the bracket, its article and the
arithmetic, all from ``policies/national/penalties.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from typing import Literal

from expatsi.rules.errors import RuleError
from expatsi.rules.money import FEN_HALF_UP, PPM, format_rate, format_yuan
from expatsi.rules.policy import Provenance, Status, Table, read_table

PENALTIES_FILE = "national/penalties.toml"
FineType = Literal["multiple", "range", "per_person"]
_FINE_TYPES: tuple[FineType, ...] = ("multiple", "range", "per_person")


@dataclass(frozen=True, slots=True)
class FineRule:
    kind: str
    label: str
    article: str
    type: FineType
    of: str = ""
    min_multiple: int = 0
    max_multiple: int = 0
    min_amount: int = 0
    max_amount: int = 0
    per_person: int = 0
    cap: int = 0
    note: str = ""
    provenance: Provenance | None = None


@dataclass(frozen=True, slots=True)
class PenaltyRules:
    late_fee_ppm_per_day: int
    late_fee_article: str
    late_fee: Provenance
    day_count: Provenance
    fines: dict[str, FineRule]


def _fine_rule(row: Table, meta: Provenance) -> FineRule:
    type_ = row.str("type")
    if type_ not in _FINE_TYPES:
        raise row.error("type", f"{type_!r} is not one of {', '.join(_FINE_TYPES)}")
    rule = FineRule(
        kind=row.str("kind"),
        label=row.str("label"),
        article=row.str("article"),
        type=_FINE_TYPES[_FINE_TYPES.index(type_)],
        note=row.str("note", ""),
        provenance=row.provenance(meta),
    )
    if type_ == "multiple":
        lo = row.int("min_multiple", lo=0, hi=100)
        hi = row.int("max_multiple", lo=0, hi=100)
        if hi < lo:
            raise row.error("max_multiple", f"{hi} is below min_multiple {lo}")
        return replace(rule, of=row.str("of"), min_multiple=lo, max_multiple=hi)
    if type_ == "range":
        lo_fen: int = row.yuan("min_amount")
        hi_fen: int = row.yuan("max_amount")
        if hi_fen < lo_fen:
            raise row.error("max_amount", f"{format_yuan(hi_fen)} is below min_amount")
        return replace(rule, min_amount=lo_fen, max_amount=hi_fen)
    per: int = row.yuan("per_person")
    cap: int = row.yuan("cap")
    if per <= 0 or cap < per:
        raise row.error(
            "cap", f"cap {format_yuan(cap)} must be ≥ per_person {format_yuan(per)} > 0"
        )
    return replace(rule, per_person=per, cap=cap)


@cache
def penalty_rules() -> PenaltyRules:
    """Load and validate ``penalties.toml`` once."""
    return parse_penalty_rules(read_table(PENALTIES_FILE))


def parse_penalty_rules(t: Table) -> PenaltyRules:
    """Validate a loaded table; errors name the file and the field."""
    meta = t.table("meta").provenance()
    lf = t.table("late_fee")
    rate: int = lf.rate("rate_per_day")
    if not 0 < rate <= 10_000:
        raise lf.error("rate_per_day", f"{format_rate(rate)} is outside 0%–1% a day")
    days = lf.table("day_count")
    if days.str("method") != "day_after_due_to_paid_inclusive":
        raise days.error("method", "only 'day_after_due_to_paid_inclusive' is implemented")
    fines: dict[str, FineRule] = {}
    for row in t.tables("fine"):
        rule = _fine_rule(row, meta)
        if rule.kind in fines:
            raise row.error("kind", f"{rule.kind!r} appears twice")
        fines[rule.kind] = rule
    return PenaltyRules(
        late_fee_ppm_per_day=rate,
        late_fee_article=lf.str("article"),
        late_fee=lf.provenance(meta),
        day_count=days.provenance(meta),
        fines=fines,
    )


@dataclass(frozen=True, slots=True)
class LateFee:
    """A late fee: ``days`` overdue and ``fee_fen``, with the rate and the reasoning."""

    amount_fen: int
    due: date
    paid: date
    days: int
    rate_ppm_per_day: int
    fee_fen: int
    explanation: str
    provenance: tuple[Provenance, ...]

    @property
    def status(self) -> Status:
        return Status.weakest([p.status for p in self.provenance])


def late_fee(amount_fen: int, due: date, paid: date) -> LateFee:
    """Late fee on ``amount_fen`` of arrears due on ``due`` and paid on ``paid`` (SIL Art. 86).

    Days = ``(paid − due).days`` (the day after the due date to the payment date, both included —
    CONVENTION); nothing when paid on or before the due date. Rounded half up to the fen once.
    """
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
        raise RuleError("invalid_amount", "the arrears must be an amount ≥ 0", "amount")
    rules = penalty_rules()
    days = max((paid - due).days, 0)
    rate = rules.late_fee_ppm_per_day
    fee = FEN_HALF_UP.divide(amount_fen * rate * days, PPM)
    if days == 0:
        text = (
            f"Paid {paid.isoformat()}, on or before the due date {due.isoformat()}: "
            "no days overdue, no late fee."
        )
    else:
        text = (
            f"{days} days overdue (from {date.fromordinal(due.toordinal() + 1).isoformat()}, the "
            f"day after the due date, to {paid.isoformat()}, both included); late fee = "
            f"{format_yuan(amount_fen)} × {format_rate(rate)} × {days} = {format_yuan(fee)} "
            f"({rules.late_fee_article}; rounded half up to the fen)."
        )
    return LateFee(amount_fen, due, paid, days, rate, fee, text, (rules.late_fee, rules.day_count))


@dataclass(frozen=True, slots=True)
class FineRange:
    """The bracket a fine must fall in (fen); ``min_fen == max_fen`` for a fixed fine."""

    kind: str
    label: str
    article: str
    min_fen: int
    max_fen: int
    explanation: str
    note: str
    provenance: tuple[Provenance, ...]

    @property
    def status(self) -> Status:
        return Status.weakest([p.status for p in self.provenance])


def fine_kinds() -> tuple[str, ...]:
    return tuple(penalty_rules().fines)


def fine_range(
    kind: str, *, amount_fen: int | None = None, persons: int | None = None
) -> FineRange:
    """The statutory fine range for ``kind``.

    ``multiple`` kinds need ``amount_fen`` (premiums payable or arrears); ``per_person`` kinds
    need ``persons``; ``range`` kinds are per person and take ``persons`` (default 1).
    """
    rules = penalty_rules()
    rule = rules.fines.get(str(kind).strip())
    if rule is None:
        raise RuleError(
            "unknown_fine",
            f"{kind!r} is not a kind of fine; accepted: {', '.join(rules.fines)}",
            "kind",
        )
    if persons is not None and (
        isinstance(persons, bool) or not isinstance(persons, int) or persons < 1
    ):
        raise RuleError("invalid_persons", f"{persons!r} must be a whole number ≥ 1", "persons")
    if rule.type == "multiple":
        if amount_fen is None:
            raise RuleError(
                "amount_required",
                f"{kind} is a multiple of the {rule.of}: give the amount",
                "amount",
            )
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
            raise RuleError("invalid_amount", "the amount must be ≥ 0", "amount")
        if persons is not None:
            raise RuleError("unexpected_persons", f"{kind} does not depend on persons", "persons")
        lo, hi = amount_fen * rule.min_multiple, amount_fen * rule.max_multiple
        text = (
            f"{rule.min_multiple}–{rule.max_multiple} × the {rule.of} {format_yuan(amount_fen)} = "
            f"{format_yuan(lo)} to {format_yuan(hi)} ({rule.article})."
        )
    else:
        if amount_fen is not None:
            raise RuleError("unexpected_amount", f"{kind} does not depend on an amount", "amount")
        if rule.type == "per_person":
            if persons is None:
                raise RuleError(
                    "persons_required", f"{kind} is per person: give persons", "persons"
                )
            raw = rule.per_person * persons
            lo = hi = min(raw, rule.cap)
            capped = f", capped at {format_yuan(rule.cap)}" if raw > rule.cap else ""
            text = (
                f"{format_yuan(rule.per_person)} per person × {persons} = {format_yuan(raw)}"
                f"{capped}: {format_yuan(lo)} ({rule.article}; total at most "
                f"{format_yuan(rule.cap)})."
            )
        else:
            n = persons or 1
            lo, hi = rule.min_amount * n, rule.max_amount * n
            each = f" each, × {n} persons" if n > 1 else " per person"
            text = (
                f"{format_yuan(rule.min_amount)} to {format_yuan(rule.max_amount)}{each}: "
                f"{format_yuan(lo)} to {format_yuan(hi)} ({rule.article})."
            )
    if rule.note:
        text += f" {rule.note}."
    provenance = (rule.provenance,) if rule.provenance else ()
    return FineRange(rule.kind, rule.label, rule.article, lo, hi, text, rule.note, provenance)
