"""A billing job split into partitions, billed by several real ``db_worker`` processes: one is
SIGKILLed mid-partition, another finishes the rest and retries the lost partition from its last
committed batch; the bills and lines are exactly those of a single-process run, the job's progress
is the sum over the partitions, and the audit trail names the run once.

Runs against the test run's database server: PostgreSQL when DATABASE_URL names one (each process
then gets a database of its own, copied from a seeded template), SQLite files otherwise."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.billing.test_kill_resume import QUERY, SEED

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("DATABASE_URL", "")
ON_PG = SERVER.startswith(("postgres://", "postgresql://"))
POOL = {"EXPATSI_BILLING_BATCH": "1", "EXPATSI_BILLING_PARTITIONS": "3"}
WORKER = (
    "from django.core.management import call_command; "
    "call_command('db_worker', '--batch', '--no-startup-delay', '--no-reload', verbosity=0)"
)
ENQUEUE = """
from expatsi.access.actors import SYSTEM
from expatsi.billing.tasks import billing_job_start
from expatsi.rules.dates import Month
print(billing_job_start(actor=SYSTEM, kind="run", region_code="110000", month=Month(2025, 8)))
"""
REPORT = """
import json, os
from expatsi.audit.models import AuditEvent
from expatsi.billing.models import BillingJob, BillingPartition, BillLine
from expatsi.billing.tasks import job_progress
job = BillingJob.objects.get(key=os.environ["POOL_JOB_KEY"])
p = job_progress(job)
[run] = p.current
parts = list(BillingPartition.objects.filter(run=run).order_by("number").values(
    "number", "status", "attempts", "employers_total", "employers_done", "people", "lines_written"))
print(json.dumps({
    "status": p.status, "percent": p.percent, "employers": [p.employers_done, p.employers_total],
    "people": p.people, "lines": p.lines_written, "lines_in_table": BillLine.objects.count(),
    "run_status": run.status, "partitions": parts,
    "audit": AuditEvent.objects.filter(action="billing.run", object_id=str(run.pk)).count(),
}))
"""


class Databases:
    """Throwaway databases on the test run's server: SQLite files, or PostgreSQL databases."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.made: list[str] = []

    def url(self, name: str) -> str:
        if not ON_PG:
            return f"sqlite:///{self.tmp / name}.sqlite3"
        parts = urlsplit(SERVER)
        return urlunsplit(parts._replace(path=f"/{self.prefix}_{name}"))

    @property
    def prefix(self) -> str:
        return f"pool_{os.getpid()}_{self.tmp.name[-8:].replace('-', '_')}".lower()

    def admin(self, sql: str) -> None:
        import psycopg

        parts = urlsplit(SERVER)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as c:
            c.execute(sql)

    def create_empty(self, name: str) -> None:
        if ON_PG:
            self.admin(f'CREATE DATABASE "{self.prefix}_{name}"')
            self.made.append(name)

    def copy(self, source: str, name: str) -> None:
        if ON_PG:
            self.admin(f'CREATE DATABASE "{self.prefix}_{name}" TEMPLATE "{self.prefix}_{source}"')
            self.made.append(name)
        else:
            shutil.copy(self.tmp / f"{source}.sqlite3", self.tmp / f"{name}.sqlite3")

    def state(self, name: str) -> list[tuple[Any, ...]]:
        if ON_PG:
            import psycopg

            with psycopg.connect(self.url(name)) as c:
                return [tuple(r) for r in c.execute(QUERY).fetchall()]
        import sqlite3

        with contextlib.closing(sqlite3.connect(self.tmp / f"{name}.sqlite3")) as c:
            return c.execute(QUERY).fetchall()

    def drop_all(self) -> None:
        for name in self.made:
            with contextlib.suppress(Exception):
                self.admin(f'DROP DATABASE IF EXISTS "{self.prefix}_{name}" WITH (FORCE)')


@pytest.fixture
def dbs(tmp_path: Path) -> Iterator[Databases]:
    found = Databases(tmp_path)
    yield found
    found.drop_all()


def run(
    url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": url, **POOL, **(env or {})}
    environment.pop("EXPATSI_REQUIRE_POSTGRES_TESTS", None)
    environment.pop("EXPATSI_TASKS_BACKEND", None)  # the database queue, as in production
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_pool_worker_killed_mid_partition_then_retried_equals_a_single_process_run(dbs):
    dbs.create_empty("seeded")
    seeded = dbs.url("seeded")
    ok(run(seeded, "manage.py", "migrate", "--noinput"))
    ok(run(seeded, "manage.py", "shell", "-c", SEED))
    dbs.copy("seeded", "pool")
    dbs.copy("seeded", "single")
    pool = dbs.url("pool")

    key = ok(run(pool, "manage.py", "shell", "-c", ENQUEUE))
    # Six employers, one per batch, in three partitions of two. The first worker takes the job
    # (it records the run and queues the partitions), bills partition 0, then is SIGKILLed as it
    # starts the second batch of partition 1: one employer of that partition is written.
    kill = ["-m", "tests.security.kill_at", "expatsi.billing.run:_write_batch", "4", "-c", WORKER]
    first = run(pool, *kill)
    assert first.returncode == -signal.SIGKILL, first.stderr[-3000:]
    partial = dbs.state("pool")
    assert 0 < len({row[0] for row in partial}) < 6
    lease: dict[str, str] = {}
    if not ON_PG:
        # SQLite has no lock that dies with the worker: a lost partition is known by its lease.
        lease = {"EXPATSI_BILLING_LEASE_SECONDS": "1"}
        time.sleep(1.2)
    # A second worker bills partition 2, then finds partition 1 lost and bills the rest of it.
    worker = ["manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"]
    ok(run(pool, *worker, env=lease))
    report = json.loads(
        ok(run(pool, "manage.py", "shell", "-c", REPORT, env={"POOL_JOB_KEY": key}))
    )

    ok(
        run(
            dbs.url("single"),
            "-m",
            "expatsi.cli",
            "billing",
            "run",
            "--region",
            "110000",
            "--month",
            "2025-08",
            "--quiet",
            env={"EXPATSI_BILLING_PARTITIONS": "1"},
        )
    )
    assert dbs.state("pool") == dbs.state("single")
    assert len({row[0] for row in dbs.state("single")}) == 6

    assert report["status"] == "done" and report["run_status"] == "done"
    assert report["percent"] == 100
    assert report["employers"] == [6, 6]
    assert report["people"] == 30
    assert report["lines"] == report["lines_in_table"] == len(dbs.state("single")) == 150
    parts = report["partitions"]
    assert [(p["number"], p["status"], p["employers_total"]) for p in parts] == [
        (0, "done", 2),
        (1, "done", 2),
        (2, "done", 2),
    ]
    assert [p["attempts"] for p in parts] == [1, 2, 1]  # partition 1 was retried once
    # The job's progress is the sum over the partitions: every batch counted once.
    assert sum(p["employers_done"] for p in parts) == 6
    assert sum(p["people"] for p in parts) == 30
    assert sum(p["lines_written"] for p in parts) == 150
    assert report["audit"] == 1  # the run is named once in the audit trail


def test_partitions_cover_every_employer_id_with_at_least_one_batch_each(settings):
    from expatsi.billing.run import plan_partitions

    settings.EXPATSI_BILLING_BATCH = 2
    employers = [3, 5, 8, 13, 21, 34, 55]
    # Seven employers in batches of two: at most four partitions, however many are asked for.
    plan = plan_partitions(employers, 10)
    assert plan == [(0, 4, 1), (5, 12, 2), (13, 33, 2), (34, 2**62, 2)]
    assert plan_partitions(employers, 2) == [(0, 12, 3), (13, 2**62, 4)]
    assert plan_partitions(employers, 1) == [(0, 2**62, 7)]
    assert plan_partitions([], 8) == []
    # Every id falls in exactly one range, including ids between and after the known employers.
    for employer in range(100):
        assert sum(lo <= employer <= hi for lo, hi, _ in plan) == 1
