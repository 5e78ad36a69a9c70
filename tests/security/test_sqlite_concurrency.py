"""The default SQLite database under concurrent use: reads that write audit events, and two billing
runs of the same region and month, wait for each other instead of failing with "database is locked".

Real threads against a file database (the suite's own database is in memory), each in a fresh
process so that it runs with the settings a deployment gets from DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from expatsi.settings import database_from_url

ROOT = Path(__file__).resolve().parents[2]

SEED = """
import django
django.setup()
from datetime import date
from django.core.management import call_command
call_command("migrate", verbosity=0)
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment
from expatsi.people.models import Person
from expatsi.rules.identifiers import uscc_check_char
for i in range(16):
    body = f"9111000060003{i:04d}"
    e = Employer.objects.create(name=f"Employer {i}", uscc=body + uscc_check_char(body), region_code="110000")
    for j in range(2):
        p = Person.objects.create(family_name=f"P{i}-{j}", sex="male", birth_date=date(1980, 1, 1 + j),
                                  nationality=["DEU", "USA"][j])
        Employment.objects.create(person=p, employer=e, start_date=date(2024, 1, 1), position="x",
                                  contract_wage=(8000 + 4000 * j) * 100)
"""

READS = """
import json, threading
import django
django.setup()
from django.db import connection
from expatsi.access.actors import Actor
from expatsi.audit.models import AuditEvent
from expatsi.audit.services import audit_verify
from expatsi.people.models import Person
from expatsi.insurance.selectors import person_get

THREADS, EACH = 4, 40
pid = Person.objects.order_by("id").first().pk
connection.close()
barrier = threading.Barrier(THREADS)
errors = []

def client(n):
    actor = Actor("agency", None, f"officer-{n}")
    try:
        barrier.wait()
        for _ in range(EACH):
            try:
                person_get(actor=actor, person_id=pid)  # a read, audited
            except Exception as exc:
                errors.append(repr(exc))
    finally:
        connection.close()

threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({
    "errors": errors[:3], "failed": len(errors), "wanted": THREADS * EACH,
    "reads": AuditEvent.objects.filter(action="person.read").count(),
    "intact": audit_verify()[0],
}))
"""

BILLING = """
import json, threading
import django
django.setup()
from django.db import connection
from expatsi.billing.models import Bill, BillLine
from expatsi.access.actors import Actor
from expatsi.billing.services import billing_run
from expatsi.rules.dates import Month

connection.close()
barrier = threading.Barrier(2)
results, errors = [], []

def run(n):
    try:
        barrier.wait()
        r = billing_run(
            actor=Actor("system", None, f"run {n}"), region_code="110000", month=Month.parse("2025-03")
        )
        results.append([r.regular_bills, r.adjustment_bills, r.lines])
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({
    "errors": errors, "results": results,
    "bills": [list(b) for b in Bill.objects.values_list("employer_id", "kind")],
    "lines": BillLine.objects.count(),
}))
"""


def python(db: Path, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "DJANGO_SETTINGS_MODULE": "expatsi.settings",
        **env,
    }
    environment.pop("EXPATSI_REQUIRE_POSTGRES_TESTS", None)
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def outcome(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("sqlite") / "seeded.sqlite3"
    outcome_ok = python(db, SEED)
    assert outcome_ok.returncode == 0, outcome_ok.stderr[-3000:]
    return db


@pytest.fixture
def database(seeded: Path, tmp_path: Path) -> Path:
    db = tmp_path / "db.sqlite3"
    shutil.copy(seeded, db)
    return db


def test_sqlite_is_configured_to_wait_for_the_write_lock(tmp_path):
    config = database_from_url(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    options = config["OPTIONS"]
    assert isinstance(options, dict)
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 20
    assert "journal_mode=WAL" in options["init_command"]


def test_concurrent_audited_reads_never_answer_database_is_locked(database):
    result = outcome(python(database, READS))
    assert result["errors"] == [] and result["failed"] == 0
    assert result["reads"] == result["wanted"]
    assert result["intact"] is True  # one chain, no fork


def test_two_concurrent_billing_runs_of_one_month_both_finish_and_bill_once(database):
    result = outcome(python(database, BILLING, EXPATSI_BILLING_BATCH="1"))
    assert result["errors"] == []
    assert len(result["results"]) == 2
    bills = result["bills"]
    assert sorted(kind for _, kind in bills) == ["regular"] * 16
    assert len({employer for employer, _ in bills}) == 16
    assert sum(r[0] for r in result["results"]) == 16  # regular bills, written once between them
    assert sum(r[1] for r in result["results"]) == 0
    assert result["lines"] == sum(r[2] for r in result["results"]) == 16 * 2 * 5
