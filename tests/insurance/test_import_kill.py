"""A bulk hire import killed with SIGKILL half-way through a row, then run again: every row
registered exactly once, nothing half-written. Real processes against a file database."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import signal
import sqlite3
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection

from tests.security.processes import cli, killed_at, migrated_sqlite, python, sqlite_url

ROWS = 12
KILL_IN_ROW = 5  # rows 1-4 registered, row 5 has its documents and employment but no
# registration yet, when the process dies
# Each row's person holds the card the row names (a hire records the card on file): people, their
# passports and cards are there before the import.
SEED = """
from datetime import date, timedelta
from expatsi.people.services import PersonData
from tests.factories import card_for
from tests.notify.factories import employer, hr_user
company = employer("110000", "Import Co.")
hr_user(company, "hr-import")
issued = date.today() - timedelta(days=5)
for n in range(1, {rows}):
    person = PersonData(
        family_name=f"Crash{n}", given_names="Test", sex="female" if n % 2 else "male",
        birth_date=date(1970 + n, 6, 1), nationality=["DEU", "USA", "JPN"][n % 3],
        passport_number=f"K{n:07d}",
    )
    card_for(company, person, f"IC{n:08d}", issued=issued)
""".replace("{rows}", str(ROWS + 1))
IMPORT = """
import json, sys
from pathlib import Path
from django.contrib.auth.models import User
from expatsi.access.actors import actor_for_user
from expatsi.employers.models import Employer
from expatsi.insurance.imports import hires_import, rows_from_file

path = Path(sys.argv[1])
report = hires_import(
    actor=actor_for_user(User.objects.get(username="hr-import")),
    employer=Employer.objects.get(name="Import Co."),
    rows=rows_from_file(path.name, path.read_bytes()),
    dry_run=False,
)
print(json.dumps({"committed": report.committed, "new": report.new_count,
                  "already": report.already_count, "errors": [str(e) for e in report.errors]}))
"""
TABLES = (
    "people_person",
    "people_passport",
    "people_document",
    "insurance_employment",
    "insurance_registration",
    "audit_auditevent",
)
STATE = """
SELECT p.family_name, pp.number, d.number, e.start_date, e.contract_wage, r.status, r.deadline
FROM insurance_registration r
JOIN people_person p ON p.id = r.person_id
JOIN people_passport pp ON pp.person_id = p.id
JOIN insurance_employment e ON e.id = r.employment_id
JOIN people_document d ON d.id = r.permit_id
ORDER BY pp.number
"""

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def sheet(path: Path) -> Path:
    issued = date.today() - timedelta(days=5)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "family_name",
            "given_names",
            "sex",
            "birth_date",
            "nationality",
            "passport_number",
            "permit_number",
            "permit_issued_on",
            "residence_permit_number",
            "residence_permit_issued_on",
            "start_date",
            "position",
            "monthly_wage",
        ]
    )
    for n in range(1, ROWS + 1):
        writer.writerow(
            [
                f"Crash{n}",
                "Test",
                "female" if n % 2 else "male",
                f"{1970 + n}-06-01",
                ["DEU", "USA", "JPN"][n % 3],
                f"K{n:07d}",
                f"IC{n:08d}",
                issued.isoformat(),
                f"E{n:08d}",
                issued.isoformat(),
                issued.isoformat(),
                "Engineer",
                f"{20000 + 1000 * n}.00",
            ]
        )
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def counts(db: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def state(db: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(STATE).fetchall()


def test_sigkill_mid_row_then_rerun_registers_every_row_exactly_once(tmp_path, tmp_path_factory):
    if connection.vendor != "sqlite":
        pytest.skip("a file SQLite database of its own: the SQLite leg runs it")
    db = migrated_sqlite(tmp_path_factory, tmp_path / "killed.sqlite3")
    url = sqlite_url(db)
    seeded = python(url, SEED)
    assert seeded.returncode == 0, seeded.stderr
    baseline = counts(db)
    csv_file = sheet(tmp_path / "hires.csv")

    first = killed_at(
        url, "expatsi.insurance.services:registration_submit", KILL_IN_ROW, IMPORT, str(csv_file)
    )
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert counts(db) == baseline  # all or nothing: not one person, document or audit event

    again = python(url, IMPORT, str(csv_file))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1]) == {
        "committed": True,
        "new": ROWS,
        "already": 0,
        "errors": [],
    }
    after = counts(db)
    # per row: the card's document and the residence permit, an employment, a registration; the
    # person and passport came with the card (SEED)
    per_row = {"people_person": 0, "people_passport": 0, "people_document": 2}
    for table in TABLES[:-1]:
        assert after[table] - baseline[table] == per_row.get(table, 1) * ROWS, table
    rows = state(db)
    assert len(rows) == ROWS and len({r[1] for r in rows}) == ROWS  # one registration per passport

    third = python(url, IMPORT, str(csv_file))
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout.splitlines()[-1])["already"] == ROWS
    assert counts(db) == after and state(db) == rows

    verified = cli(url, "audit", "verify")
    assert verified.returncode == 0, verified.stdout
