"""On PostgreSQL: two billing runs of the same region and month started at once (the CLI and the
background job, say) do not interleave: the second waits until the first has finished (its run
record is only created then), then finds nothing left to write. Both finish without error and every
bill exists once. (The row locks per batch already kept the bills right; without the run lock the
two runs went through the employers side by side, each reporting a half-true picture of progress.)"""

from __future__ import annotations

import os
import threading
from datetime import date

import pytest
from django.db import connection

from expatsi.access.actors import Actor
from expatsi.billing.models import Bill, BillLine
from expatsi.billing.run import RunResult
from expatsi.billing.services import billing_run
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from expatsi.rules.identifiers import uscc_check_char

EMPLOYERS = 16

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("EXPATSI_REQUIRE_POSTGRES_TESTS"),
        reason="needs PostgreSQL (SQLite: tests/security/test_sqlite_concurrency.py)",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_month_at_once_queue_and_bill_once(settings):
    assert connection.vendor == "postgresql"
    settings.EXPATSI_BILLING_BATCH = 1  # many small transactions: room to interleave
    for i in range(EMPLOYERS):
        body = f"9111000060003{i:04d}"
        employer = Employer.objects.create(
            name=f"Employer {i}", uscc=body + uscc_check_char(body), region_code="110000"
        )
        for j in range(2):
            person = Person.objects.create(
                family_name=f"P{i}-{j}",
                sex="male",
                birth_date=date(1980, 1, 1 + j),
                nationality=["DEU", "USA"][j],
            )
            Employment.objects.create(
                person=person,
                employer=employer,
                start_date=date(2024, 1, 1),
                position="x",
                contract_wage=(8000 + 4000 * j) * 100,
            )
    barrier = threading.Barrier(2)
    results: list[RunResult] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results.append(
                billing_run(
                    actor=Actor("system", None, f"run {n}"),
                    region_code="110000",
                    month=Month(2025, 3),
                )
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(results) == 2
    first, second = sorted(results, key=lambda r: r.run.started_at)
    assert first.run.finished_at is not None
    assert second.run.started_at >= first.run.finished_at  # the second waited for the first
    assert (first.regular_bills, second.regular_bills) == (EMPLOYERS, 0)
    assert all(r.adjustment_bills == 0 for r in results)
    assert Bill.objects.filter(month="2025-03", kind="regular").count() == EMPLOYERS
    assert Bill.objects.count() == EMPLOYERS
    assert BillLine.objects.count() == EMPLOYERS * 2 * 5
