"""The individual pension account (个人账户): a ledger of monthly credits, annual crediting
(interest), the balance on any date and the lump sum paid when a foreigner ends the relationship.

Why a ledger of months, not a running balance: interest depends on the month each credit arrived
(the "monthly accumulation" CONVENTION in ``policies/national/crediting_rates.toml``), and
corrections for an old month must land in that month. Interest is rounded half up to the fen
once per year, as an agency credits it on 31 December.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache

from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.money import FEN_HALF_UP, PPM, format_rate, format_yuan
from expatsi.rules.policy import Provenance, Status, Table, read_table

CREDITING_FILE = "national/crediting_rates.toml"
SUPPORTED_METHOD = "monthly_accumulation"
SUPPORTED_UNPUBLISHED = "last_published_rate"
MAX_RATE_PPM = 200_000  # 20%: a sanity bound, far above any rate ever announced

Credit = tuple[Month, int]
"""One ledger line: the contribution month and the amount in fen (negative for a correction)."""


@dataclass(frozen=True, slots=True)
class CreditingRate:
    year: int
    rate_ppm: int
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class CreditingRates:
    """Published rates by year (contiguous) and the crediting method's provenance."""

    rates: tuple[CreditingRate, ...]
    method: Provenance

    @property
    def first_year(self) -> int:
        return self.rates[0].year

    @property
    def last_year(self) -> int:
        return self.rates[-1].year

    def for_year(self, year: int, *, field: str = "credits") -> tuple[CreditingRate, bool]:
        """The rate for ``year`` and whether it is provisional (a later year's rate not yet out)."""
        if year < self.first_year:
            raise RuleError(
                "no_crediting_rate",
                f"no crediting rate for {year}: the earliest year supported is {self.first_year}",
                field,
            )
        if year > self.last_year:
            return self.rates[-1], True
        return self.rates[year - self.first_year], False


@cache
def crediting_rates() -> CreditingRates:
    """Load and validate the crediting rates once: contiguous years, rates within 0–20%."""
    return parse_crediting_rates(read_table(CREDITING_FILE))


def parse_crediting_rates(t: Table) -> CreditingRates:
    """Validate a loaded table; errors name the file and the field."""
    meta = t.table("meta").provenance()
    method = t.table("method")
    if method.str("name") != SUPPORTED_METHOD:
        raise method.error("name", f"only {SUPPORTED_METHOD!r} is implemented")
    if method.str("unpublished_year") != SUPPORTED_UNPUBLISHED:
        raise method.error("unpublished_year", f"only {SUPPORTED_UNPUBLISHED!r} is implemented")
    rows = t.tables("rate")
    if not rows:
        raise t.error("rate", "at least one year is required")
    rates: list[CreditingRate] = []
    for row in rows:
        year = row.int("year", lo=1990, hi=2200)
        rate: int = row.rate("rate")
        if not 0 < rate <= MAX_RATE_PPM:
            raise row.error(
                "rate", f"{format_rate(rate)} is outside 0%–{format_rate(MAX_RATE_PPM)}"
            )
        if rates and year != rates[-1].year + 1:
            raise row.error("year", f"{year} must follow {rates[-1].year} without gap or overlap")
        rates.append(CreditingRate(year, rate, row.provenance(meta)))
    return CreditingRates(tuple(rates), method.provenance(meta))


@dataclass(frozen=True, slots=True)
class YearRecord:
    """One calendar year of the account (amounts in fen).

    ``months_counted`` is k: 12 for a year closed on 31 December, else the whole months elapsed.
    ``status`` is the status of the rate used; ``rate_year`` the year it was published for.
    """

    year: int
    opening: int
    credits: int
    interest: int
    closing: int
    rate_ppm: int
    rate_year: int
    months_counted: int
    provisional: bool
    status: Status
    explanation: str

    def as_dict(self) -> dict[str, object]:
        """The year as shown by the CLI and the API (amounts as yuan strings)."""
        return {
            "year": self.year,
            "opening": format_yuan(self.opening),
            "credits": format_yuan(self.credits),
            "interest": format_yuan(self.interest),
            "closing": format_yuan(self.closing),
            "rate": format_rate(self.rate_ppm),
            "rate_year": self.rate_year,
            "months_counted": self.months_counted,
            "provisional": self.provisional,
            "status": self.status.value,
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class Statement:
    """The account on ``on``: balance in fen and the year-by-year history that produced it."""

    on: date
    balance: int
    years: tuple[YearRecord, ...]
    provenance: tuple[Provenance, ...]
    explanation: tuple[str, ...]
    excluded_credits: int = 0

    @property
    def status(self) -> Status:
        """Weakest of the rates used and of the crediting method (a CONVENTION)."""
        return Status.weakest([p.status for p in self.provenance])

    @property
    def provisional(self) -> bool:
        return any(y.provisional for y in self.years)


def whole_months_elapsed(on: date) -> int:
    """k for a closing date: months of its year fully elapsed on that day."""
    return on.month if on == Month.of(on).last_day() else on.month - 1


def _check_credits(credits: Iterable[Credit]) -> list[Credit]:
    checked: list[Credit] = []
    for i, item in enumerate(credits):
        if not (isinstance(item, tuple) and len(item) == 2):
            raise RuleError(
                "invalid_credit", f"credit #{i + 1} must be (month, amount_fen)", "credits"
            )
        month, amount = item
        if not isinstance(month, Month):
            raise RuleError("invalid_credit", f"credit #{i + 1}: month must be a Month", "credits")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise RuleError(
                "invalid_credit", f"credit #{i + 1}: amount must be whole fen (int)", "credits"
            )
        checked.append((month, amount))
    return checked


def statement(credits: Iterable[Credit], on: date) -> Statement:
    """Balance of the account at the end of day ``on``, year by year.

    Credits for months after ``on``'s month are not yet posted and are left out (counted in
    ``excluded_credits``). A year without a published rate uses the last published rate and is
    marked provisional.
    """
    rates = crediting_rates()
    items = _check_credits(credits)
    rates.for_year(on.year, field="on")  # a closing date before the first rate is refused
    last_month = Month.of(on)
    included = [c for c in items if c[0] <= last_month]
    excluded = len(items) - len(included)
    for month, _ in included:
        if month.year < rates.first_year:
            raise RuleError(
                "no_crediting_rate",
                f"credit for {month} is before {rates.first_year}, the earliest year supported",
                "credits",
            )
    by_year: dict[int, list[Credit]] = defaultdict(list)
    for c in included:
        by_year[c[0].year].append(c)
    years: list[YearRecord] = []
    used: list[Provenance] = []
    balance = 0
    first_year = min(by_year) if by_year else on.year + 1
    for year in range(first_year, on.year + 1):
        rate, provisional = rates.for_year(year)
        k = 12 if year < on.year else whole_months_elapsed(on)
        year_credits = by_year.get(year, [])
        opening = balance
        weighted = opening * k + sum(a * (k - m.month + 1) for m, a in year_credits if m.month <= k)
        interest = FEN_HALF_UP.divide(weighted * rate.rate_ppm, 12 * PPM)
        total = sum(a for _, a in year_credits)
        balance = opening + total + interest
        if rate.provenance not in used:
            used.append(rate.provenance)
        basis = (
            f"{rate.year}'s rate {format_rate(rate.rate_ppm)} (provisional: {year}'s not published)"
            if provisional
            else f"rate {format_rate(rate.rate_ppm)}"
        )
        when = "31 Dec" if k == 12 else f"{on.isoformat()} (k = {k} whole months)"
        text = (
            f"{year}: opening {format_yuan(opening)}; credits {format_yuan(total)}; interest to "
            f"{when} = round((opening × {k} + Σ credit × ({k} + 1 − month)) × {basis} / 12) = "
            f"round({format_yuan(weighted)} × {format_rate(rate.rate_ppm)} / 12) = "
            f"{format_yuan(interest)}; closing {format_yuan(balance)}."
        )
        years.append(
            YearRecord(
                year=year,
                opening=opening,
                credits=total,
                interest=interest,
                closing=balance,
                rate_ppm=rate.rate_ppm,
                rate_year=rate.year,
                months_counted=k,
                provisional=provisional,
                status=rate.provenance.status,
                explanation=text,
            )
        )
    steps = [y.explanation for y in years]
    steps.append(
        "Crediting (CONVENTION): the balance brought forward earns the full year's rate, a "
        "month-m credit earns rate × (13 − m)/12; interest credited on 31 December, rounded half "
        "up to the fen once a year."
    )
    if excluded:
        steps.append(
            f"{excluded} credit(s) for months after {last_month} are not yet in the balance."
        )
    return Statement(
        on=on,
        balance=balance,
        years=tuple(years),
        provenance=(*used, rates.method),
        explanation=tuple(steps),
        excluded_credits=excluded,
    )


def balance_on(credits: Iterable[Credit], on: date) -> int:
    """The balance in fen at the end of day ``on``."""
    return statement(credits, on).balance


LUMP_SUM_BASIS = (
    "MOHRSS Order No. 16 Art. 5: a foreigner who leaves China before pension age and applies in "
    "writing to end the social insurance relationship is paid the individual account balance in "
    "one lump sum"
)


@dataclass(frozen=True, slots=True)
class LumpSum:
    """The one-off payment of the account balance (Order No. 16 Art. 5); ``amount`` in fen."""

    amount: int
    closing_date: date
    statement: Statement
    basis: str
    explanation: tuple[str, ...]

    @property
    def status(self) -> Status:
        return self.statement.status

    @property
    def provisional(self) -> bool:
        return self.statement.provisional


def lump_sum(credits: Iterable[Credit], closing_date: date) -> LumpSum:
    """The lump sum on termination = the account balance on ``closing_date``, interest included."""
    st = statement(credits, closing_date)
    steps = (
        *st.explanation,
        f"Lump sum = balance on {closing_date.isoformat()} = {format_yuan(st.balance)} "
        f"({LUMP_SUM_BASIS}).",
    )
    return LumpSum(st.balance, closing_date, st, LUMP_SUM_BASIS, steps)


def contribution_months(credits: Iterable[Credit]) -> int:
    """Distinct months whose credits net to more than zero: the months that count as paid."""
    net: dict[Month, int] = defaultdict(int)
    for month, amount in _check_credits(credits):
        net[month] += amount
    return sum(1 for total in net.values() if total > 0)
