"""Billing-run benchmark on one database: generate N employees, bill one month end to end
(read bases → compute → write lines), and measure the raw binary COPY of the same rows into
PostgreSQL as the ceiling. Run by bench/run.py once per database, in a fresh process.

    DATABASE_URL=postgresql://… python bench/billing.py --people 1000000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expatsi.settings")
os.environ.setdefault("EXPATSI_DEBUG", "1")

import django

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from expatsi.access.actors import SYSTEM  # noqa: E402
from expatsi.billing.models import BillingJob, BillLine  # noqa: E402
from expatsi.billing.services import billing_run  # noqa: E402
from expatsi.billing.tasks import billing_job_start, job_progress  # noqa: E402
from expatsi.billing.writer import _copy_buffer  # noqa: E402
from expatsi.rules.dates import Month  # noqa: E402
from expatsi.rules.identifiers import uscc_check_char  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PER_EMPLOYER = 100
NATIONALITIES = ["USA", "DEU", "JPN", "KOR", "GBR", "FRA", "IND", "CAN", "AUS", "ITA"]


def generate(people: int) -> None:
    """Employers (100 employees each), people and employments, written in bulk."""
    employers = max(1, people // PER_EMPLOYER)
    rng = np.random.default_rng(7)
    emp_rows = []
    for i in range(employers):
        body = f"91110000{i:09d}"
        emp_rows.append(
            (
                f"Bench employer {i}",
                "",
                body + uscc_check_char(body),
                "110000",
                "domestic",
                "",
                "",
                "",
                "",
                None,
            )
        )
    with connection.cursor() as c:
        c.executemany(
            "INSERT INTO employers_employer (name, name_zh, uscc, region_code, kind, overseas_company, "
            "overseas_country, address, email, dissolved_on, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"
            "CURRENT_TIMESTAMP)",
            emp_rows,
        )
        c.execute("SELECT MIN(id) FROM employers_employer")
        first_employer = c.fetchone()[0]
    wages = rng.integers(3_000_00, 60_000_00, size=people)
    nats = rng.choice(NATIONALITIES, size=people)
    person_rows = (
        (
            f"P{i}",
            "",
            "",
            "male" if i % 2 else "female",
            date(1980, 1, 1 + i % 28),
            str(nats[i]),
            "",
            "",
            "",
            "en",
        )
        for i in range(people)
    )
    t0 = time.perf_counter()
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            raw = c.cursor
            with raw.copy(
                "COPY people_person (family_name, given_names, chinese_name, sex, birth_date, nationality,"
                " email, phone, address_abroad, preferred_language, created_at, updated_at) FROM STDIN"
            ) as cp:
                for r in person_rows:
                    cp.write_row((*r, "2025-01-01", "2025-01-01"))
        else:
            sqlite = connection.connection  # the raw sqlite3 connection: setup speed, not measured
            sqlite.execute("PRAGMA synchronous = OFF")
            sqlite.execute("BEGIN")  # Django's connection autocommits each row otherwise
            sqlite.executemany(
                "INSERT INTO people_person (family_name, given_names, chinese_name, sex, birth_date, nationality, "
                "email, phone, address_abroad, preferred_language, created_at, updated_at) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,CURRENT_TIMESTAMP,CURRENT_TIMESTAMP)",
                ((*r[:4], r[4].isoformat(), *r[5:]) for r in person_rows),
            )
            sqlite.commit()
        c.execute("SELECT MIN(id) FROM people_person")
        first_person = c.fetchone()[0]
        rows = (
            (
                first_person + i,
                first_employer + i // PER_EMPLOYER,
                date(2024, 1, 1),
                "Engineer",
                int(wages[i]),
            )
            for i in range(people)
        )
        if connection.vendor == "postgresql":
            with raw.copy(
                "COPY insurance_employment (person_id, employer_id, start_date, position, contract_wage, "
                "end_reason, seconded_by, seconded_by_country, created_at) FROM STDIN"
            ) as cp:
                for r in rows:
                    cp.write_row((*r, "", "", "", "2025-01-01"))
        else:
            sqlite.execute("BEGIN")
            sqlite.executemany(
                "INSERT INTO insurance_employment (person_id, employer_id, start_date, position, contract_wage, "
                "end_reason, seconded_by, seconded_by_country, created_at) VALUES (?,?,?,?,?,'','','',"
                "CURRENT_TIMESTAMP)",
                ((r[0], r[1], r[2].isoformat(), r[3], r[4]) for r in rows),
            )
            sqlite.commit()
            sqlite.execute("PRAGMA synchronous = FULL")
        if connection.vendor == "postgresql":
            c.execute("ANALYZE")
    print(f"generated {people:,} people in {time.perf_counter() - t0:.1f}s", file=sys.stderr)


def _line_columns(
    people: int, bill_ids: np.ndarray | None = None, first_person: int = 1
) -> dict[str, np.ndarray]:
    """Lines shaped like the run's: a bill per 100 people, five lines a person, person ids in order
    (``bill_ids``: one per bill, the real ones when the lines go into the real table)."""
    n = people * 5
    person = np.repeat(np.arange(first_person, first_person + people, dtype=np.int64), 5)
    order = (person - first_person) // PER_EMPLOYER
    bill = order + 1 if bill_ids is None else bill_ids[order]
    return {
        "bill_id": bill,
        "person_id": person,
        "insurance": np.tile(np.arange(5, dtype=np.int64), people),
        "base": np.full(n, 2_000_000, dtype=np.int64),
        "employer_rate": np.full(n, 160_000, dtype=np.int64),
        "employee_rate": np.full(n, 80_000, dtype=np.int64),
        "employer_amount": np.full(n, 320_000, dtype=np.int64),
        "employee_amount": np.full(n, 160_000, dtype=np.int64),
        "flags": np.zeros(n, dtype=np.int64),
    }


_COPY_COLUMNS = (
    "bill_id, person_id, insurance, base, employer_rate, employee_rate, employer_amount, "
    "employee_amount, flags, note"
)


def _copy_into(table: str, cols: dict[str, np.ndarray], batch_lines: int) -> float:
    """Seconds to binary-COPY ``cols`` into ``table``, committed in the run's batch size."""
    n = len(cols["bill_id"])
    elapsed = 0.0
    for start in range(0, n, batch_lines):
        chunk = {k: v[start : start + batch_lines] for k, v in cols.items()}
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as c:
            buf = _copy_buffer(chunk, len(chunk["bill_id"]))
            with c.cursor.copy(f"COPY {table} ({_COPY_COLUMNS}) FROM STDIN (FORMAT BINARY)") as cp:
                cp.write(buf)
        elapsed += time.perf_counter() - t0
    return elapsed


def _sql_seconds(*statements: str) -> float:
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as c:
        for sql in statements:
            c.execute(sql)
    return time.perf_counter() - t0


def raw_copy_rate(people: int, batch_lines: int) -> float:
    """Rows/s of the binary COPY of lines shaped like the run's into an empty table with the same
    columns and indexes (no foreign keys), committed in the run's batch size: the ceiling the run
    is compared with."""
    cols = _line_columns(people)
    with connection.cursor() as c:
        c.execute("CHECKPOINT")
        c.execute("CREATE TABLE bench_lines (LIKE billing_billline INCLUDING ALL)")
    elapsed = _copy_into("bench_lines", cols, batch_lines)
    with connection.cursor() as c:
        c.execute("DROP TABLE bench_lines")
        c.execute("CHECKPOINT")
    return len(cols["bill_id"]) / elapsed


def line_table_variants(people: int, batch_lines: int) -> dict[str, float]:
    """What the line table costs at write time, in seconds for the month's lines: COPY into the
    real table (its foreign keys and indexes; the month's bills exist), into a copy with its
    indexes but no foreign keys (the ceiling's table), into the bare columns, the bare columns
    then the secondary indexes built after the load, and an unlogged staging table then one
    INSERT … SELECT into the real table."""
    out: dict[str, float] = {}
    with connection.cursor() as c:
        c.execute("SELECT id FROM billing_bill WHERE kind = 'regular' ORDER BY employer_id")
        bill_ids = np.array([r[0] for r in c.fetchall()], dtype=np.int64)
        c.execute("SELECT MIN(id) FROM people_person")
        first_person = c.fetchone()[0]
    real = _line_columns(people, bill_ids, first_person)
    synthetic = _line_columns(people)

    def fresh(sql: str) -> None:
        with connection.cursor() as c:
            c.execute("DROP TABLE IF EXISTS bench_lines")
            c.execute("CHECKPOINT")
            if sql:
                c.execute(sql)

    with connection.cursor() as c:
        c.execute("TRUNCATE billing_billline")
        c.execute("CHECKPOINT")
    out["real_table"] = _copy_into("billing_billline", real, batch_lines)
    with connection.cursor() as c:
        c.execute("TRUNCATE billing_billline")
    fresh("CREATE TABLE bench_lines (LIKE billing_billline INCLUDING ALL)")
    out["indexes_no_fk"] = _copy_into("bench_lines", synthetic, batch_lines)
    fresh("CREATE TABLE bench_lines (LIKE billing_billline INCLUDING DEFAULTS INCLUDING IDENTITY)")
    out["bare_columns"] = _copy_into("bench_lines", synthetic, batch_lines)
    out["indexes_after_load"] = out["bare_columns"] + _sql_seconds(
        "ALTER TABLE bench_lines ADD PRIMARY KEY (id)",
        "CREATE INDEX ON bench_lines (bill_id)",
        "CREATE INDEX ON bench_lines (person_id, bill_id)",
    )
    fresh(
        "CREATE UNLOGGED TABLE bench_lines (LIKE billing_billline INCLUDING DEFAULTS INCLUDING IDENTITY)"
    )
    with connection.cursor() as c:
        c.execute("CHECKPOINT")
    staged = _copy_into("bench_lines", real, batch_lines)
    out["unlogged_staging_then_insert_select"] = staged + _sql_seconds(
        f"INSERT INTO billing_billline ({_COPY_COLUMNS}) SELECT {_COPY_COLUMNS} FROM bench_lines"
    )
    fresh("")
    with connection.cursor() as c:
        c.execute("TRUNCATE billing_billline, billing_bill CASCADE")
        c.execute("CHECKPOINT")
    return out


def _clear_month() -> None:
    with connection.cursor() as c:
        c.execute("TRUNCATE billing_billline, billing_bill CASCADE")
        c.execute("DELETE FROM django_tasks_database_dbtaskresult")
        c.execute("CHECKPOINT")


@contextmanager
def db_workers(workers: int) -> Iterator[None]:
    """``workers`` real ``db_worker`` processes polling the database queue (every 50 ms), up and
    polling before the caller's clock starts, stopped (SIGTERM) after."""
    env = {**os.environ, "EXPATSI_DEBUG": "1"}
    with tempfile.TemporaryFile("w+") as log:
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "manage.py"),
                    "db_worker",
                    "--interval",
                    "0.05",
                    "--no-startup-delay",
                    "--no-reload",
                    "--worker-id",
                    f"bench-{i}",
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )
            for i in range(workers)
        ]
        try:
            time.sleep(6)
            for p in procs:
                if p.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"db_worker exited: {log.read()[-3000:]}")
            yield
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def pool_run(workers: int, month: Month) -> dict[str, float]:
    """The billing job end to end with ``workers`` real ``db_worker`` processes claiming its
    partitions from the database queue: seconds from the enqueue to the job done."""
    with db_workers(workers):
        t0 = time.perf_counter()
        key = billing_job_start(actor=SYSTEM, kind="run", region_code="110000", month=month)
        job = BillingJob.objects.get(key=key)
        while True:
            status = job_progress(job).status
            if status in ("done", "failed", "interrupted"):
                break
            time.sleep(0.02)
        elapsed = time.perf_counter() - t0
        if status != "done":
            raise SystemExit(f"billing job {status}: {job_progress(job).error}")
        run = job.runs.get()
        return {
            "seconds": elapsed,
            "lines": run.lines_written,
            "partitions": run.partitions.count(),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--workers", default="1,2", help="PostgreSQL: db_worker counts to measure")
    parser.add_argument("--variants", action="store_true", help="also the line-table variants")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    generate(args.people)
    os.environ.setdefault("EXPATSI_BILLING_BATCH", "1000")
    os.environ.setdefault("EXPATSI_BILLING_PARTITIONS", "10")
    batch_lines = int(os.environ["EXPATSI_BILLING_BATCH"]) * PER_EMPLOYER * 5
    month = Month(2025, 8)
    out: dict[str, object] = {"vendor": connection.vendor, "people": args.people}
    if connection.vendor != "postgresql":
        t0 = time.perf_counter()
        result = billing_run(actor=SYSTEM, region_code="110000", month=month)
        elapsed = time.perf_counter() - t0
        assert BillLine.objects.count() == result.lines == args.people * 5
        out.update(lines=result.lines, seconds=elapsed, lines_per_s=result.lines / elapsed)
        print(json.dumps(out))
        return
    ceiling = raw_copy_rate(args.people, batch_lines)
    out["copy_rows_per_s"] = ceiling
    out["copy_seconds"] = args.people * 5 / ceiling
    out["batch"] = int(os.environ["EXPATSI_BILLING_BATCH"])
    pools: dict[str, dict[str, float]] = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        _clear_month()
        measured = pool_run(workers, month)
        assert BillLine.objects.count() == measured["lines"] == args.people * 5
        measured["lines_per_s"] = measured["lines"] / measured["seconds"]
        pools[str(workers)] = measured
        print(f"{workers} worker(s): {measured}", file=sys.stderr)
    out["workers"] = pools
    out["lines"] = args.people * 5
    if args.variants:
        out["line_table_seconds"] = line_table_variants(args.people, batch_lines)
    # The machine is shared: the ceiling is the better of a COPY before and one after the runs.
    again = raw_copy_rate(args.people, batch_lines)
    out["copy_rows_per_s_each"] = [ceiling, again]
    out["copy_rows_per_s"] = max(ceiling, again)
    out["copy_seconds"] = args.people * 5 / out["copy_rows_per_s"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
