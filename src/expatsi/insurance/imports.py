"""Bulk import of new hires from a CSV or Excel sheet: validate every row, then all or nothing.

The dry run and the real import are one code path: every row goes through ``hire_register`` (the
same validators as the one-hire form) inside one transaction, each row in its own savepoint so one
bad row does not hide the errors of the next. A dry run, or any row error, rolls the whole
transaction back; otherwise it commits. Re-importing the same file is a no-op: the same passport is
the same person, and a hire whose employment already has a live registration is reported as
"already registered" instead of being submitted again.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from expatsi import spreadsheets, tabular
from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.access.crypto import search_hashes
from expatsi.employers.models import Employer
from expatsi.insurance.cardlink import CARD_KINDS
from expatsi.insurance.models import Registration, RegistrationStatus
from expatsi.insurance.permissions import require_file_for
from expatsi.insurance.services import (
    HireData,
    HireWarning,
    hire_register,
    hire_warnings_for,
)
from expatsi.people.models import DocumentKind
from expatsi.people.services import PersonData
from expatsi.rules.dates import no_such_day
from expatsi.rules.errors import RowError, RuleError
from expatsi.rules.money import parse_yuan

MAX_ROWS = 5000
FIRST_DATA_ROW = 2  # row numbers as a spreadsheet shows them: the header is row 1


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    required: bool
    example: str


COLUMNS: tuple[Column, ...] = (
    Column("family_name", True, "MÜLLER"),
    Column("given_names", False, "Anna Maria"),
    Column("chinese_name", False, "安娜"),
    Column("sex", True, "female"),
    Column("birth_date", True, "1990-04-12"),
    Column("nationality", True, "DEU"),
    Column("passport_number", True, "C01X00T47"),
    Column("passport_country", False, ""),
    Column("email", False, "anna.mueller@example.com"),
    Column("permit_kind", False, "integrated_card"),
    # The person's card on file (card number, 18-digit permit number, or A + application number);
    # the dates are read only for a permanent resident ID card or a press card.
    Column("permit_number", True, "11260000001234"),
    Column("permit_issued_on", False, ""),
    Column("permit_valid_to", False, ""),
    Column("residence_permit_number", False, "E12345678"),
    Column("residence_permit_issued_on", False, "2026-11-20"),
    Column("residence_permit_valid_to", False, "2028-11-01"),
    Column("start_date", True, "2026-11-16"),
    Column("end_date", False, ""),
    Column("position", True, "Process engineer"),
    Column("monthly_wage", True, "28500.00"),
    # Overseas-assigned staff: the foreign company that seconded the employee (the domestic
    # employer enrols them); empty for an ordinary hire.
    Column("seconded_by", False, ""),
    Column("seconded_by_country", False, ""),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
PERMIT_KINDS = (
    DocumentKind.INTEGRATED_CARD,
    DocumentKind.WORK_PERMIT,
    DocumentKind.PRESS_CARD,
    DocumentKind.PERMANENT_RESIDENT_ID,
)
DATE_COLUMNS = frozenset(
    {
        "birth_date",
        "permit_issued_on",
        "permit_valid_to",
        "residence_permit_issued_on",
        "residence_permit_valid_to",
        "start_date",
        "end_date",
    }
)

# Service field names that are not column names.
_FIELD_TO_COLUMN = {
    "contract_wage": "monthly_wage",
    "kind": "permit_kind",
    "permit": "permit_number",
    "employment_id": "start_date",
    "residence_permit_valid_from": "residence_permit_issued_on",
    **{f"{k}_number": "permit_number" for k in PERMIT_KINDS},
    **{f"{k}_valid_to": "permit_valid_to" for k in PERMIT_KINDS},
    **{f"{k}_valid_from": "permit_issued_on" for k in PERMIT_KINDS},
}


def column_for_field(name: str) -> str:
    """The column a service's RuleError.field points at ('' when it concerns the whole row)."""
    if name in COLUMN_NAMES:
        return name
    return _FIELD_TO_COLUMN.get(name, "")


RowStatus = Literal["registered", "already_registered", "error", "blank"]


@dataclass(frozen=True, slots=True)
class RowResult:
    row: int
    status: RowStatus
    name: str = ""
    passport: str = ""
    registration_id: int | None = None
    deadline: date | None = None
    # A late hire is registered anyway; the report says what it brings (overdue days, months
    # owed back, late-fee exposure) for each such row.
    warnings: tuple[HireWarning, ...] = ()


@dataclass(slots=True)
class ImportReport:
    dry_run: bool
    committed: bool = False
    results: list[RowResult] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total(self) -> int:
        return sum(1 for r in self.results if r.status != "blank")

    @property
    def new_count(self) -> int:
        return sum(1 for r in self.results if r.status == "registered")

    @property
    def already_count(self) -> int:
        return sum(1 for r in self.results if r.status == "already_registered")

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})


# --- reading files ----------------------------------------------------------------------------


def rows_from_csv(data: bytes) -> list[dict[str, str]]:
    """Rows of a CSV file with a header row, in whatever encoding it was saved."""
    return tabular.rows_from_table(tabular.table_from_csv(data))


def rows_from_xlsx(data: bytes) -> list[dict[str, str]]:
    """Rows of the first sheet of an Excel workbook (.xlsx) with a header row."""
    return tabular.rows_from_table(tabular.table_from_xlsx(data))


rows_from_file = tabular.rows_from_file


def template_csv() -> str:
    return spreadsheets.csv_text([COLUMN_NAMES, [c.example for c in COLUMNS]])


def template_xlsx() -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "hires"
    spreadsheets.append(sheet, COLUMN_NAMES)
    spreadsheets.append(sheet, [c.example for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, col in enumerate(COLUMNS, start=1):
        sheet.cell(
            row=2, column=i
        ).number_format = "@"  # text: keeps passport numbers and dates as typed
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = max(
            14, len(col.name) + 2
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- one row ----------------------------------------------------------------------------------


def _parse_date(text: str) -> date | None:
    """YYYY-MM-DD, or a date and time as spreadsheets export them (the time is dropped)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _parse_row(row: Mapping[str, str], number: int, errors: list[RowError]) -> HireData | None:
    """Turn one row into HireData, recording every column error (not only the first)."""
    before = len(errors)

    def err(column: str, code: str, message: str) -> None:
        errors.append(RowError(number, column, message, code))

    if row.get("__extra__"):
        err("", "extra_cells", "the row has more cells than the header has columns")
    values = {name: (row.get(name) or "").strip() for name in COLUMN_NAMES}
    for col in COLUMNS:
        if col.required and not values[col.name]:
            err(col.name, "required", "this field is required")
    dates: dict[str, date | None] = {}
    for name in DATE_COLUMNS:
        text = values[name]
        if not text:
            dates[name] = None
            continue
        dates[name] = _parse_date(text)
        missing = no_such_day(text, field=name) if dates[name] is None else None
        if missing is not None:
            errors.append(RowError(number, name, missing.message, missing.code, missing.params))
        elif dates[name] is None:
            err(name, "invalid_date", f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2026-11-16")
    wage = 0
    if values["monthly_wage"]:
        try:
            wage = parse_yuan(values["monthly_wage"], field="monthly_wage")
        except RuleError as exc:
            err("monthly_wage", exc.code, exc.message)
    sex = values["sex"].lower()
    if sex in ("m", "f"):
        sex = {"m": "male", "f": "female"}[sex]
    if sex and sex not in ("male", "female"):
        err("sex", "invalid_sex", "sex must be male or female")
    kind = (values["permit_kind"] or DocumentKind.INTEGRATED_CARD).lower()
    if kind not in PERMIT_KINDS:
        err(
            "permit_kind",
            "invalid_permit_kind",
            f"permit_kind must be one of {', '.join(PERMIT_KINDS)}",
        )
    if kind in PERMIT_KINDS and kind not in CARD_KINDS and not values["permit_issued_on"]:
        err("permit_issued_on", "required", "this field is required")
    if len(errors) > before:
        return None
    birth, issued, start = dates["birth_date"], dates["permit_issued_on"], dates["start_date"]
    assert birth is not None
    assert start is not None
    return HireData(
        person=PersonData(
            family_name=values["family_name"],
            given_names=values["given_names"],
            sex=sex,
            birth_date=birth,
            nationality=values["nationality"],
            passport_number=values["passport_number"],
            passport_country=values["passport_country"],
            chinese_name=values["chinese_name"],
            email=values["email"],
        ),
        permit_kind=kind,
        permit_number=values["permit_number"],
        permit_issued_on=issued,
        permit_valid_to=dates["permit_valid_to"],
        residence_permit_number=values["residence_permit_number"],
        residence_permit_issued_on=dates["residence_permit_issued_on"],
        residence_permit_valid_to=dates["residence_permit_valid_to"],
        start_date=start,
        end_date=dates["end_date"],
        position=values["position"],
        contract_wage=wage,
        seconded_by=values["seconded_by"],
        seconded_by_country=values["seconded_by_country"],
    )


def _live_registration(employer: Employer, data: HireData) -> Registration | None:
    """The live registration of this passport holder's employment with ``employer`` on the start date."""
    try:
        number = validation.passport_number(data.person.passport_number)
        issuing = validation.nationality(data.person.passport_country or data.person.nationality)
    except RuleError:
        return None  # the service reports it
    reg = (
        Registration.objects.filter(
            employer=employer,
            person__passports__country=issuing,
            person__passports__number_hash__in=search_hashes(number),
            employment__start_date__lte=data.start_date,
        )
        .filter(Q(employment__end_date__isnull=True) | Q(employment__end_date__gte=data.start_date))
        .exclude(status=RegistrationStatus.REJECTED)
        .select_related("person")
        .first()
    )
    if reg is None:
        return None
    person = reg.person
    same_person = (
        person.family_name.casefold() == data.person.family_name.strip().casefold()
        and person.birth_date == data.person.birth_date
    )
    return reg if same_person else None  # another name on a known passport: the service says so


def _seen_before(
    seen: dict[tuple[str, str], tuple[int, str, date]], data: HireData, number: int
) -> RowError | None:
    """The error for a passport an earlier row of the file gave to someone else; None otherwise
    (the same hire twice is "already registered" the second time, as on a re-import)."""
    try:
        passport = validation.passport_number(data.person.passport_number)
        issuing = validation.nationality(data.person.passport_country or data.person.nationality)
    except RuleError:
        return None  # the service reports it
    holder = (data.person.family_name.strip().casefold(), data.person.birth_date)
    first = seen.setdefault((issuing, passport), (number, *holder))
    if first[0] == number or first[1:] == holder:
        return None
    return RowError(
        number,
        "passport_number",
        f"passport {passport} appears twice in this file (rows {first[0]} and {number}) "
        "with different holders: correct one of the rows",
        "duplicate_in_file",
        {"first": first[0], "row": number, "passport": passport},
    )


# --- the import -------------------------------------------------------------------------------


def hires_import(
    *,
    actor: Actor,
    employer: Employer,
    rows: Sequence[Mapping[str, str]],
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
    today: date | None = None,
) -> ImportReport:
    """Register every row's hire for ``employer``; all rows or none.

    ``dry_run``: validate everything exactly as the import would, then roll back. The report lists
    every row's errors (row number as in the sheet, column, code, message) and, for good rows,
    whether the hire is new or already registered.
    """
    require_file_for(actor, employer)
    today = today or timezone.localdate()
    report = ImportReport(dry_run=dry_run)
    if not rows:
        report.errors.append(RowError(1, "", "the file has no data rows", "no_rows"))
        return report
    if len(rows) > MAX_ROWS:
        raise RuleError(
            "too_many_rows", f"at most {MAX_ROWS} rows per file; split the file", "file"
        )
    header = set().union(*(r.keys() for r in rows))
    unknown = sorted(h for h in header if h not in COLUMN_NAMES and h != "__extra__")
    for name in unknown:
        report.errors.append(RowError(1, name, f"unknown column {name!r}", "unknown_column"))
    missing = [c.name for c in COLUMNS if c.required and c.name not in header]
    for name in missing:
        report.errors.append(RowError(1, name, f"the column {name!r} is missing", "missing_column"))
    if report.errors:
        return report
    total = len(rows)
    # passport → (first row, family name, birth date): a passport on two rows of one file is the
    # file's own mistake, not a clash with someone already on file
    seen: dict[tuple[str, str], tuple[int, str, date]] = {}
    with transaction.atomic():
        for index, row in enumerate(rows):
            number = index + FIRST_DATA_ROW
            if progress is not None and index % 100 == 0:
                progress(index, total)
            if not any((v or "").strip() for v in row.values()):
                report.results.append(RowResult(number, "blank"))
                continue
            data = _parse_row(row, number, report.errors)
            if data is None:
                report.results.append(RowResult(number, "error"))
                continue
            name = f"{data.person.family_name.upper()} {data.person.given_names}".strip()
            twice = _seen_before(seen, data, number)
            if twice is not None:
                report.errors.append(twice)
                report.results.append(RowResult(number, "error", name, data.person.passport_number))
                continue
            existing = _live_registration(employer, data)
            if existing is not None:
                report.results.append(
                    RowResult(
                        number,
                        "already_registered",
                        name,
                        data.person.passport_number,
                        existing.pk,
                        existing.deadline,
                    )
                )
                continue
            try:
                with transaction.atomic():
                    reg = hire_register(actor=actor, employer=employer, data=data)
            except RuleError as exc:
                report.errors.append(
                    RowError(number, column_for_field(exc.field), exc.message, exc.code, exc.params)
                )
                report.results.append(RowResult(number, "error", name, data.person.passport_number))
                continue
            except IntegrityError:
                report.errors.append(
                    RowError(number, "", "the row clashes with data already on file", "conflict")
                )
                report.results.append(RowResult(number, "error", name, data.person.passport_number))
                continue
            report.results.append(
                RowResult(
                    number,
                    "registered",
                    name,
                    data.person.passport_number,
                    None if dry_run else reg.pk,
                    reg.deadline,
                    tuple(hire_warnings_for(registration=reg, data=data, today=today)),
                )
            )
        if progress is not None:
            progress(total, total)
        if dry_run or report.errors:
            transaction.set_rollback(True)
        else:
            report.committed = True
    return report
