"""The monthly pension award: basic (pooled) pension plus individual-account pension.

Why exact fractions: the formula multiplies a base by an index, halves it, multiplies by years of
months/12 and 1%, and divides a balance by an interpolated divisor; any float on the way can move
a fen. Each part is computed as an exact ``Fraction`` and rounded half up to the fen once.
Formula: policy-facts.md 6.3; divisor: 6.2 (``policies/national/months_divisor.toml``); calculation
bases: ``policies/pension_bases.toml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from itertools import pairwise

from expatsi.rules.errors import RuleError
from expatsi.rules.money import FEN_HALF_UP, PPM, format_rate, format_yuan
from expatsi.rules.policy import Provenance, Status, Table, read_table
from expatsi.rules.retirement import min_contribution_months, minimum_rules

DIVISOR_FILE = "national/months_divisor.toml"
BASES_FILE = "pension_bases.toml"
MAX_INDEX = Decimal(3)  # contribution bases are capped at 300% of the average wage

_AGE_RE = re.compile(r"^\s*(\d{1,3})\s*(?:y\s*(?:(\d{1,2})\s*m)?)?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DivisorTable:
    """Months divisor by whole age, and the rounding of interpolated (fractional-age) values."""

    months: dict[int, int]
    decimals: int
    provenance: Provenance
    fractional: Provenance

    @property
    def ages(self) -> tuple[int, int]:
        return min(self.months), max(self.months)


@cache
def divisor_table() -> DivisorTable:
    """Load ``months_divisor.toml`` once: ages contiguous, months strictly decreasing."""
    return parse_divisor_table(read_table(DIVISOR_FILE))


def parse_divisor_table(t: Table) -> DivisorTable:
    """Validate a loaded table; errors name the file and the field."""
    meta = t.table("meta").provenance()
    raw = t.table("months")
    months: dict[int, int] = {}
    for key in list(raw.data):
        if not key.isdigit():
            raise raw.error(key, "must be a whole age in years")
        months[int(key)] = raw.int(key, lo=1, hi=600)
    if not months:
        raise t.error("months", "at least one age is required")
    ages = sorted(months)
    for prev, age in pairwise(ages):
        if age != prev + 1:
            raise raw.error(str(age), f"ages must be contiguous: gap after {prev}")
        if months[age] >= months[prev]:
            raise raw.error(str(age), f"{months[age]} must be below {months[prev]} for age {prev}")
    frac = t.table("fractional_age")
    if frac.str("method") != "linear":
        raise frac.error("method", "only 'linear' is implemented")
    # The header summarises the whole file (CONVENTION, because of interpolation); the table by
    # whole age carries its own, stronger status in [divisor].
    table = t.table("divisor").provenance(meta) if "divisor" in t else meta
    return DivisorTable(months, frac.int("decimals", lo=0, hi=4), table, frac.provenance(meta))


@dataclass(frozen=True, slots=True)
class PensionBase:
    region: str
    name: str
    year: int
    amount: int
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class PensionBases:
    bases: dict[tuple[str, int], PensionBase]
    accrual_ppm: int
    formula: Provenance


@cache
def pension_bases() -> PensionBases:
    """Load ``pension_bases.toml`` once: one row per (region, year), amounts within reason."""
    return parse_pension_bases(read_table(BASES_FILE))


def parse_pension_bases(t: Table) -> PensionBases:
    """Validate a loaded table; errors name the file and the field."""
    meta = t.table("meta").provenance()
    formula = t.table("formula")
    accrual: int = formula.rate("accrual_rate_per_year")
    if not 0 < accrual <= 50_000:
        raise formula.error("accrual_rate_per_year", f"{format_rate(accrual)} is outside 0%–5%")
    bases: dict[tuple[str, int], PensionBase] = {}
    for row in t.tables("base"):
        region = row.str("region")
        if not re.fullmatch(r"\d{6}", region):
            raise row.error("region", f"{region!r} must be a 6-digit region code")
        year = row.int("year", lo=1990, hi=2200)
        amount: int = row.yuan("amount")
        if not 100_000 <= amount <= 10_000_000:
            raise row.error("amount", f"{format_yuan(amount)} is outside 1000–100000 yuan a month")
        if (region, year) in bases:
            raise row.error("year", f"{region} {year} appears twice")
        bases[(region, year)] = PensionBase(
            region, row.str("name"), year, amount, row.provenance(meta)
        )
    return PensionBases(bases, accrual, formula.provenance(meta))


def calculation_base(region: str, year: int) -> PensionBase:
    """The pension calculation base (计发基数) for a region and calendar year of retirement."""
    bases = pension_bases()
    key = (str(region).strip(), year)
    if key in bases.bases:
        return bases.bases[key]
    known = ", ".join(f"{b.region} {b.name} {b.year}" for b in bases.bases.values())
    field = "year" if any(r == key[0] for r, _ in bases.bases) else "region"
    raise RuleError(
        "no_pension_base",
        f"no pension calculation base for region {region!r} in {year}; available: {known}",
        field,
    )


def parse_age(text: str, *, field: str = "age") -> int:
    """Parse an age such as ``60y3m``, ``60y`` or ``60`` into months."""
    m = _AGE_RE.match(str(text)) if str(text).isascii() else None
    if not m or (m[2] is not None and int(m[2]) > 11):
        raise RuleError(
            "invalid_age", f"{text!r} is not an age; use years and months, e.g. 60y3m or 60", field
        )
    return int(m[1]) * 12 + int(m[2] or 0)


def parse_index(text: str | Decimal, *, field: str = "index") -> Decimal:
    """An average contribution index as an exact decimal, ``0 < index ≤ 3``; floats refused."""
    if isinstance(text, float):
        raise RuleError(
            "invalid_index", f"index {text!r} must be a decimal string, e.g. '1.2'", field
        )
    try:
        if not isinstance(text, Decimal) and not str(text).isascii():
            raise InvalidOperation  # Decimal() would read full-width digits
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not 0 < value <= MAX_INDEX:
        raise RuleError(
            "invalid_index",
            f"{text!r} is not an average contribution index; use a decimal above 0 and at most "
            f"{MAX_INDEX}, e.g. 1.0",
            field,
        )
    return value


def _age_text(months: int) -> str:
    years, rest = divmod(months, 12)
    return f"{years}y{rest}m" if rest else f"{years}y"


def _fraction_text(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def _decimal_text(value: Fraction) -> str:
    """Exact decimal when it terminates (137.25), else four places marked ≈ (≈138.4167)."""
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den == 1:
        return format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return "≈" + format(Decimal(value.numerator) / Decimal(value.denominator), ".4f")


@dataclass(frozen=True, slots=True)
class Divisor:
    """The months divisor for an age, exact after its rounding (e.g. 1373/10)."""

    age_months: int
    value: Fraction
    explanation: str
    provenance: tuple[Provenance, ...]

    @property
    def text(self) -> str:
        """``"139"`` or ``"137.3"``."""
        return _decimal_text(self.value)


def months_divisor(age_months: int) -> Divisor:
    """Divisor at an age in months; between whole ages by linear interpolation (CONVENTION)."""
    table = divisor_table()
    lo, hi = table.ages
    years, rest = divmod(age_months, 12)
    if not lo * 12 <= age_months <= hi * 12:
        raise RuleError(
            "age_out_of_range",
            f"age {_age_text(age_months)} is outside the months-divisor table; "
            f"accepted: {lo}y to {hi}y",
            "age",
        )
    base = table.months[years]
    if rest == 0:
        text = f"Months divisor at {years}: {base} (国发〔2005〕38号 annex)."
        return Divisor(age_months, Fraction(base), text, (table.provenance,))
    nxt = table.months[years + 1]
    exact = base + Fraction(nxt - base) * rest / 12
    scale = 10**table.decimals
    scaled = exact * scale
    # Half up on a positive value: the same integer rounding as money, in units of 1/scale.
    rounded = Fraction(FEN_HALF_UP.divide(scaled.numerator, scaled.denominator), scale)
    text = (
        f"Months divisor at {_age_text(age_months)} = {base} + ({nxt} − {base}) × {rest}/12 = "
        f"{_decimal_text(exact)} → {_decimal_text(rounded)} (CONVENTION: linear interpolation, "
        f"rounded half up to {table.decimals} decimal(s))."
    )
    return Divisor(age_months, rounded, text, (table.provenance, table.fractional))


@dataclass(frozen=True, slots=True)
class PensionAward:
    """A monthly pension award; amounts in fen, each part rounded half up to the fen once."""

    region: str
    region_name: str
    year: int
    calc_base: int
    index: Decimal
    contribution_months: int
    min_contribution_months: int
    basic_pension: int
    balance: int
    age_months: int
    divisor: Divisor
    account_pension: int
    total: int
    provenance: tuple[Provenance, ...]
    steps: tuple[str, ...]

    @property
    def status(self) -> Status:
        return Status.weakest([p.status for p in self.provenance])


def pension_award(
    *,
    region: str,
    year: int,
    contribution_months: int,
    index: str | Decimal,
    balance_fen: int,
    age_months: int,
) -> PensionAward:
    """The monthly pension for someone retiring in calendar ``year`` at ``age_months``.

    ``year`` selects both the calculation base and the minimum contribution period. Fewer
    contribution months than that minimum is refused with a RuleError (code
    ``below_minimum_contribution``): there is no monthly pension to award, and the person may keep
    contributing or pay up to the minimum (Measures Art. 2).
    """
    if isinstance(contribution_months, bool) or not isinstance(contribution_months, int):
        raise RuleError("invalid_months", "contribution months must be a whole number", "months")
    if not 0 <= contribution_months <= 12 * 70:
        raise RuleError(
            "invalid_months", f"{contribution_months} is outside 0–{12 * 70} months", "months"
        )
    if isinstance(balance_fen, bool) or not isinstance(balance_fen, int) or balance_fen < 0:
        raise RuleError("invalid_amount", "the account balance must be ≥ 0 fen", "balance")
    idx = parse_index(index)
    minimum = min_contribution_months(year)
    if contribution_months < minimum:
        raise RuleError(
            "below_minimum_contribution",
            f"{contribution_months} contribution months are below the minimum of {minimum} months "
            f"for retiring in {year}; no monthly pension until the minimum is reached (the person "
            "may keep contributing or pay up to it)",
            "months",
        )
    base = calculation_base(region, year)
    bases = pension_bases()
    divisor = months_divisor(age_months)

    idx_fraction = Fraction(idx)
    own_wage = base.amount * idx_fraction
    years = Fraction(contribution_months, 12)
    basic_exact = (base.amount + own_wage) / 2 * years * Fraction(bases.accrual_ppm, PPM)
    basic = FEN_HALF_UP.divide(basic_exact.numerator, basic_exact.denominator)
    account_exact = balance_fen / divisor.value
    account = FEN_HALF_UP.divide(account_exact.numerator, account_exact.denominator)

    own_decimal = (Decimal(base.amount) * idx).scaleb(-2)
    cents = own_decimal.quantize(Decimal("0.01"))
    own_text = format(cents if cents == own_decimal else own_decimal.normalize(), "f")
    accrual = format_rate(bases.accrual_ppm)
    steps = (
        f"Pension calculation base ({base.name} {base.region}, {year}): {format_yuan(base.amount)} "
        f"[{base.provenance.status}].",
        f"Own indexed average monthly wage = {format_yuan(base.amount)} × index {idx} = "
        f"{own_text}.",
        f"Contribution years = {contribution_months} months / 12 = {_fraction_text(years)} "
        f"(minimum for {year}: {minimum} months).",
        f"Basic pension = ({format_yuan(base.amount)} + {own_text}) / 2 × "
        f"{_fraction_text(years)} × {accrual} = {format_yuan(basic)} (rounded half up to the fen).",
        divisor.explanation,
        f"Individual-account pension = balance {format_yuan(balance_fen)} / {divisor.text} = "
        f"{format_yuan(account)} (rounded half up to the fen).",
        f"Total = {format_yuan(basic)} + {format_yuan(account)} = {format_yuan(basic + account)}.",
    )
    return PensionAward(
        region=base.region,
        region_name=base.name,
        year=year,
        calc_base=base.amount,
        index=idx,
        contribution_months=contribution_months,
        min_contribution_months=minimum,
        basic_pension=basic,
        balance=balance_fen,
        age_months=age_months,
        divisor=divisor,
        account_pension=account,
        total=basic + account,
        provenance=(
            base.provenance,
            bases.formula,
            *divisor.provenance,
            minimum_rules().provenance,
        ),
        steps=steps,
    )
