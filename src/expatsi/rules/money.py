"""Money as integer fen, rates as integer parts per million, rounding that never touches a float.

Why integers: a bill of a million people must add up to the fen, on every machine, in SQL and in
NumPy alike. A rate in ppm (16% = 160_000) makes ``base × rate`` an exact integer product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from expatsi.rules.errors import RuleError

FEN_PER_YUAN = 100
PPM = 1_000_000

# ASCII digits only: full-width ``３００００`` is refused, not read as 30000 behind the user's back.
_YUAN_RE = re.compile(r"^(?P<sign>-)?(?P<int>\d{1,15})(?:\.(?P<frac>\d{1,2}))?$", re.ASCII)


def parse_yuan(text: str, *, field: str = "amount", allow_negative: bool = False) -> int:
    """Parse a yuan amount such as ``"1234.56"``, ``"1234.5"``, ``"1,234"`` or ``"1234"`` into fen.

    More than two decimals is an error rather than a silent rounding: an amount is a fact.
    """
    cleaned = str(text).strip().replace(",", "").replace("_", "")
    if cleaned.startswith("¥"):
        cleaned = cleaned[1:]
    m = _YUAN_RE.match(cleaned)
    if not m:
        raise RuleError(
            "invalid_amount",
            f"{text!r} is not an amount in yuan; use digits with at most two decimals, e.g. 1234.56",
            field,
        )
    if m["sign"] and not allow_negative:
        raise RuleError("negative_amount", f"{text!r} is negative; the amount must be ≥ 0", field)
    fen = int(m["int"]) * FEN_PER_YUAN + int((m["frac"] or "").ljust(2, "0"))
    return -fen if m["sign"] else fen


def format_yuan(fen: int, *, thousands: bool = False) -> str:
    """Format fen as a yuan string with exactly two decimals: ``123456`` → ``"1234.56"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    whole_text = f"{whole:,}" if thousands else str(whole)
    return f"{sign}{whole_text}.{cents:02d}"


def parse_rate(text: str | int | float, *, field: str = "rate", maximum: int = PPM) -> int:
    """Parse a rate into ppm exactly: ``"16%"``, ``"0.16"``, ``"9.8%"``, ``"0.05%"``.

    Floats are refused on purpose (TOML may hand us one): write rates as strings in data files.
    """
    if isinstance(text, float):
        raise RuleError(
            "invalid_rate", f"rate {text!r} must be written as a string, e.g. '16%'", field
        )
    raw = str(text).strip()
    percent = raw.endswith("%")
    try:
        if not raw.isascii():  # Decimal() would read full-width digits
            raise InvalidOperation
        value = Decimal(raw[:-1] if percent else raw)
    except InvalidOperation:
        raise RuleError(
            "invalid_rate", f"{text!r} is not a rate; write e.g. '16%' or '0.16'", field
        ) from None
    if percent:
        value /= 100
    ppm = value * PPM
    if ppm != ppm.to_integral_value() or not value.is_finite():
        raise RuleError("invalid_rate", f"{text!r} is finer than one part per million", field)
    if ppm < 0 or ppm > maximum:
        raise RuleError(
            "invalid_rate", f"{text!r} must lie between 0% and {format_rate(maximum)}", field
        )
    return int(ppm)


def format_rate(ppm: int) -> str:
    """``160_000`` → ``"16%"``, ``2_400`` → ``"0.24%"``: the shortest exact percentage."""
    value = (Decimal(ppm) / 10_000).normalize()
    text = format(value, "f")
    return f"{text}%"


RoundingMode = Literal["half_up", "up", "down"]


@dataclass(frozen=True, slots=True)
class Rounding:
    """A region's rounding rule: the unit (1 fen, 10 fen = 1 jiao) and the direction."""

    unit_fen: int = 1
    mode: RoundingMode = "half_up"

    def divide(self, numerator: int, denominator: int) -> int:
        """Round ``numerator / denominator`` (fen) to this rule's unit; sign-symmetric."""
        if denominator <= 0:
            raise ValueError("denominator must be positive")
        sign = -1 if numerator < 0 else 1
        n = abs(numerator)
        d = denominator * self.unit_fen
        if self.mode == "half_up":
            q = (2 * n + d) // (2 * d)
        elif self.mode == "up":
            q = -(-n // d)
        else:
            q = n // d
        return sign * q * self.unit_fen

    def describe(self) -> str:
        unit = {1: "fen", 10: "jiao", 100: "yuan"}.get(self.unit_fen, f"{self.unit_fen} fen")
        mode = {"half_up": "half up", "up": "up", "down": "down"}[self.mode]
        return f"rounded {mode} to the {unit}"


FEN_HALF_UP = Rounding()


def apply_rate(base_fen: int, rate_ppm: int, rounding: Rounding = FEN_HALF_UP) -> int:
    """``base × rate`` rounded by ``rounding``; for the default this is ``(b·r + 500_000) // 10⁶``."""
    return rounding.divide(base_fen * rate_ppm, PPM)
