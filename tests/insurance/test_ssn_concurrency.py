"""On PostgreSQL: 100 first registrations accepted at once get 100 distinct, valid numbers.

Most of the people share nationality, birth date and sex — the same sequence key — which is the
hard case: every one of them competes for the same sequence row (created by whichever comes first).
"""

from __future__ import annotations

import os
import threading
from datetime import date

import pytest
from django.db import connection

from expatsi.access.actors import Actor
from expatsi.insurance.models import Registration, RegistrationStatus
from expatsi.insurance.services import registration_accept
from expatsi.people.models import Person
from expatsi.rules.identifiers import check_id
from tests.notify.factories import employer, hire

N = 100
THREADS = 25  # PostgreSQL's default max_connections is 100: 25 connections, 4 accepts each


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not _on_postgres() and not os.environ.get("EXPATSI_REQUIRE_POSTGRES_TESTS"),
        reason="needs PostgreSQL (row locks under real concurrency); SQLite serialises writers",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_registrations_get_distinct_valid_numbers():
    assert _on_postgres(), (
        "EXPATSI_REQUIRE_POSTGRES_TESTS is set but the database is not PostgreSQL"
    )
    emp = employer("310000", "Concurrent Co.")
    regs = []
    for i in range(N):
        if i < 60:  # the hard case: one sequence key
            kw = {"nationality": "DEU", "birth": date(1985, 3, 14), "sex": "male"}
        elif i < 85:  # a second shared key
            kw = {"nationality": "DEU", "birth": date(1985, 3, 14), "sex": "female"}
        else:
            kw = {
                "nationality": "JPN",
                "birth": date(1970 + i % 20, 1 + i % 12, 1 + i % 28),
                "sex": "male",
            }
        regs.append(hire(emp, permit_issued=date(2026, 1, 5), **kw).pk)

    agency = Actor("agency", None, "officer")
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(ids: list[int]) -> None:
        try:
            barrier.wait()
            for reg_id in ids:
                registration_accept(
                    actor=agency, registration_id=reg_id, registered_on=date(2026, 1, 20)
                )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(regs[i::THREADS],)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert Registration.objects.filter(status=RegistrationStatus.ACCEPTED).count() == N
    numbers = list(Person.objects.values_list("ssn", flat=True))
    assert len(numbers) == N and None not in numbers
    assert len(set(numbers)) == N
    assert all(check_id(n, "foreigner_ssn").valid for n in numbers)
    shared = [n for n in numbers if n.startswith("93127619850314")]
    assert len(shared) == 85
    male = sorted(int(n[14:17]) for n in shared if int(n[14:17]) % 2)
    assert male == list(range(1, 120, 2))  # no gaps and no repeats in the contended sequence
