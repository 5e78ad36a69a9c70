"""Compliance-scan benchmark on one PostgreSQL database: N employees with their employers,
employments, work permits, cards, registrations, entries and exits, declarations, certificates of
coverage and twelve months of bills (the real billing run, month after month), most bills paid.
A known number of anomalies is planted for every rule, and the scan must find exactly those.

Timed, in the same run: the scan as the daily job runs it (every rule, findings written), a second
scan (idempotent: nothing new, nothing changed, nothing resolved), and the ceiling — a plain
``SELECT COUNT(*)`` of every table the scan reads, summed. Run by bench/run.py in a fresh process.

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
from billing import PER_EMPLOYER, generate
from expatsi.access.actors import SYSTEM
from expatsi.billing.services import billing_run
from expatsi.cases.checks import CHECKS, Scope
from expatsi.cases.permissions import regions_to_scan
from expatsi.cases.registry import registry
from expatsi.cases.services import compliance_scan, compliance_scan_queue, scan_partition_work
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
        "--partitions",
        type=int,
        default=0,
        help="also time a re-scan split in this many partitions, worked one after another here",
    )
    parser.add_argument(
        "--scan-only", action="store_true", help="time the scans again on the data already there"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("the compliance benchmark needs PostgreSQL (DATABASE_URL=postgresql://…)")
    t_setup = time.perf_counter()
    if args.scan_only:  # the data of an earlier run: forget its scans, time them again
        for table in ("cases_caseevent", "cases_finding", "cases_scan"):
            sql(f"DELETE FROM {table}")
        sql("VACUUM ANALYZE")
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
    t0 = time.perf_counter()
    first = compliance_scan(actor=SYSTEM, as_of=AS_OF)
    t_first = time.perf_counter() - t0
    found = {k: v["found"] for k, v in first.counts.items()}
    new = {k: v["new"] for k, v in first.counts.items()}
    assert found == expected, f"found {found}, planted {expected}"
    assert new == expected, f"new {new}, planted {expected}"
    t0 = time.perf_counter()
    second = compliance_scan(actor=SYSTEM, as_of=AS_OF)
    t_second = time.perf_counter() - t0
    again = {k: v["found"] for k, v in second.counts.items()}
    assert again == expected, f"second scan found {again}, planted {expected}"
    for key, counts in second.counts.items():
        moved = {k: v for k, v in counts.items() if k != "found" and v}
        assert not moved, f"second scan of {key} changed findings: {moved}"
    t_split = None
    if args.partitions:
        # The work the pool shares: every partition, one after another in this process (the
        # sum of what N workers do; with free cores they do it side by side).
        t0 = time.perf_counter()
        split = compliance_scan_queue(actor=SYSTEM, as_of=AS_OF, partitions=args.partitions)
        for pk in split.partitions.values_list("pk", flat=True):
            scan_partition_work(partition_id=pk)
        t_split = time.perf_counter() - t0
        split.refresh_from_db()
        assert split.counts == second.counts, (split.counts, second.counts)
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
                "partitions": args.partitions,
                "partitioned_second_seconds": t_split,
                "rule_seconds": rules,
            }
        )
    )


if __name__ == "__main__":
    main()
