"""Bulk hire import: dry run lists every row's errors and writes nothing; all or nothing; idempotent."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import Workbook

from expatsi.access.actors import actor_for_user
from expatsi.access.crypto import search_hashes
from expatsi.audit.models import AuditEvent
from expatsi.employers.models import Employer
from expatsi.insurance.cardlink import CARD_KINDS
from expatsi.insurance.imports import (
    COLUMN_NAMES,
    hires_import,
    rows_from_csv,
    rows_from_file,
    rows_from_xlsx,
    template_csv,
    template_xlsx,
)
from expatsi.insurance.models import Employment, Registration
from expatsi.people.models import Document, Passport, Person
from expatsi.people.services import PersonData
from expatsi.rules.errors import NotFound, RuleError
from tests.factories import card_for
from tests.portal.factories import make_employer, make_hr

pytestmark = pytest.mark.django_db

ISSUED = date.today() - timedelta(days=5)


def row(n: int, **over: str) -> dict[str, str]:
    values = {
        "family_name": f"Person{n}",
        "given_names": "Test",
        "sex": "female" if n % 2 else "male",
        "birth_date": "1985-06-01",
        "nationality": "DEU",
        "passport_number": f"P{n:07d}",
        "permit_kind": "integrated_card",
        "permit_number": f"IC{n:08d}",
        "permit_issued_on": ISSUED.isoformat(),
        "permit_valid_to": (ISSUED + timedelta(days=700)).isoformat(),
        "residence_permit_number": f"E{n:08d}",
        "residence_permit_issued_on": ISSUED.isoformat(),
        "residence_permit_valid_to": (ISSUED + timedelta(days=700)).isoformat(),
        "start_date": ISSUED.isoformat(),
        "position": "Engineer",
        "monthly_wage": "25000",
    }
    values.update(over)
    return values


def counts() -> tuple[int, int, int, int, int]:
    return (
        Person.objects.count(),
        Passport.objects.count(),
        Document.objects.count(),
        Employment.objects.count(),
        Registration.objects.count(),
    )


def on_file(employer: Employer, rows: list[dict[str, str]]) -> None:
    """The cards the rows name, on file (one card number, issue #10): a hire names the card."""
    for r in rows:
        if r["permit_kind"] not in CARD_KINDS:
            continue
        card_for(
            employer,
            PersonData(
                family_name=r["family_name"],
                given_names=r["given_names"],
                sex=r["sex"],
                birth_date=date.fromisoformat(r["birth_date"]),
                nationality=r["nationality"],
                passport_number=r["passport_number"],
            ),
            r["permit_number"],
            issued=date.fromisoformat(r["permit_issued_on"]),
            valid_to=date.fromisoformat(r["permit_valid_to"]),
        )


@pytest.fixture
def setup():
    employer = make_employer()
    hr = make_hr(employer)
    return employer, actor_for_user(hr)


def test_dry_run_lists_every_row_error_and_writes_nothing(setup):
    employer, actor = setup
    rows = [
        row(1),
        row(2, nationality="XXX"),
        row(3, birth_date="31/12/1980", monthly_wage="abc", sex="x"),
        row(4, passport_number="!!"),
        row(5, permit_kind="press_card", permit_valid_to="2000-01-01"),  # a document it files
        row(6, family_name=""),
        row(
            7, passport_number="P0000001", family_name="Impostor"
        ),  # passport of row 1, other person
    ]
    on_file(employer, rows[:1])
    before, audit_before = counts(), AuditEvent.objects.count()
    report = hires_import(actor=actor, employer=employer, rows=rows, dry_run=True)
    assert not report.ok and not report.committed
    found = {(e.row, e.column, e.code) for e in report.errors}
    assert found == {
        (3, "nationality", "unknown_country"),
        (4, "birth_date", "invalid_date"),
        (4, "monthly_wage", "invalid_amount"),
        (4, "sex", "invalid_sex"),
        (5, "passport_number", "invalid_passport_number"),
        (6, "permit_valid_to", "end_before_start"),
        (7, "family_name", "required"),
        (8, "passport_number", "duplicate_in_file"),  # not "registered to another person"
    }
    assert next(r.status for r in report.results) == "registered"
    assert counts() == before
    assert AuditEvent.objects.count() == audit_before


def test_a_clean_dry_run_writes_nothing_and_reports_deadlines(setup):
    employer, actor = setup
    on_file(employer, [row(1), row(2)])
    before = counts()
    report = hires_import(actor=actor, employer=employer, rows=[row(1), row(2)], dry_run=True)
    assert report.ok and not report.committed
    assert report.new_count == 2
    assert all(r.deadline == ISSUED + timedelta(days=30) for r in report.results)
    assert counts() == before


def test_corrected_file_imports_all_rows(setup):
    employer, actor = setup
    rows = [row(n) for n in range(1, 6)]
    on_file(employer, rows)
    report = hires_import(actor=actor, employer=employer, rows=rows, dry_run=False)
    assert report.ok and report.committed
    assert report.new_count == 5
    assert counts() == (5, 5, 10, 5, 5)
    reg = Registration.objects.get(person__passports__number_hash__in=search_hashes("P0000003"))
    assert reg.deadline == ISSUED + timedelta(days=30)
    assert reg.employment.contract_wage == 2_500_000


def test_re_import_is_a_no_op(setup):
    employer, actor = setup
    rows = [row(n) for n in range(1, 4)]
    on_file(employer, [*rows, row(4)])
    hires_import(actor=actor, employer=employer, rows=rows, dry_run=False)
    before = counts()
    again = hires_import(actor=actor, employer=employer, rows=rows, dry_run=False)
    assert again.ok and again.committed
    assert again.new_count == 0 and again.already_count == 3
    assert counts() == before
    # and a file that adds one new hire to the old ones registers only that one
    more = hires_import(actor=actor, employer=employer, rows=[*rows, row(4)], dry_run=False)
    assert (more.new_count, more.already_count) == (1, 3)
    assert counts()[4] == 4


def test_the_same_hire_twice_in_one_file_is_registered_once(setup):
    employer, actor = setup
    on_file(employer, [row(1)])
    report = hires_import(actor=actor, employer=employer, rows=[row(1), row(1)], dry_run=False)
    assert report.ok
    assert [r.status for r in report.results] == ["registered", "already_registered"]
    assert Registration.objects.count() == 1


def test_one_bad_row_in_a_big_file_writes_nothing(setup):
    employer, actor = setup
    rows = [row(n) for n in range(1, 301)]
    rows[287] = row(288, start_date="not a date")
    on_file(employer, rows)
    before = counts()
    seen: list[tuple[int, int]] = []
    report = hires_import(
        actor=actor,
        employer=employer,
        rows=rows,
        dry_run=False,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert not report.committed
    assert [(e.row, e.column) for e in report.errors] == [(289, "start_date")]
    assert counts() == before
    assert seen[0] == (0, 300) and seen[-1] == (300, 300)


def test_missing_and_unknown_columns_are_reported_before_any_row(setup):
    employer, actor = setup
    bad = [
        {k: v for k, v in row(1).items() if k != "passport_number"} | {"pasport_number": "X1234567"}
    ]
    report = hires_import(actor=actor, employer=employer, rows=bad, dry_run=True)
    assert {(e.row, e.column, e.code) for e in report.errors} == {
        (1, "pasport_number", "unknown_column"),
        (1, "passport_number", "missing_column"),
    }
    assert (
        hires_import(actor=actor, employer=employer, rows=[], dry_run=True).errors[0].code
        == "no_rows"
    )


def test_only_the_employers_hr_may_import(setup):
    employer, _actor = setup
    other = make_employer(2, name="Other Ltd.")
    outsider = actor_for_user(make_hr(other, "outsider"))
    with pytest.raises(NotFound):
        hires_import(actor=outsider, employer=employer, rows=[row(1)], dry_run=True)
    assert counts() == (0, 0, 0, 0, 0)


def test_csv_and_xlsx_files_and_templates_round_trip(setup):
    employer, actor = setup
    csv_rows = rows_from_csv(template_csv().encode("utf-8-sig"))
    assert list(csv_rows[0]) == list(COLUMN_NAMES)
    xlsx_rows = rows_from_xlsx(template_xlsx())
    assert xlsx_rows == csv_rows
    # Excel stores dates as dates and numbers as numbers: both are read as text the import understands.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    data = row(9)
    sheet.append(list(data))
    sheet.append(
        [
            date.fromisoformat(v)
            if k.endswith(("_date", "_on", "_to")) and v
            else (25000.0 if k == "monthly_wage" else v)
            for k, v in data.items()
        ]
    )
    sheet.append([None] * len(data))  # trailing blank rows are ignored
    out = io.BytesIO()
    book.save(out)
    rows = rows_from_file("hires.XLSX", out.getvalue())
    assert rows == [data]
    on_file(employer, rows)
    assert hires_import(actor=actor, employer=employer, rows=rows, dry_run=False).new_count == 1
    with pytest.raises(RuleError) as err:
        rows_from_file("hires.pdf", b"%PDF")
    assert err.value.code == "unsupported_file"
    with pytest.raises(RuleError):
        rows_from_xlsx(b"not a workbook")
    semicolons = b"family_name;sex\nA;male\n"
    assert rows_from_csv(semicolons) == [{"family_name": "A", "sex": "male"}]
