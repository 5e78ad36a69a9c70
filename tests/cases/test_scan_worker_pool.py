"""A compliance scan queued in partitions and checked by real ``db_worker`` processes: one is
SIGKILLed in the middle of a partition, another finishes the rest and goes on with the lost
partition from its last recorded rule. The findings and the scan's counts are exactly those of one
inline scan, and the audit trail names the scan once. Same databases as the billing pool test
(tests/billing/test_worker_pool.py): SQLite files, or PostgreSQL when DATABASE_URL names one."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from typing import Any

import pytest

from expatsi.cases.registry import registry
from tests.billing.test_worker_pool import ON_PG, WORKER, Databases, dbs, ok, run

__all__ = ["dbs"]  # the fixture, imported for this module's tests

SEED = """
from datetime import date
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment, Registration
from expatsi.people.models import Document, Person
from expatsi.billing.models import Bill, BillLine
for i in range(6):
    e = Employer.objects.create(name=f"Pool {i}", uscc=f"91310000MA1FL8X{i:02d}0", region_code="310000" if i % 2 else "110000")
    for j, registered in enumerate((False, True)):
        p = Person.objects.create(family_name=f"P{i}{j}", given_names="T", sex="male", birth_date=date(1985, 1, 1), nationality="USA")
        Document.objects.create(person=p, kind="integrated_card", number=f"D{i}{j}", issued_on=date(2025, 8, 20), valid_from=date(2025, 8, 20), valid_to=date(2028, 8, 19))
        emp = Employment.objects.create(person=p, employer=e, start_date=date(2025, 9, 1), position="Engineer", contract_wage=3_000_000)
        if registered:
            Registration.objects.create(person=p, employer=e, employment=emp, permit_issued_on=date(2025, 9, 1), deadline=date(2025, 9, 1), insurance_start=date(2025, 9, 1), status="accepted", registered_on=date(2025, 9, 1))
            b = Bill.objects.create(employer=e, region_code=e.region_code, month="2025-09", kind="regular", number=f"B{i}", policy_version="t", employer_total=100, employee_total=0, due_date=date(2025, 10, 15))
            BillLine.objects.create(bill=b, person=p, insurance=1, base=3_000_000, employer_rate=160_000, employee_rate=80_000, employer_amount=100, employee_amount=0, flags=0)
"""
ENQUEUE = """
from datetime import date
from expatsi.access.actors import SYSTEM
from expatsi.cases.tasks import compliance_scan_start
print(compliance_scan_start(actor=SYSTEM, as_of=date(2025, 11, 20)).pk)
"""
INLINE = """
import json
from datetime import date
from expatsi.access.actors import SYSTEM
from expatsi.cases.services import compliance_scan
print(json.dumps(compliance_scan(actor=SYSTEM, as_of=date(2025, 11, 20)).counts))
"""
REPORT = """
import json, os
from expatsi.audit.models import AuditEvent
from expatsi.cases.models import Scan
scan = Scan.objects.get(pk=int(os.environ["SCAN_ID"]))
print(json.dumps({
    "done": scan.finished_at is not None, "counts": scan.counts,
    "attempts": list(scan.partitions.order_by("number").values_list("attempts", flat=True)),
    "audit": AuditEvent.objects.filter(action="compliance.scan", object_id=str(scan.pk)).count(),
}))
"""
FINDINGS = """SELECT key, status, evidence_hash, amount_fen, resolved_on FROM cases_finding
ORDER BY key"""
EVENTS = "SELECT COUNT(*) FROM cases_caseevent"


def rows(dbs: Databases, name: str, sql: str) -> list[tuple[Any, ...]]:
    if ON_PG:
        import psycopg

        with psycopg.connect(dbs.url(name)) as c:
            return [tuple(r) for r in c.execute(sql).fetchall()]
    import sqlite3

    with contextlib.closing(sqlite3.connect(dbs.tmp / f"{name}.sqlite3")) as c:
        return c.execute(sql).fetchall()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_scan_worker_killed_mid_partition_then_retried_equals_an_inline_scan(dbs: Databases):
    env = {"EXPATSI_SCAN_PARTITIONS": "3", "EXPATSI_SCAN_LEASE_SECONDS": "1"}
    dbs.create_empty("seeded")
    seeded = dbs.url("seeded")
    ok(run(seeded, "manage.py", "migrate", "--noinput"))
    ok(run(seeded, "manage.py", "shell", "-c", SEED))
    dbs.copy("seeded", "pool")
    dbs.copy("seeded", "single")
    pool = dbs.url("pool")

    scan_id = ok(run(pool, "manage.py", "shell", "-c", ENQUEUE, env=env))
    # Six employers in three ranges of two, a partition per rule and range. The first worker
    # checks the first partitions one after another and is SIGKILLed in the middle of one.
    rules = len(registry().rules)
    kill = ["-m", "tests.security.kill_at", "expatsi.cases.scan:run_rule", str(rules + 3)]
    first = run(pool, *kill, "-c", WORKER, env=env)
    assert first.returncode == -signal.SIGKILL, first.stderr[-3000:]
    assert len(rows(dbs, "pool", FINDINGS)) > 0
    time.sleep(1.2)  # the lost partition's heartbeat is past the lease
    # A second worker checks partition 2, then finds partition 1 lost and finishes it.
    worker = ["manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"]
    ok(run(pool, *worker, env=env))
    report = json.loads(
        ok(run(pool, "manage.py", "shell", "-c", REPORT, env={**env, "SCAN_ID": scan_id}))
    )
    inline = json.loads(ok(run(dbs.url("single"), "manage.py", "shell", "-c", INLINE)))

    assert rows(dbs, "pool", FINDINGS) == rows(dbs, "single", FINDINGS)
    assert len(rows(dbs, "single", FINDINGS)) >= 12  # six never registered, six months unbilled…
    assert rows(dbs, "pool", EVENTS) == rows(dbs, "single", EVENTS)
    assert report["done"] and report["counts"] == inline
    # the partition it was killed in (the 11th) was retried once, every other worked once
    assert report["attempts"] == [2 if n == rules + 2 else 1 for n in range(3 * rules)]
    assert report["audit"] == 1  # the scan is named once in the audit trail
