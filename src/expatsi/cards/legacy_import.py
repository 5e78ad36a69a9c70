"""Bring older physical work permits (issued before the Integrated Card) on file from a sheet.

One code path for the dry run and the import, as for the bulk hire import: every row goes through
``services.legacy_permit_import`` in its own savepoint inside one transaction, so one bad row does
not hide the next one's errors; a dry run, or any row error, rolls everything back. Importing the
same file again is a no-op: a permit already on file for the same person with the same validity is
reported as "already imported".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from django.db import IntegrityError, transaction

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.access.crypto import search_hashes
from expatsi.cards import permissions, services
from expatsi.cards.models import Card
from expatsi.employers.models import Employer
from expatsi.insurance.imports import _parse_date
from expatsi.people.models import Person
from expatsi.rules.errors import Forbidden, RowError, RuleError

COLUMNS: tuple[str, ...] = (
    "permit_number",
    "passport_country",
    "passport_number",
    "employer_uscc",
    "category",
    "position",
    "valid_from",
    "valid_to",
)
REQUIRED = frozenset(COLUMNS)
MAX_ROWS = 5000
FIRST_DATA_ROW = 2  # the header is row 1, as a spreadsheet shows it
_FIELD_TO_COLUMN = {"person_id": "passport_number", "employer_id": "employer_uscc"}

RowStatus = Literal["imported", "already_imported", "error", "blank"]


@dataclass(frozen=True, slots=True)
class LegacyRow:
    row: int
    status: RowStatus
    permit_number: str = ""
    card_id: int | None = None


@dataclass(slots=True)
class LegacyReport:
    dry_run: bool
    committed: bool = False
    results: list[LegacyRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, status: RowStatus) -> int:
        return sum(1 for r in self.results if r.status == status)

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "committed": self.committed,
            "imported": self.count("imported"),
            "already_imported": self.count("already_imported"),
            "error_rows": len({e.row for e in self.errors}),
            "rows": [
                {"row": r.row, "status": r.status, "permit_number": r.permit_number}
                | ({"card_id": r.card_id} if r.card_id else {})
                for r in self.results
                if r.status != "blank"
            ],
            "errors": [
                {"row": e.row, "column": e.column, "code": e.code, "message": e.message}
                for e in self.errors
            ],
        }


def _person(country: str, number: str) -> Person | None:
    return (
        Person.objects.filter(
            passports__country=country, passports__number_hash__in=search_hashes(number)
        )
        .distinct()
        .first()
    )


def _parse(
    row: Mapping[str, str], number: int, errors: list[RowError]
) -> services.LegacyPermit | None:
    before = len(errors)

    def err(column: str, code: str, message: str) -> None:
        errors.append(RowError(number, column, message, code))

    def text(column: str) -> str:
        return (row.get(column) or "").strip()

    for column in COLUMNS:
        if not text(column):
            err(column, "required", f"{column} is required")
    if len(errors) > before:
        return None
    dates: dict[str, date] = {}
    for column in ("valid_from", "valid_to"):
        day = _parse_date(text(column))
        if day is None:
            err(column, "invalid_date", f"{text(column)!r} is not a date (YYYY-MM-DD)")
        else:
            dates[column] = day
    person: Person | None = None
    try:
        country = validation.nationality(text("passport_country"), field="passport_country")
        passport = validation.passport_number(text("passport_number"))
    except RuleError as exc:
        err(exc.field, exc.code, exc.message)
    else:
        person = _person(country, passport)
        if person is None:
            err("passport_number", "unknown_person", "no person on file holds this passport")
    employer = Employer.objects.filter(uscc=text("employer_uscc").upper()).first()
    if employer is None:
        err("employer_uscc", "unknown_employer", "no employer on file has this credit code")
    if len(errors) > before or person is None or employer is None:
        return None
    return services.LegacyPermit(
        permit_number=text("permit_number"),
        person=person,
        employer=employer,
        category=text("category").upper(),
        position=text("position"),
        valid_from=dates["valid_from"],
        valid_to=dates["valid_to"],
    )


def legacy_permits_import(
    *, actor: Actor, rows: Sequence[Mapping[str, str]], dry_run: bool
) -> LegacyReport:
    """Import every row's physical permit; all rows or none (see the module docstring)."""
    if not permissions.may_import_legacy_permits(actor):
        raise Forbidden("forbidden", "legacy permits are imported by agency staff", "")
    report = LegacyReport(dry_run=dry_run)
    if not rows:
        report.errors.append(RowError(1, "", "the file has no data rows", "no_rows"))
        return report
    if len(rows) > MAX_ROWS:
        raise RuleError(
            "too_many_rows", f"at most {MAX_ROWS} rows per file; split the file", "file"
        )
    header = set().union(*(r.keys() for r in rows))
    for name in sorted(h for h in header if h not in COLUMNS and h != "__extra__"):
        report.errors.append(RowError(1, name, f"unknown column {name!r}", "unknown_column"))
    for name in [c for c in COLUMNS if c not in header]:
        report.errors.append(RowError(1, name, f"the column {name!r} is missing", "missing_column"))
    if report.errors:
        return report
    with transaction.atomic():
        for index, row in enumerate(rows):
            number = index + FIRST_DATA_ROW
            if not any((v or "").strip() for v in row.values()):
                report.results.append(LegacyRow(number, "blank"))
                continue
            permit = _parse(row, number, report.errors)
            if permit is None:
                report.results.append(LegacyRow(number, "error"))
                continue
            existing = Card.objects.filter(
                legacy=True,
                person=permit.person,
                permit_number=permit.permit_number,
                valid_to=permit.valid_to,
            ).first()
            if existing is not None:
                report.results.append(
                    LegacyRow(number, "already_imported", permit.permit_number, existing.pk)
                )
                continue
            try:
                with transaction.atomic():
                    card = services.legacy_permit_import(actor=actor, permit=permit)
            except RuleError as exc:
                column = exc.field if exc.field in COLUMNS else _FIELD_TO_COLUMN.get(exc.field, "")
                report.errors.append(RowError(number, column, exc.message, exc.code))
                report.results.append(LegacyRow(number, "error", permit.permit_number))
                continue
            except IntegrityError:
                report.errors.append(
                    RowError(number, "", "the row clashes with data already on file", "conflict")
                )
                report.results.append(LegacyRow(number, "error", permit.permit_number))
                continue
            report.results.append(
                LegacyRow(number, "imported", permit.permit_number, None if dry_run else card.pk)
            )
        if dry_run or report.errors:
            transaction.set_rollback(True)
        else:
            report.committed = True
    return report
