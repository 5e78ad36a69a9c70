"""On PostgreSQL, the payment run as processes run it: two runs of one region started at the same
moment send each approved payout once (one file has it, the other file has it not, or there is no
second file); a run SIGKILLed in the middle of writing its file leaves nothing behind, and the run
started again sends every payout once."""

from __future__ import annotations

import os
import signal
from datetime import date

import pytest
from django.db import connection

from expatsi.audit.models import AuditEvent
from expatsi.benefits.models import (
    BankAccount,
    DepartureCase,
    PaymentRun,
    Payout,
    TerminationApplication,
)
from expatsi.people.models import Person
from tests.security.processes import killed_at, postgres_url, python, together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("EXPATSI_REQUIRE_POSTGRES_TESTS"),
        reason="needs PostgreSQL (row locks between processes); SQLite serialises writers",
    ),
    pytest.mark.django_db(transaction=True),
]

PAYOUTS = 12
RUN = """
from datetime import date
from expatsi.access.actors import Actor
from expatsi.benefits.services import payment_run
import json

run = payment_run(actor=Actor("agency", None, "officer"), region_code="110000",
                  execution_date=date(2025, 12, 1))
print(json.dumps({"run": run.pk if run else None, "count": run.count if run else 0}))
"""


@pytest.fixture
def url() -> str:
    assert connection.vendor == "postgresql", "EXPATSI_REQUIRE_POSTGRES_TESTS without PostgreSQL"
    return postgres_url()


def approved_payouts(n: int = PAYOUTS) -> list[int]:
    """``n`` approved lump sums of Beijing waiting for a run (1,000.00 + i yuan each)."""
    ids = []
    for i in range(n):
        person = Person.objects.create(
            family_name=f"Leaver{i}", sex="male", birth_date=date(1985, 1, 1), nationality="FRA"
        )
        case = DepartureCase.objects.create(
            person=person,
            region_code="110000",
            trigger="declared",
            departure_date=date(2025, 9, 30),
            status="terminating",
            opened_by="test",
        )
        account = BankAccount.objects.create(
            person=person,
            holder=f"Leaver {i}",
            country="FRA",
            iban="FR1420041010050500013M02606",
            bic="PSSTFRPPPAR",
            currency="EUR",
        )
        app = TerminationApplication.objects.create(
            case=case,
            person=person,
            closing_date=date(2025, 11, 20),
            amount=100_000 + 100 * i,
            bank_account=account,
            signed_via="portal",
            status="approved",
            identity_checked=True,
        )
        ids.append(
            Payout.objects.create(
                application=app,
                person=person,
                region_code="110000",
                amount=app.amount,
                currency="EUR",
                bank_account=account,
                end_to_end_id=f"LS{app.pk:010d}N001",
                created_by="test",
            ).pk
        )
    return ids


def assert_each_sent_once(ids: list[int]) -> None:
    payouts = list(Payout.objects.filter(pk__in=ids))
    assert {p.status for p in payouts} == {"sent"}
    runs = list(PaymentRun.objects.all())
    assert sum(r.count for r in runs) == len(ids)
    assert sum(r.total for r in runs) == sum(p.amount for p in payouts)
    for p in payouts:  # each end-to-end id in exactly one file, the one its row names
        files = [r.pk for r in runs if p.end_to_end_id in r.xml]
        assert files == [p.run_id]
    assert AuditEvent.objects.filter(action="payment_run.create").count() == len(runs)


def test_two_runs_started_at_once_send_each_payout_once(url: str) -> None:
    ids = approved_payouts()
    answers = together(url, RUN, [{}, {}])
    counts = sorted(a["count"] for a in answers)
    assert counts == [0, PAYOUTS]  # the second waited for the first's locks, then found nothing
    assert_each_sent_once(ids)


def test_a_run_killed_mid_way_leaves_nothing_and_the_rerun_sends_once(url: str) -> None:
    ids = approved_payouts()
    # Killed after the file is written and the payouts marked sent, before the audit event and
    # the commit: a power cut in the middle of the run.
    killed = killed_at(url, "expatsi.benefits.services:audit_record", 1, RUN)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not PaymentRun.objects.exists()
    assert set(Payout.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"pending"}
    again = python(url, RUN)
    assert again.returncode == 0, again.stderr
    assert_each_sent_once(ids)
    third = python(url, RUN)
    assert third.returncode == 0, third.stderr
    assert '"count": 0' in third.stdout
    assert_each_sent_once(ids)
