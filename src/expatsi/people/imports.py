"""Entry/exit records from the exit-entry authority, imported from CSV — all or nothing, idempotent.

Columns (header required, any order): ``passport_country,passport_number,date,direction,port``;
``direction`` is ``entry`` or ``exit``. Every row is checked before anything is written; one bad
row rejects the file with every row's errors (row numbers as in a spreadsheet: the header is row
1). A good file is written in one transaction, and importing it again adds nothing: a crossing is
identified by person, date, direction and port (a unique constraint holds it in the database too).

A passport is matched against every passport on file (current or earlier) of the people the
importing officer may see; a crossing of someone not on file is a row error, never a new person.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from expatsi import tabular
from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.access.crypto import search_hashes
from expatsi.audit.services import audit_record
from expatsi.people.models import Direction, EntryExit, Passport, Person
from expatsi.people.permissions import may_import_entry_exit
from expatsi.rules.dates import parse_date
from expatsi.rules.errors import Forbidden, RowError, RuleError

COLUMNS = ("passport_country", "passport_number", "date", "direction", "port")
MAX_ROWS = 200_000
MAX_ERRORS_SHOWN = 1000
_CHUNK = 500


class ImportRejectedError(RuleError):
    """The file has bad rows; nothing was written. ``errors`` lists them (the first 1000)."""

    def __init__(self, errors: list[RowError], total: int) -> None:
        shown = "" if total <= len(errors) else f" (the first {len(errors)} are listed)"
        super().__init__(
            "invalid_rows", f"{total} error(s) in the file, nothing was imported{shown}", "file"
        )
        self.errors = errors
        self.total = total


@dataclass(slots=True)
class ImportResult:
    batch: str
    rows: int
    created: int
    skipped: int  # rows that added nothing: already on file, or repeated within the file


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    country: str
    passport: str
    day: date
    direction: str
    port: str


def _parse(content: bytes) -> tuple[list[_Row], list[RowError]]:
    text = tabular.csv_text("entries.csv", content)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        problems = [RowError(1, c, "missing column") for c in missing]
        problems += [RowError(1, h or "(empty)", "unknown or repeated column") for h in unknown]
        if not problems:
            problems = [RowError(1, "", "a column is repeated")]
        expected = ",".join(COLUMNS)
        raise ImportRejectedError(
            [*problems, RowError(1, "", f"the header must be {expected}")], len(problems) + 1
        )
    at = {name: header.index(name) for name in COLUMNS}
    today = timezone.localdate()
    rows: list[_Row] = []
    errors: list[RowError] = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue  # blank line
        if len(rows) + len(errors) >= MAX_ROWS:
            raise RuleError("too_many_rows", f"at most {MAX_ROWS} rows per file; split it", "file")
        if len(values) != len(header):
            errors.append(
                RowError(number, "", f"has {len(values)} values; the header has {len(header)}")
            )
            continue
        cell = {name: values[i].strip() for name, i in at.items()}
        row_errors: list[RowError] = []
        parsed: dict[str, object] = {}
        for column, check in (
            ("passport_country", lambda v: validation.nationality(v, field="passport_country")),
            ("passport_number", lambda v: validation.passport_number(v)),
            ("date", lambda v: parse_date(v, field="date")),
            ("port", lambda v: validation.required_text(v, "port", max_length=100)),
        ):
            try:
                parsed[column] = check(cell[column])
            except RuleError as exc:
                row_errors.append(RowError(number, column, exc.message, exc.code, exc.params))
        direction = cell["direction"].lower()
        if direction not in Direction.values:
            row_errors.append(
                RowError(number, "direction", f"{cell['direction']!r}: use entry or exit")
            )
        day = parsed.get("date")
        if isinstance(day, date) and day > today:
            row_errors.append(RowError(number, "date", f"{day} is in the future"))
        if row_errors:
            errors.extend(row_errors)
            continue
        assert isinstance(day, date)
        rows.append(
            _Row(
                number,
                str(parsed["passport_country"]),
                str(parsed["passport_number"]),
                day,
                direction,
                str(parsed["port"]),
            )
        )
    if not rows and not errors:
        raise RuleError("empty_file", "the file has a header but no rows", "file")
    return rows, errors


def _people_by_passport(visible: QuerySet[Person], rows: list[_Row]) -> dict[tuple[str, str], int]:
    """Set-based, by keyed hash: one query per chunk of numbers, nothing decrypted."""
    number_of = {h: r.passport for r in rows for h in search_hashes(r.passport)}
    hashes = sorted(number_of)
    found: dict[tuple[str, str], int] = {}
    for i in range(0, len(hashes), _CHUNK):
        for country, digest, person_id in Passport.objects.filter(
            number_hash__in=hashes[i : i + _CHUNK], person__in=visible.values("pk")
        ).values_list("country", "number_hash", "person_id"):
            found[(country, number_of[digest])] = person_id
    return found


def entry_exit_import(*, actor: Actor, content: bytes, visible: QuerySet[Person]) -> ImportResult:
    """Import one border-authority CSV file (agency staff only). Raises :class:`ImportRejectedError`
    with every row's errors, having written nothing, if any row is bad.

    ``visible`` is the people the actor may see (insurance.selectors.persons_visible): who is in
    scope depends on employment, a context above this one, so the caller passes the set in."""
    if not may_import_entry_exit(actor):
        raise Forbidden("forbidden", "only agency staff import entry/exit records", "")
    batch = hashlib.sha256(content).hexdigest()
    rows, errors = _parse(content)
    people = _people_by_passport(visible, rows)
    for r in rows:
        if (r.country, r.passport) not in people:
            errors.append(
                RowError(
                    r.number,
                    "passport_number",
                    f"no person on file holds passport {r.country} {r.passport}",
                )
            )
    if errors:
        errors.sort(key=lambda e: e.row)
        raise ImportRejectedError(errors[:MAX_ERRORS_SHOWN], len(errors))

    wanted: dict[tuple[int, date, str, str], _Row] = {}
    for r in rows:
        wanted.setdefault((people[(r.country, r.passport)], r.day, r.direction, r.port), r)
    person_ids = sorted({k[0] for k in wanted})
    with transaction.atomic():
        existing: set[tuple[int, date, str, str]] = set()
        for i in range(0, len(person_ids), _CHUNK):
            existing.update(
                EntryExit.objects.filter(person_id__in=person_ids[i : i + _CHUNK]).values_list(
                    "person_id", "date", "direction", "port"
                )
            )
        new = [key for key in wanted if key not in existing]
        EntryExit.objects.bulk_create(
            [
                EntryExit(person_id=p, date=d, direction=di, port=port, import_batch=batch)
                for p, d, di, port in new
            ],
            batch_size=1000,
            ignore_conflicts=True,  # a concurrent import of the same rows: the constraint decides
        )
        audit_record(
            actor=actor,
            action="entry_exit.import",
            object_type="import",
            object_id=batch[:16],
            detail={"rows": len(rows), "created": len(new), "people": len(person_ids)},
        )
    return ImportResult(batch=batch, rows=len(rows), created=len(new), skipped=len(rows) - len(new))
