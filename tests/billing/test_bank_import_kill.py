"""A bank-statement import killed with SIGKILL in the middle of a payment, then run again: each
payment applied exactly once, balances as after an uninterrupted import. Real processes against a
file database."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.security.processes import killed_at, migrated_sqlite, python, sqlite_url

SEED = """
from datetime import date
from expatsi.access.actors import SYSTEM
from expatsi.billing.services import billing_run
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from expatsi.rules.identifiers import uscc_check_char
for i in range(3):
    body = f"9111000060004{i:04d}"
    e = Employer.objects.create(name=f"Payer {i}", uscc=body + uscc_check_char(body),
                                region_code="110000")
    for j in range(2):
        p = Person.objects.create(family_name=f"P{i}-{j}", sex="male", birth_date=date(1980, 1, 1 + j),
                                  nationality="DEU")
        Employment.objects.create(person=p, employer=e, start_date=date(2024, 1, 1), position="x",
                                  contract_wage=(8000 + 5000 * j) * 100)
billing_run(actor=SYSTEM, region_code="110000", month=Month(2026, 2))
"""
IMPORT = """
import json, sys
from datetime import date
from pathlib import Path
from expatsi.access.actors import Actor
from expatsi.billing.payments import employer_balance
from expatsi.billing.services import bank_statement_import
from expatsi.employers.models import Employer

report = bank_statement_import(
    actor=Actor("agency", None, "bank-officer"), text=Path(sys.argv[1]).read_text("utf-8")
)
balances = {}
for e in Employer.objects.order_by("uscc"):
    b = employer_balance(e, on=date(2026, 6, 30))
    balances[e.uscc] = [b.billed, b.paid, b.principal_outstanding, b.late_fees_outstanding,
                        b.credit, b.total_due]
print(json.dumps({"recorded": report.recorded, "already": report.already_recorded,
                  "errors": [str(e) for e in report.errors], "balances": balances}))
"""
STATE = {
    "payments": "SELECT p.external_id, e.uscc, p.amount, p.received_on, p.reference, p.source "
    "FROM billing_payment p JOIN employers_employer e ON e.id = p.employer_id ORDER BY 1",
    "allocations": "SELECT p.external_id, b.number, a.principal, a.late_fee, a.paid_on "
    "FROM billing_allocation a JOIN billing_payment p ON p.id = a.payment_id "
    "JOIN billing_bill b ON b.id = a.bill_id ORDER BY 1, 2, 3, 4",
    "credits": "SELECT a.person_id, a.month, a.amount, b.number FROM billing_accountcredit a "
    "JOIN billing_bill b ON b.id = a.bill_id ORDER BY 1, 2, 4",
    "audited": "SELECT object_id FROM audit_auditevent WHERE action = 'payment.record'",
}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def state(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {k: conn.execute(q).fetchall() for k, q in STATE.items()}


def statement(db: Path, path: Path) -> tuple[Path, int]:
    """Full, partial, over- and late payments of the seeded bills, as a bank exports them."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        bills = conn.execute(
            "SELECT b.number, e.uscc, b.employer_total + b.employee_total FROM billing_bill b "
            "JOIN employers_employer e ON e.id = b.employer_id ORDER BY e.uscc"
        ).fetchall()
    assert len(bills) == 3

    def yuan(fen: int) -> str:
        return f"{fen // 100}.{fen % 100:02d}"

    (n0, u0, t0), (_, u1, t1), (n2, u2, t2) = bills
    rows = [
        ("TX-1", "2026-03-05", yuan(t0), u0, n0),  # the whole bill, by its number
        ("TX-2", "2026-03-05", yuan(t1 // 2), u1, ""),  # half
        ("TX-3", "2026-03-06", yuan(t1 - t1 // 2 + 12345), u1, ""),  # the rest and 123.45 credit
        ("TX-4", "2026-05-20", yuan(t2 - 100000), u2, n2),  # late, 1,000 yuan short
        ("TX-5", "2026-05-25", yuan(150000), u2, ""),  # the rest, late fees, then credit
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["transaction_id", "date", "amount", "payer_uscc", "reference"])
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path, len(rows)


def answer(done: Any) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_sigkill_mid_payment_then_rerun_applies_each_payment_exactly_once(
    tmp_path, tmp_path_factory
):
    if connection.vendor != "sqlite":
        pytest.skip("a file SQLite database of its own: the SQLite leg runs it")
    killed = migrated_sqlite(tmp_path_factory, tmp_path / "killed.sqlite3")
    seeded = python(sqlite_url(killed), SEED)
    assert seeded.returncode == 0, seeded.stderr
    clean = tmp_path / "clean.sqlite3"
    shutil.copy(killed, clean)
    csv_file, payments = statement(killed, tmp_path / "statement.csv")
    untouched = state(killed)

    # The third payment dies after its row and allocations are written, before its audit event.
    first = killed_at(
        sqlite_url(killed), "expatsi.billing.services:audit_record", 3, IMPORT, str(csv_file)
    )
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert state(killed) == untouched  # the statement is one transaction: nothing was applied

    resumed = answer(python(sqlite_url(killed), IMPORT, str(csv_file)))
    assert (resumed["recorded"], resumed["already"], resumed["errors"]) == (payments, 0, [])
    whole = answer(python(sqlite_url(clean), IMPORT, str(csv_file)))
    assert state(killed) == state(clean)
    assert resumed["balances"] == whole["balances"]

    after = state(killed)
    assert len(after["payments"]) == payments and len(after["audited"]) == payments
    by_payment: dict[str, int] = {}
    for tx, _, principal, fee, _ in after["allocations"]:
        by_payment[tx] = by_payment.get(tx, 0) + principal + fee
    amounts = {tx: amount for tx, _, amount, *_ in after["payments"]}
    assert all(by_payment.get(tx, 0) <= amount for tx, amount in amounts.items())
    balances = resumed["balances"]  # per employer: billed, paid, principal due, fees due, credit
    (
        (billed0, paid0, *due0, credit0, _),
        (billed1, paid1, *due1, credit1, _),
        (
            billed2,
            paid2,
            *due2,
            credit2,
            _,
        ),
    ) = (balances[u] for u in sorted(balances))
    assert due0 == due1 == due2 == [0, 0]  # every bill and every late fee paid, once
    assert (paid0, credit0) == (billed0, 0)
    assert (paid1, credit1) == (billed1 + 12345, 12345)
    fees_paid = sum(fee for *_, fee, _ in after["allocations"])
    assert paid2 == billed2 + 50000 and 0 < fees_paid < 50000  # TX-4/TX-5 were late
    assert credit2 == 50000 - fees_paid
    again = answer(python(sqlite_url(killed), IMPORT, str(csv_file)))
    assert (again["recorded"], again["already"]) == (0, payments)
    assert state(killed) == after and again["balances"] == balances
