"""Compliance-scan benchmark on one PostgreSQL database: N employees with their employers,
employments, work permits, cards, registrations, entries and exits, declarations, certificates of
coverage and twelve months of bills (the real billing run, month after month), most bills paid.
A known number of anomalies is planted for every rule, and the scan must find exactly those.

Timed, in the same run: the ceiling — a plain ``SELECT COUNT(*)`` of every table the scan reads,
summed (PostgreSQL counts the large tables with two parallel workers: the machine's two cores);
the scan as the daily job runs it — queued, a partition per rule, worked by two real ``db_worker``
processes (``--workers``) from the enqueue to the scan's end — and again (idempotent: nothing new,
nothing changed, nothing resolved); then, the findings forgotten, the same two scans inline in
this one process. Run by bench/run.py in a fresh process.

    DATABASE_URL=postgresql://… python bench/compliance.py --people 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("EXPATSI_BILLING_BATCH", "2000")  # as bench/billing.py's run

from django.core.management import call_command
from django.db import connection, transaction

# Generates people, employers and employments by binary COPY (and sets up Django).
from billing import PER_EMPLOYER, db_workers, generate
from expatsi.access.actors import SYSTEM
from expatsi.billing.services import billing_run
from expatsi.cases.checks import CHECKS, Scope
from expatsi.cases.models import Scan
from expatsi.cases.permissions import regions_to_scan
from expatsi.cases.registry import registry
from expatsi.cases.services import compliance_scan, compliance_scan_queue
from expatsi.cases.tasks import scan_partition
from expatsi.rules.dates import Month
from expatsi.rules.regions import region

REGION = "110000"
MONTHS = [Month(2025, m) for m in range(1, 13)]
AS_OF = date(2026, 1, 20)  # after 2025-12's due date (15 January), before 2026-01's
START = "2025-01-01"  # employment and insurance start: the first billed month
# Agreement countries among the generated nationalities whose agreement covers 2025.
AGREEMENT = ("DEU", "KOR", "JPN", "CAN")
# Every table a rule or the storing of its findings reads: the ceiling counts each of them.
SCANNED = (
    "employers_employer",
    "people_person",
    "people_document",
    "people_entryexit",
    "cards_card",
    "insurance_employment",
    "insurance_registration",
    "insurance_coveragecertificate",
    "billing_basedeclaration",
    "billing_bill",
    "billing_billline",
    "billing_allocation",
    "cases_optout",
    "cases_finding",
)


def sql(statement: str, params: list[Any] | None = None) -> int:
    with connection.cursor() as c:
        c.execute(statement, params)
        return int(c.rowcount)


def one(statement: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as c:
        c.execute(statement, params)
        return c.fetchone()[0]


def log(message: str, t0: float) -> None:
    print(f"{message} in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)


def facts() -> None:
    """Everything but the bills, for every person; the anomalies that must exist before billing.

    A person's index ``i`` (id minus the first id) picks what is planted for them: ``i % 100`` 1
    unregistered, 7 card deregistered, 8 card expired, 4 left China, 9 base declared too low; the
    look-alikes that must not be found are 5 (a trip abroad, back in China), 6 (left less than
    60 days ago), 19 (a low declaration corrected later)."""
    p0 = one("SELECT MIN(id) FROM people_person")
    idx = f"(e.person_id - {int(p0)})"
    t0 = time.perf_counter()
    sql(f"UPDATE insurance_employment SET start_date = '{START}'")
    sql(
        "INSERT INTO people_document (person_id, kind, number, issued_on, valid_from, valid_to,"
        " authority, created_at) SELECT e.person_id, 'work_permit', 'WP' || e.person_id,"
        " '2024-12-01', '2024-12-01', '2027-11-30', '', now() FROM insurance_employment e"
    )
    sql(
        "INSERT INTO cards_card (person_id, employer_id, card_number, permit_number, category,"
        " position, valid_from, valid_to, status, legacy, photo_hash, deregistered_on,"
        " deregistration_reason, created_at, updated_at)"
        " SELECT e.person_id, e.employer_id, 'C' || e.person_id, 'WP' || e.person_id, 'A',"
        f" 'Engineer', '2024-12-01', CASE WHEN {idx} % 100 = 8 THEN DATE '2025-06-30'"
        " ELSE DATE '2027-11-30' END,"
        f" CASE {idx} % 100 WHEN 7 THEN 'deregistered' WHEN 8 THEN 'expired' ELSE 'active' END,"
        f" false, '', CASE WHEN {idx} % 100 = 7 THEN DATE '2025-09-10' END,"
        f" CASE WHEN {idx} % 100 = 7 THEN 'ended' ELSE '' END, now(), now()"
        " FROM insurance_employment e"
    )
    sql(
        "INSERT INTO insurance_registration (person_id, employer_id, employment_id, permit_id,"
        " permit_issued_on, deadline, insurance_start, status, submitted_at, decided_at,"
        " registered_on, rejection_reason)"
        f" SELECT e.person_id, e.employer_id, e.id, NULL, '2024-12-01', '2025-01-31', '{START}',"
        " 'accepted', now(), now(), '2025-01-10', '' FROM insurance_employment e"
        f" WHERE {idx} % 100 <> 1"
    )
    crossings = [
        ("'2024-11-20'", "'entry'", "TRUE"),
        ("'2025-06-15'", "'exit'", f"{idx} % 100 = 4"),
        ("'2025-03-01'", "'exit'", f"{idx} % 100 = 5"),
        ("'2025-03-20'", "'entry'", f"{idx} % 100 = 5"),
        ("'2025-12-10'", "'exit'", f"{idx} % 100 = 6"),
    ]
    for day, direction, where in crossings:
        sql(
            "INSERT INTO people_entryexit (person_id, date, direction, port, import_batch,"
            f" created_at) SELECT e.person_id, {day}, {direction}, 'PEK', 'bench', now()"
            f" FROM insurance_employment e WHERE {where}"
        )
    # Declarations of the 2025-07 contribution year for a tenth of the people (the billing run
    # uses them); the latest one counts.
    declarations = [
        ("GREATEST(e.contract_wage, 800000)", f"{idx} % 10 = 0 OR {idx} % 100 = 9"),
        ("500000", f"{idx} % 100 = 19"),
        ("500000", f"{idx} % 100 = 9"),
        ("800000", f"{idx} % 100 = 19"),
    ]
    for wage, where in declarations:
        sql(
            "INSERT INTO billing_basedeclaration (person_id, employer_id, period_start, wage,"
            f" declared_at, source) SELECT e.person_id, e.employer_id, '2025-07', {wage}, now(),"
            f" 'import' FROM insurance_employment e WHERE {where}"
        )
    # Certificates of coverage for half of the people of agreement countries: exempted lines.
    sql(
        "INSERT INTO insurance_coveragecertificate (person_id, number, country, valid_from,"
        " valid_to, created_at) SELECT p.id, 'CoC' || p.id, p.nationality, '2024-01-01',"
        f" '2029-12-31', now() FROM people_person p WHERE (p.id - {int(p0)}) % 2 = 0"
        f" AND p.nationality IN ({', '.join(repr(c) for c in AGREEMENT)})"
    )
    log("facts written", t0)


def bills() -> None:
    for month in MONTHS:
        t0 = time.perf_counter()
        billing_run(actor=SYSTEM, region_code=REGION, month=month)
        log(f"billed {month}", t0)


def plant_after_billing() -> None:
    """Payments for all bills but the planted unpaid ones, the planted unbilled months and
    certificates cut short."""
    p0 = int(one("SELECT MIN(id) FROM people_person"))
    e0 = int(one("SELECT MIN(id) FROM employers_employer"))
    t0 = time.perf_counter()
    sql(
        "INSERT INTO billing_payment (employer_id, amount, received_on, reference, source,"
        " external_id, recorded_by, recorded_at)"
        f" SELECT b.employer_id, CASE WHEN {partly(e0)} THEN (b.employer_total + b.employee_total)"
        " / 2 ELSE b.employer_total + b.employee_total END, b.due_date - 3, b.number, 'bank',"
        " 'bench-' || b.id, 'bench', now() FROM billing_bill b"
        f" WHERE NOT {unpaid(e0)} AND b.employer_total + b.employee_total > 0"
    )
    sql(
        "INSERT INTO billing_allocation (payment_id, bill_id, principal, late_fee, paid_on)"
        " SELECT p.id, b.id, p.amount, 0, p.received_on FROM billing_payment p"
        " JOIN billing_bill b ON p.external_id = 'bench-' || b.id"
    )
    # Months the billing run "missed": two people of every tenth employer lose 2025-05's lines
    # (one finding per employer and month, naming both).
    sql(
        "DELETE FROM billing_billline l USING billing_bill b, insurance_employment e"
        " WHERE l.bill_id = b.id AND b.month = '2025-05' AND e.person_id = l.person_id"
        f" AND {missed(p0, e0)}"
    )
    # As if the run had written those bills without them: a bill's (people, hash) pair is what
    # its run wrote (Bill.medical_people, medical_hash).
    sql(
        "UPDATE billing_bill b SET medical_people = s.n, medical_hash = s.h FROM (SELECT"
        " l.bill_id, COUNT(*) AS n, SUM(hashint8extended(l.person_id, 0)) AS h"
        " FROM billing_billline l JOIN billing_bill b2 ON b2.id = l.bill_id"
        " WHERE b2.month = '2025-05' AND l.insurance = 1 GROUP BY l.bill_id) s"
        " WHERE b.id = s.bill_id"
    )
    sql(
        "UPDATE insurance_coveragecertificate SET valid_to = '2025-06-30'"
        f" WHERE (person_id - {p0}) % 100 = 10"
    )
    sql("VACUUM ANALYZE")  # what autovacuum does to a live database between the run and the scan
    log("payments and anomalies planted", t0)


def unpaid(e0: int) -> str:
    return f"(b.month = '2025-12' AND (b.employer_id - {e0}) % 20 = 5)"


def partly(e0: int) -> str:
    return f"(b.month = '2025-11' AND (b.employer_id - {e0}) % 20 = 6)"


def missed(p0: int, e0: int) -> str:
    return f"(e.person_id - {p0}) % 100 IN (2, 3) AND ((e.employer_id - {e0}) % 10) = 0"


def planted() -> dict[str, int]:
    """How many findings each rule must report, counted from the planted rows."""
    p0 = int(one("SELECT MIN(id) FROM people_person"))
    e0 = int(one("SELECT MIN(id) FROM employers_employer"))
    people = {
        r: int(
            one(
                f"SELECT COUNT(*) FROM insurance_employment e WHERE (e.person_id - {p0}) % 100 = {r}"
            )
        )
        for r in (1, 4, 7, 8, 9)
    }
    cut = int(
        one("SELECT COUNT(*) FROM insurance_coveragecertificate WHERE valid_to = '2025-06-30'")
    )
    months_after = {"exit": 6, "deregistered": 3, "certificate": 6}  # 07–12, 10–12, 07–12
    expected = {
        "not_registered": people[1],
        "months_not_billed": int(
            one(
                f"SELECT COUNT(DISTINCT e.employer_id) FROM insurance_employment e WHERE {missed(p0, e0)}"
            )
        ),
        "unpaid_past_due": int(
            one(f"SELECT COUNT(*) FROM billing_bill b WHERE {unpaid(e0)} OR {partly(e0)}")
        ),
        "billed_after_deregistration": people[7] * months_after["deregistered"],
        "billed_after_exit": people[4] * months_after["exit"],
        "base_below_lower_limit": people[9],
        "exemption_without_certificate": cut * months_after["certificate"],
        "illegal_employment": people[7] + people[8],  # deregistered or expired card
    }
    assert all(expected.values()), expected
    return expected


def ceiling() -> tuple[float, dict[str, int]]:
    """Best of two: a plain COUNT(*) of every scanned table, summed."""
    best, rows = float("inf"), {}
    for _ in range(2):
        t0 = time.perf_counter()
        rows = {t: int(one(f"SELECT COUNT(*) FROM {t}")) for t in SCANNED}
        best = min(best, time.perf_counter() - t0)
    return best, rows


def forget_scans() -> None:
    """The findings, their events and the scans gone: the next scan is a first scan again."""
    for table in ("cases_caseevent", "cases_finding", "cases_scanpartition", "cases_scan"):
        sql(f"DELETE FROM {table}")
    sql("DELETE FROM django_tasks_database_dbtaskresult")
    sql("VACUUM ANALYZE cases_finding")
    sql("VACUUM ANALYZE cases_caseevent")


def queued_scan(ranges: int) -> tuple[float, Scan]:
    """The scan as the daily job starts it (tasks.compliance_scan_start): recorded, its partitions
    queued; seconds from then until the workers have finished its last partition."""
    t0 = time.perf_counter()
    record = compliance_scan_queue(actor=SYSTEM, as_of=AS_OF, partitions=ranges)
    for pk in record.partitions.order_by("number").values_list("pk", flat=True):
        scan_partition.enqueue(partition=pk)
    deadline = t0 + 900
    while not Scan.objects.filter(pk=record.pk, finished_at__isnull=False).exists():
        if time.perf_counter() > deadline:
            raise SystemExit(f"queued scan {record.pk} not finished after 900 s")
        time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    record.refresh_from_db()
    return elapsed, record


def schedule(record: Scan) -> list[dict[str, Any]]:
    """Which worker checked which rule of the queued scan, when (seconds from the first start)
    and for how long: where the time of a queued scan goes."""
    rules = dict(record.partitions.values_list("pk", "rules"))
    with connection.cursor() as c:
        c.execute(
            "SELECT CAST(args_kwargs->'kwargs'->>'partition' AS bigint), worker_ids, started_at,"
            " finished_at FROM django_tasks_database_dbtaskresult"
            " WHERE CAST(args_kwargs->'kwargs'->>'partition' AS bigint) = ANY(%s)"
            " ORDER BY started_at",
            [list(rules)],
        )
        rows = c.fetchall()
    if not rows:
        return []
    start = min(r[2] for r in rows)
    return [
        {
            "rules": rules[pk],
            "worker": (json.loads(workers) if isinstance(workers, str) else workers or ["?"])[-1],
            "at": round((began - start).total_seconds(), 2),
            "seconds": round((ended - began).total_seconds(), 2) if ended else None,
        }
        for pk, workers, began, ended in rows
    ]


def check_counts(label: str, counts: dict[str, dict[str, int]], expected: dict[str, int]) -> None:
    found = {k: v["found"] for k, v in counts.items()}
    assert found == expected, f"{label} found {found}, planted {expected}"


def per_rule() -> dict[str, float]:
    """Each rule's query alone (what it finds, not stored), as the scan runs it: where the time goes."""
    reg = registry()
    scope = Scope(as_of=AS_OF, regions=regions_to_scan(SYSTEM))
    out = {}
    for key, rule in reg.rules.items():
        with transaction.atomic():
            sql("SET LOCAL jit = off")
            t0 = time.perf_counter()
            CHECKS[key].run(scope, rule, reg.legacy_for(key))
            out[key] = round(time.perf_counter() - t0, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument(
        "--workers", type=int, default=2, help="db_worker processes working the queued scan"
    )
    parser.add_argument(
        "--ranges", type=int, default=1, help="employer ranges of the queued scan (per rule)"
    )
    parser.add_argument(
        "--scan-only", action="store_true", help="time the scans again on the data already there"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("the compliance benchmark needs PostgreSQL (DATABASE_URL=postgresql://…)")
    t_setup = time.perf_counter()
    if args.scan_only:  # the data of an earlier run: forget its scans, time them again
        forget_scans()
        args.people = int(one("SELECT COUNT(*) FROM people_person"))
    else:
        call_command("migrate", verbosity=0)
        generate(args.people)
        facts()
        bills()
        plant_after_billing()
    expected = planted()
    setup = time.perf_counter() - t_setup
    assert region(REGION).due_date(MONTHS[-1]) < AS_OF < region(REGION).due_date(MONTHS[-1].plus(1))

    t_ceiling, rows = ceiling()
    with db_workers(args.workers):
        t_first, first = queued_scan(args.ranges)
        check_counts("first scan", first.counts, expected)
        new = {k: v["new"] for k, v in first.counts.items()}
        assert new == expected, f"new {new}, planted {expected}"
        plan_first = schedule(first)
        # What autovacuum does between two daily scans: the second is planned knowing the
        # findings the first wrote (else its merges are planned on an empty table's statistics).
        sql("VACUUM ANALYZE cases_finding")
        t_second, second = queued_scan(args.ranges)
        plan_second = schedule(second)
    check_counts("second scan", second.counts, expected)
    for key, counts in second.counts.items():
        moved = {k: v for k, v in counts.items() if k != "found" and v}
        assert not moved, f"second scan of {key} changed findings: {moved}"
    # The same two scans in this one process, rule after rule (a scan of one employer, or
    # EXPATSI_SCAN_PARTITIONS=0): what one core does.
    forget_scans()
    t0 = time.perf_counter()
    inline = compliance_scan(actor=SYSTEM, as_of=AS_OF)
    t_inline = time.perf_counter() - t0
    check_counts("inline scan", inline.counts, expected)
    sql("VACUUM ANALYZE cases_finding")
    t0 = time.perf_counter()
    again = compliance_scan(actor=SYSTEM, as_of=AS_OF)
    t_inline_again = time.perf_counter() - t0
    assert again.counts == second.counts, (again.counts, second.counts)
    rules = per_rule()
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "people": args.people,
                "employers": args.people // PER_EMPLOYER,
                "rows": rows,
                "scanned_rows": sum(rows.values()),
                "findings": sum(expected.values()),
                "per_rule": expected,
                "setup_seconds": setup,
                "ceiling_seconds": t_ceiling,
                "first_seconds": t_first,
                "second_seconds": t_second,
                "workers": args.workers,
                "partitions": first.partitions_total,
                "schedule_first": plan_first,
                "schedule_second": plan_second,
                "inline_first_seconds": t_inline,
                "inline_second_seconds": t_inline_again,
                "rule_seconds": rules,
            }
        )
    )


if __name__ == "__main__":
    main()
