"""Billing-run benchmark on one database: generate N employees, bill one month end to end
(read bases → compute → write lines), and measure the raw binary COPY of the same rows into
PostgreSQL as the ceiling. Run by bench/run.py once per database, in a fresh process.

    DATABASE_URL=postgresql://… python bench/billing.py --people 1000000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
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
from expatsi.billing.models import BillLine  # noqa: E402
from expatsi.billing.services import billing_run  # noqa: E402
from expatsi.billing.writer import _copy_buffer  # noqa: E402
from expatsi.rules.dates import Month  # noqa: E402
from expatsi.rules.identifiers import uscc_check_char  # noqa: E402

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


def raw_copy_rate(people: int, batch_lines: int) -> float:
    """Rows/s of the binary COPY of lines shaped like the run's (a bill per 100 people, five lines a
    person, person ids in order) into an empty table with the same columns and indexes, committed
    in the run's batch size: the ceiling the run is compared with."""
    n = people * 5
    person = np.repeat(np.arange(1, people + 1, dtype=np.int64), 5)
    cols = {
        "bill_id": person // PER_EMPLOYER + 1,
        "person_id": person,
        "insurance": np.tile(np.arange(5, dtype=np.int64), people),
        "base": np.full(n, 2_000_000, dtype=np.int64),
        "employer_rate": np.full(n, 160_000, dtype=np.int64),
        "employee_rate": np.full(n, 80_000, dtype=np.int64),
        "employer_amount": np.full(n, 320_000, dtype=np.int64),
        "employee_amount": np.full(n, 160_000, dtype=np.int64),
        "flags": np.zeros(n, dtype=np.int64),
    }
    with connection.cursor() as c:
        c.execute("CHECKPOINT")
        c.execute("CREATE TABLE bench_lines (LIKE billing_billline INCLUDING ALL)")
    elapsed = 0.0
    for start in range(0, n, batch_lines):
        chunk = {k: v[start : start + batch_lines] for k, v in cols.items()}
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as c:
            buf = _copy_buffer(chunk, len(chunk["bill_id"]))
            with c.cursor.copy(
                "COPY bench_lines (bill_id, person_id, insurance, base, employer_rate, employee_rate, "
                "employer_amount, employee_amount, flags, note) FROM STDIN (FORMAT BINARY)"
            ) as cp:
                cp.write(buf)
        elapsed += time.perf_counter() - t0
    with connection.cursor() as c:
        c.execute("DROP TABLE bench_lines")
        c.execute("CHECKPOINT")
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    generate(args.people)
    os.environ.setdefault("EXPATSI_BILLING_BATCH", "2000")
    ceiling = None
    if connection.vendor == "postgresql":
        ceiling = raw_copy_rate(
            args.people, int(os.environ["EXPATSI_BILLING_BATCH"]) * PER_EMPLOYER * 5
        )
    t0 = time.perf_counter()
    result = billing_run(actor=SYSTEM, region_code="110000", month=Month(2025, 8))
    elapsed = time.perf_counter() - t0
    assert BillLine.objects.count() == result.lines == args.people * 5
    out = {
        "vendor": connection.vendor,
        "people": args.people,
        "lines": result.lines,
        "seconds": elapsed,
        "lines_per_s": result.lines / elapsed,
    }
    if ceiling is not None:
        out["copy_rows_per_s"] = ceiling
    print(json.dumps(out))


if __name__ == "__main__":
    main()
