"""A billing run killed with SIGKILL mid-way, then started again, ends exactly where an
uninterrupted run ends. Runs real processes against a file database."""

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = """
from datetime import date
from expatsi.employers.models import Employer, WorkInjuryRating
from expatsi.insurance.models import Employment
from expatsi.people.models import Person
from expatsi.rules.identifiers import uscc_check_char
for i in range(6):
    body = f"9111000060003{i:04d}"
    e = Employer.objects.create(name=f"Employer {i}", uscc=body + uscc_check_char(body), region_code="110000")
    for j in range(5):
        p = Person.objects.create(family_name=f"P{i}-{j}", sex="male", birth_date=date(1980, 1, 1 + j),
                                  nationality=["DEU", "USA", "JPN"][j % 3])
        Employment.objects.create(person=p, employer=e, start_date=date(2024, 1, 1), position="x",
                                  contract_wage=(6000 + 4000 * j) * 100)
"""
QUERY = """
SELECT b.number, b.kind, b.employer_total, b.employee_total, l.person_id, l.insurance, l.base,
       l.employer_amount, l.employee_amount, l.flags
FROM billing_bill b JOIN billing_billline l ON l.bill_id = b.id ORDER BY 1, 5, 6
"""


def run(
    db: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "EXPATSI_BILLING_BATCH": "1",
        **(env or {}),
    }
    environment.pop("EXPATSI_REQUIRE_POSTGRES_TESTS", None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


SHOWN = """
import json
from expatsi.billing.models import BillingRun
print(json.dumps([[r.pk, r.status, r.shown_status, r.resumable] for r in BillingRun.objects.order_by("pk")]))
"""
LEASE = {"EXPATSI_BILLING_LEASE_SECONDS": "1"}


def runs(db: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(
            "SELECT id, status, heartbeat_at IS NOT NULL, finished_at IS NOT NULL,"
            " employers_done FROM billing_billingrun ORDER BY id"
        ).fetchall()


def shown(db: Path, env: dict[str, str] | None = None) -> list[list[object]]:
    done = run(db, "manage.py", "shell", "-c", SHOWN, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def state(db: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(QUERY).fetchall()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_then_restart_equals_an_uninterrupted_run(tmp_path):
    seeded = tmp_path / "seeded.sqlite3"
    assert run(seeded, "manage.py", "migrate", "--noinput").returncode == 0
    done = run(seeded, "manage.py", "shell", "-c", SEED)
    assert done.returncode == 0, done.stderr
    killed, clean = tmp_path / "killed.sqlite3", tmp_path / "clean.sqlite3"
    shutil.copy(seeded, killed)
    shutil.copy(seeded, clean)
    cli = [
        "-m",
        "expatsi.cli",
        "billing",
        "run",
        "--region",
        "110000",
        "--month",
        "2025-08",
        "--quiet",
    ]
    # SIGKILL as the fourth batch starts (three whole batches written), with no hook in the code.
    kill = ["-m", "tests.security.kill_at", "expatsi.billing.run:_write_batch", "4"]
    first = run(killed, *kill, *cli)
    assert first.returncode == -signal.SIGKILL
    partial = state(killed)
    assert 0 < len({row[0] for row in partial}) < 6  # some employers billed, not all
    # The killed run's record still says running (its worker could not say otherwise), with a
    # heartbeat from its last batch. Within the lease it is shown as running; once the lease has
    # expired, as interrupted and resumable.
    [(run_id, status, beat, finished, done_so_far)] = runs(killed)
    assert (status, beat, finished) == ("running", 1, 0) and 0 < done_so_far < 6
    assert shown(killed) == [[run_id, "running", "running", False]]
    time.sleep(1.2)
    assert shown(killed, LEASE) == [[run_id, "running", "interrupted", True]]
    resumed = run(killed, *cli, env=LEASE)  # starting it again resumes it
    assert resumed.returncode == 0, resumed.stderr
    assert [r[:4] for r in runs(killed)] == [
        (run_id, "interrupted", 1, 1),  # recorded as interrupted when the run was started again
        (run_id + 1, "done", 1, 1),
    ]
    whole = run(clean, *cli)
    assert whole.returncode == 0, whole.stderr
    assert state(killed) == state(clean)
    assert len({row[0] for row in state(clean)}) == 6
    again = run(killed, *cli)  # and once more: nothing changes
    assert state(killed) == state(clean)
    assert again.returncode == 0
