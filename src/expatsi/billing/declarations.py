"""Base declarations: the monthly contribution wage of one employee for one contribution year.

A declaration is made for a contribution year (the region's policy period, July–June): whatever
month is given, it is filed under the first month of the period covering it, the key the billing
run reads. A correction adds a row (the latest counts); declaring the wage already on file writes
nothing, so an upload can be sent again safely. Without a declaration the run bills the contract
wage: :func:`declaration_views` shows that default with the base the rules engine makes of it.

The bulk upload (CSV or XLSX: ``passport_country,passport_number,period_start,wage``) checks every
row first; one bad row and nothing is written. A dry run only checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from django.db import transaction
from django.db.models import Q, QuerySet

from expatsi import spreadsheets
from expatsi.access.actors import Actor
from expatsi.access.crypto import search_hashes
from expatsi.audit.services import audit_record
from expatsi.billing import permissions
from expatsi.billing.models import BaseDeclaration
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment
from expatsi.people.models import Passport, Person
from expatsi.rules.contributions import BaseReason, clamp_base
from expatsi.rules.dates import Month
from expatsi.rules.errors import RowError, RuleError
from expatsi.rules.money import parse_yuan
from expatsi.rules.regions import INSURANCES, Period, region
from expatsi.tabular import rows_from_file

IMPORT_COLUMNS = ("passport_country", "passport_number", "period_start", "wage")
MAX_ROWS = 5000
FIRST_DATA_ROW = 2


def may_declare(actor: Actor, employer: Employer) -> None:
    """HR of the employer, or agency staff of its region; others do not see it at all."""
    permissions.check_declare(actor, employer)


def contribution_period(employer: Employer, month: Month) -> Period:
    """The policy period (contribution year) of the employer's region that covers ``month``."""
    try:
        return region(employer.region_code).period_for(month)
    except RuleError as exc:
        raise RuleError(exc.code, exc.message, "period_start") from None


def employments_in_period(employer: Employer, period: Period) -> QuerySet[Employment]:
    first = period.span.first.first_day()
    qs = Employment.objects.filter(employer=employer)
    if period.span.last is not None:
        qs = qs.filter(start_date__lte=period.span.last.last_day())
    return qs.filter(Q(end_date__isnull=True) | Q(end_date__gte=first))


def _contract_wages(
    employer: Employer, period: Period, person_ids: list[int] | None = None
) -> dict[int, int]:
    """The contract wage the run falls back to, per person: the employment on file for the
    period (the one covering its first month, else the earliest that starts within it). One
    query for every person of the list."""
    first = period.span.first.first_day()
    qs = employments_in_period(employer, period)
    if person_ids is not None:
        qs = qs.filter(person_id__in=person_ids)
    rows: dict[int, list[tuple[date, int]]] = {}
    for person_id, start, wage in qs.order_by("person_id", "start_date", "id").values_list(
        "person_id", "start_date", "contract_wage"
    ):
        rows.setdefault(person_id, []).append((start, wage))
    out: dict[int, int] = {}
    for person_id, found in rows.items():
        covering = [w for start, w in found if start <= first]
        out[person_id] = covering[-1] if covering else found[0][1]
    return out


def _contract_wage(employer: Employer, person_id: int, period: Period) -> int | None:
    return _contract_wages(employer, period, [person_id]).get(person_id)


@transaction.atomic
def declaration_set(
    *,
    actor: Actor,
    person: Person,
    employer: Employer,
    period_start: Month,
    wage: int,
    source: str = "portal",
) -> BaseDeclaration:
    """Declare (or correct) the base of ``person`` at ``employer`` for the contribution year
    covering ``period_start``. Declaring the wage already on file writes nothing."""
    may_declare(actor, employer)
    if wage < 0:
        raise RuleError("negative_wage", "the declared wage must be 0 or more", "wage")
    period = contribution_period(employer, period_start)
    if not employments_in_period(employer, period).filter(person=person).exists():
        raise RuleError(
            "not_employed",
            f"{person.full_name} is not employed by {employer.name} in the contribution year "
            f"{period.span.first}…{period.span.last or ''}",
            "person_id",
        )
    key = str(period.span.first)
    latest = (
        BaseDeclaration.objects.filter(person=person, employer=employer, period_start=key)
        .order_by("-id")
        .first()
    )
    if latest is not None and latest.wage == wage:
        return latest
    declaration = BaseDeclaration.objects.create(
        person=person,
        employer=employer,
        period_start=key,
        wage=wage,
        declared_by_id=actor.user_id,
        source=source[:10],
    )
    audit_record(
        actor=actor,
        action="declaration.set",
        object_type="base_declaration",
        object_id=declaration.pk,
        person_id=person.pk,
        detail={"employer": employer.pk, "period_start": key, "wage": wage},
    )
    return declaration


# --- what the run will use ------------------------------------------------------------------------


@dataclass(frozen=True)
class InsuranceBase:
    insurance: str
    base: int
    reason: BaseReason
    lower: int
    upper: int


@dataclass(frozen=True)
class DeclarationView:
    """The base of one employee for one contribution year, as the billing run will use it."""

    person: Person
    employer: Employer
    period: Period
    declared: int | None  # the latest declaration, if any
    contract_wage: int | None
    declared_at: str = ""
    bases: tuple[InsuranceBase, ...] = ()

    @property
    def period_start(self) -> str:
        return str(self.period.span.first)

    @property
    def period_end(self) -> str:
        return str(self.period.span.last or "")

    @property
    def wage(self) -> int:
        if self.declared is not None:
            return self.declared
        return self.contract_wage or 0

    @property
    def source(self) -> Literal["declared", "contract"]:
        return "declared" if self.declared is not None else "contract"

    @property
    def pension(self) -> InsuranceBase:
        return self.bases[0]

    @property
    def other_bases(self) -> list[InsuranceBase]:
        """Insurances whose base differs from the pension base (a city's own medical limits)."""
        return [b for b in self.bases[1:] if b.base != self.bases[0].base]


def _bases(period: Period, wage: int) -> tuple[InsuranceBase, ...]:
    out = []
    for name in INSURANCES:
        rule = period.rules[name]
        base, reason = clamp_base(wage, rule)
        out.append(InsuranceBase(name, base, reason, rule.base_lower, rule.base_upper))
    return tuple(out)


def declaration_view(
    *, actor: Actor, person: Person, employer: Employer, period_start: Month
) -> DeclarationView:
    may_declare(actor, employer)
    period = contribution_period(employer, period_start)
    return _view(person, employer, period, _latest(employer, period, [person.pk]))


def _latest(
    employer: Employer, period: Period, person_ids: list[int]
) -> dict[int, BaseDeclaration]:
    latest: dict[int, BaseDeclaration] = {}
    for d in BaseDeclaration.objects.filter(
        employer=employer, period_start=str(period.span.first), person_id__in=person_ids
    ).order_by("id"):
        latest[d.person_id] = d
    return latest


def _view(
    person: Person,
    employer: Employer,
    period: Period,
    latest: dict[int, BaseDeclaration],
    contracts: dict[int, int] | None = None,
) -> DeclarationView:
    found = latest.get(person.pk)
    contract = (
        contracts.get(person.pk)
        if contracts is not None
        else _contract_wage(employer, person.pk, period)
    )
    declared = found.wage if found else None
    wage = declared if declared is not None else (contract or 0)
    return DeclarationView(
        person=person,
        employer=employer,
        period=period,
        declared=declared,
        contract_wage=contract,
        declared_at=found.declared_at.isoformat() if found else "",
        bases=_bases(period, wage),
    )


def declaration_views(
    *, actor: Actor, employer: Employer, period_start: Month
) -> list[DeclarationView]:
    """Every employee of ``employer`` in the contribution year, with the base the run will use."""
    may_declare(actor, employer)
    period = contribution_period(employer, period_start)
    person_ids = sorted(
        set(employments_in_period(employer, period).values_list("person_id", flat=True))
    )
    people = Person.objects.filter(pk__in=person_ids).order_by("family_name", "given_names", "pk")
    latest = _latest(employer, period, person_ids)
    contracts = _contract_wages(employer, period, person_ids)
    return [_view(p, employer, period, latest, contracts) for p in people]


# --- bulk upload ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowResult:
    row: int
    status: Literal["declared", "unchanged"]
    person_id: int
    name: str
    passport: str
    period_start: str
    wage: int
    base: int
    reason: BaseReason


@dataclass
class DeclarationImport:
    dry_run: bool
    committed: bool = False
    results: list[RowResult] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def declared(self) -> int:
        return sum(1 for r in self.results if r.status == "declared")

    @property
    def unchanged(self) -> int:
        return sum(1 for r in self.results if r.status == "unchanged")


def template_csv() -> str:
    return spreadsheets.csv_text([IMPORT_COLUMNS, ["DEU", "C01X00T47", "2025-07", "28500.00"]])


def declarations_import(
    *, actor: Actor, employer: Employer, filename: str, data: bytes, dry_run: bool
) -> DeclarationImport:
    """Check every row; then, unless ``dry_run`` or any row failed, declare them all at once."""
    may_declare(actor, employer)
    report = DeclarationImport(dry_run=dry_run)
    rows = rows_from_file(filename, data)
    if not rows:
        raise RuleError("no_rows", "the file has no data rows", "file")
    if len(rows) > MAX_ROWS:
        raise RuleError("too_many_rows", f"at most {MAX_ROWS} rows in one file", "file")
    missing = [c for c in IMPORT_COLUMNS if c not in rows[0]]
    if missing:
        raise RuleError(
            "missing_column",
            f"the file needs the columns {', '.join(IMPORT_COLUMNS)}; missing: {', '.join(missing)}",
            missing[0],
        )
    parsed: list[tuple[int, Person, Month, int, str]] = []
    seen: dict[tuple[int, str], int] = {}
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        if not any(v for k, v in row.items() if k != "__extra__"):
            continue
        try:
            country = row["passport_country"].strip().upper()
            passport = row["passport_number"].replace(" ", "").upper()
            if not country:
                raise RuleError("required", "the passport country is required", "passport_country")
            if not passport:
                raise RuleError("required", "the passport number is required", "passport_number")
            found = (
                Passport.objects.filter(country=country, number_hash__in=search_hashes(passport))
                .select_related("person")
                .first()
            )
            if found is None:
                raise RuleError(
                    "unknown_person",
                    f"no employee with passport {country} {passport} on file",
                    "passport_number",
                )
            month = Month.parse(row["period_start"].strip(), field="period_start")
            period = contribution_period(employer, month)
            wage = parse_yuan(row["wage"], field="wage", allow_negative=True)
            if wage < 0:
                raise RuleError("negative_wage", "the declared wage must be 0 or more", "wage")
            person = found.person
            if not employments_in_period(employer, period).filter(person=person).exists():
                # Named by the passport the caller sent: the person may be another
                # employer's employee, whose name is not this caller's to see.
                raise RuleError(
                    "not_employed",
                    f"the holder of passport {country} {passport} is not employed by "
                    f"{employer.name} in {period.span.first}…{period.span.last or ''}",
                    "passport_number",
                )
            key = (person.pk, str(period.span.first))
            if key in seen:
                raise RuleError(
                    "duplicate_row",
                    f"the same employee and contribution year as row {seen[key]}",
                    "passport_number",
                )
            seen[key] = number
            parsed.append((number, person, period.span.first, wage, f"{country} {passport}"))
        except RuleError as exc:
            column = exc.field if exc.field in IMPORT_COLUMNS else ""
            report.errors.append(RowError(number, column, exc.message, exc.code))
    latest_by_person: dict[tuple[int, str], int] = {}
    for d in BaseDeclaration.objects.filter(
        employer=employer, person_id__in=[p.pk for _, p, _, _, _ in parsed]
    ).order_by("id"):
        latest_by_person[(d.person_id, d.period_start)] = d.wage
    for number, person, first, wage, passport in parsed:
        period = contribution_period(employer, first)
        base, reason = clamp_base(wage, period.rules["pension"])
        unchanged = latest_by_person.get((person.pk, str(first))) == wage
        report.results.append(
            RowResult(
                number,
                "unchanged" if unchanged else "declared",
                person.pk,
                person.full_name,
                passport,
                str(first),
                wage,
                base,
                reason,
            )
        )
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        for _number, person, first, wage, _passport in parsed:
            declaration_set(
                actor=actor,
                person=person,
                employer=employer,
                period_start=first,
                wage=wage,
                source="import",
            )
    report.committed = True
    return report
