"""The employee's retirement outlook: statutory retirement month and age, contribution months so
far and still needed, and a projected monthly pension, each figure explained and marked.

Why a projection and not an award: the award is fixed only at retirement, by figures nobody knows
yet (the calculation base of that year, every future month's base). The projection states its
assumptions as CONVENTION lines, so a reader sees which figures rest on them:

* contributions continue every month, at the pension credit of the latest month on record, from
  the current month (or the month after the latest credit) until the month before retirement;
* future interest on the account is not counted (the projected balance is a floor);
* the average contribution index is the mean pension base on record over the region's latest
  calculation base in ``pension_bases.toml`` (1.0 when either is missing);
* the latest calculation base on file stands for the year of retirement;
* a woman is in the category with original retirement age 55: the person record does not hold
  the category, and foreigners working in China hold professional or managerial posts.

Reads only; the rules do the arithmetic (:mod:`expatsi.rules.retirement`,
:mod:`expatsi.rules.pension`, :mod:`expatsi.rules.accounts`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.utils import timezone
from django.utils.translation import gettext as _

from expatsi.access.actors import Actor
from expatsi.billing import provenance, selectors
from expatsi.billing.payments import account_credits, contribution_months, last_closing
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment
from expatsi.people.models import Person
from expatsi.rules.accounts import statement
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.money import format_yuan
from expatsi.rules.pension import MAX_INDEX, PensionAward, PensionBase, pension_award, pension_bases
from expatsi.rules.policy import Status
from expatsi.rules.retirement import RetirementAge, minimum_rules, statutory_retirement

WOMAN_ORIGINAL_AGE = 55
INDEX_PLACES = Decimal("0.0001")
CONVENTION = Status.CONVENTION


@dataclass(frozen=True, slots=True)
class Line:
    """One figure of the outlook: what it is, its value, how it was reached, how sure it is."""

    key: str
    label: str
    text: str
    explanation: tuple[str, ...]
    status: Status
    amount: int | None = None  # fen, for money lines

    @property
    def status_text(self) -> str:
        return provenance.status_label(self.status.value)

    @property
    def value(self) -> str:
        """The value as the API shows it: yuan with two decimals for money, else the text."""
        return format_yuan(self.amount) if self.amount is not None else self.text


@dataclass(frozen=True, slots=True)
class Projection:
    """The outlook for one person on ``on``; ``award`` is None when no pension can be projected."""

    person_id: int
    on: date
    retirement: RetirementAge
    months_so_far: int
    months_still_needed: int
    future_months: int
    projected_months: int
    region: str
    index: Decimal
    projected_balance: int
    award: PensionAward | None
    note: str
    lines: tuple[Line, ...]

    @property
    def status(self) -> Status:
        return Status.weakest([line.status for line in self.lines])

    @property
    def status_text(self) -> str:
        return provenance.status_label(self.status.value)


def _age_words(months: int) -> str:
    years, rest = divmod(months, 12)
    if rest:
        return _("%(years)d years %(months)d months") % {"years": years, "months": rest}
    return _("%(years)d years") % {"years": years}


def _region(person_id: int) -> str:
    """The region of the latest employment (the one contributions are billed in)."""
    job = (
        Employment.objects.filter(person_id=person_id)
        .order_by("-start_date", "-pk")
        .values_list("employer_id", flat=True)
        .first()
    )
    if job is None:
        return ""
    return Employer.objects.filter(pk=job).values_list("region_code", flat=True).first() or ""


def _latest_base(region: str) -> PensionBase | None:
    found = [b for (r, _y), b in pension_bases().bases.items() if r == region]
    return max(found, key=lambda b: b.year) if found else None


def _index(bases: list[int], calc: PensionBase | None) -> tuple[Decimal, str, Status]:
    if not bases or calc is None:
        return (
            Decimal("1.0"),
            "No pension base or no calculation base on record: index 1.0 (CONVENTION).",
            CONVENTION,
        )
    mean = Fraction(sum(bases), len(bases))
    exact = mean / calc.amount
    value = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        INDEX_PLACES, rounding=ROUND_HALF_UP
    )
    value = min(max(value, INDEX_PLACES), MAX_INDEX)
    mean_fen = round(mean)
    return (
        value,
        f"Index = mean pension base on record {format_yuan(mean_fen)} ({len(bases)} month(s)) / "
        f"calculation base {format_yuan(calc.amount)} ({calc.name} {calc.year}) = {value} "
        "(CONVENTION: rounded half up to 4 decimals, capped at 3).",
        CONVENTION,
    )


def projection(actor: Actor, on: date | None = None, person_id: int | None = None) -> Projection:
    """The outlook for the signed-in employee (or, for agency staff, a person they may see)."""
    pid = selectors.person_for(actor, person_id)
    person = Person.objects.get(pk=pid)
    day = on or timezone.localdate()
    woman = person.sex == "female"
    ret = statutory_retirement(
        Month.of(person.birth_date), person.sex, WOMAN_ORIGINAL_AGE if woman else None
    )
    credits = account_credits(pid)
    balance = statement(credits, day)
    so_far = contribution_months(pid)
    months_text: tuple[str, ...] = (
        "Months with a net positive pension credit on record, all employers and stays.",
    )
    closing = last_closing(pid)
    if closing is not None:
        months_text += (
            f"The account was paid out as a lump sum on {closing.closed_on.isoformat()}: its "
            f"months up to {closing.closed_month} no longer count (Order No. 16 Art. 5); this "
            "account began after them.",
        )
    minimum = ret.min_contribution_months
    still_needed = max(0, minimum - so_far)
    min_status = minimum_rules().provenance.status

    net: dict[Month, int] = defaultdict(int)
    for m, amount in credits:
        net[m] += amount
    current = Month.of(day)
    paid = sorted(m for m, v in net.items() if v > 0 and m <= current)
    last = paid[-1] if paid else None
    monthly = net[last] if last else 0
    start = max(current, last.plus(1)) if last else current
    future = max(0, ret.retirement_month.minus(start)) if last else 0
    projected = so_far + future
    projected_balance = balance.balance + future * monthly

    region = _region(pid)
    calc = _latest_base(region) if region else None
    bases = [c.pension_base for c in selectors.my_contributions(actor, person_id) if c.pension_base]
    index, index_text, index_status = _index(bases, calc)

    award: PensionAward | None = None
    note = ""
    if calc is None:
        note = _("No pension calculation base is on file for your region: no pension is projected.")
    elif projected < minimum:
        note = _(
            "At this pace the minimum contribution period is not reached by retirement: no monthly "
            "pension is projected. You may keep contributing after retirement age or pay up to "
            "the minimum."
        )
    else:
        try:
            award = pension_award(
                region=calc.region,
                year=calc.year,
                contribution_months=projected,
                index=index,
                balance_fen=projected_balance,
                age_months=ret.age_in_months,
            )
        except RuleError as exc:
            note = exc.message

    ret_steps = list(ret.explanation)
    ret_status = ret.status
    if woman:
        ret_steps.append(
            "Category assumed: women with original retirement age 55 (professional and "
            "managerial posts); the person record does not hold the category (CONVENTION)."
        )
        ret_status = Status.weakest([ret_status, CONVENTION])
    lines: list[Line] = [
        Line(
            "retirement",
            _("Statutory retirement"),
            _("%(month)s, at %(age)s")
            % {"month": ret.retirement_month, "age": _age_words(ret.age_in_months)},
            tuple(ret_steps),
            ret_status,
        ),
        Line(
            "months_so_far",
            _("Contribution months so far"),
            str(so_far),
            months_text,
            Status.CONFIRMED,
        ),
        Line(
            "minimum",
            _("Minimum contribution months"),
            str(minimum),
            (ret.explanation[-1],),
            min_status,
        ),
        Line(
            "still_needed",
            _("Months still needed to the minimum"),
            str(still_needed),
            (f"max(0, {minimum} − {so_far}) = {still_needed}.",),
            min_status,
        ),
        Line(
            "future_months",
            _("Months still to contribute before retirement (assumed)"),
            str(future),
            (
                f"From {start} to the month before {ret.retirement_month}: {future} months "
                "(CONVENTION: contributions continue every month until retirement)."
                if last
                else "No contribution on record: none projected (CONVENTION).",
            ),
            CONVENTION,
        ),
        Line(
            "projected_months",
            _("Contribution months at retirement (projected)"),
            str(projected),
            (f"{so_far} + {future} = {projected}.",),
            CONVENTION,
        ),
        Line(
            "index",
            _("Average contribution index"),
            str(index),
            (index_text,),
            index_status,
        ),
        Line(
            "balance",
            _("Individual account balance at retirement (projected)"),
            "",
            (
                f"Balance on {day.isoformat()} {format_yuan(balance.balance)} + {future} × monthly "
                f"credit {format_yuan(monthly)} = {format_yuan(projected_balance)} (CONVENTION: "
                "the latest month's credit continues; future interest not counted).",
            ),
            Status.weakest([balance.status, CONVENTION]),
            projected_balance,
        ),
    ]
    if award is not None and calc is not None:
        held = calc.year != ret.retirement_month.year
        base_status = (
            Status.weakest([calc.provenance.status, CONVENTION]) if held else calc.provenance.status
        )
        base_steps = [award.steps[0]]
        if held:
            base_steps.append(
                f"The {calc.year} base stands for {ret.retirement_month.year}, the year of "
                "retirement (CONVENTION: the latest base on file)."
            )
        lines.append(
            Line(
                "calc_base",
                _("Pension calculation base"),
                "",
                tuple(base_steps),
                base_status,
                award.calc_base,
            )
        )
        basic_status = Status.weakest(
            [base_status, pension_bases().formula.status, index_status, CONVENTION]
        )
        lines.append(
            Line(
                "basic",
                _("Basic pension (monthly)"),
                "",
                (
                    award.steps[1],
                    f"Contribution years = {projected} months / 12.",
                    award.steps[3],
                ),
                basic_status,
                award.basic_pension,
            )
        )
        divisor_status = Status.weakest([p.status for p in award.divisor.provenance])
        lines.append(
            Line(
                "divisor",
                _("Months divisor"),
                award.divisor.text,
                (award.divisor.explanation,),
                divisor_status,
            )
        )
        account_status = Status.weakest([lines[7].status, divisor_status])
        lines.append(
            Line(
                "account",
                _("Individual-account pension (monthly)"),
                "",
                (award.steps[5],),
                account_status,
                award.account_pension,
            )
        )
        lines.append(
            Line(
                "total",
                _("Projected monthly pension"),
                "",
                (award.steps[6],),
                Status.weakest([basic_status, account_status]),
                award.total,
            )
        )
    return Projection(
        person_id=pid,
        on=day,
        retirement=ret,
        months_so_far=so_far,
        months_still_needed=still_needed,
        future_months=future,
        projected_months=projected,
        region=region,
        index=index,
        projected_balance=projected_balance,
        award=award,
        note=note,
        lines=tuple(lines),
    )
