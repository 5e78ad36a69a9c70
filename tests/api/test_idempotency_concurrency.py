"""On PostgreSQL: the same Idempotency-Key sent many times at once creates one thing, once."""

from __future__ import annotations

import json
import os
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from expatsi.access.models import AgencyStaff
from expatsi.employers.models import Employer
from tests.api.conftest import API, USCC_NEW_SH
from tests.twofactor import verified_login

THREADS = 8

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("EXPATSI_REQUIRE_POSTGRES_TESTS"),
        reason="needs PostgreSQL (concurrent transactions); SQLite serialises writers",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_create_one_employer() -> None:
    assert connection.vendor == "postgresql"
    user = get_user_model().objects.create_user(username="officer")
    AgencyStaff.objects.create(user=user)
    body = json.dumps({"name": "Acme Shanghai Ltd.", "uscc": USCC_NEW_SH, "region_code": "310000"})
    clients = []
    for _ in range(THREADS):
        c = Client()
        verified_login(c, user)
        clients.append(c)
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, dict]] = []
    errors: list[BaseException] = []

    def work(client: Client) -> None:
        try:
            barrier.wait()
            r = client.post(
                f"{API}/employers",
                body,
                content_type="application/json",
                headers={"Idempotency-Key": "same-key"},
            )
            answers.append((r.status_code, r.json()))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert Employer.objects.filter(uscc=USCC_NEW_SH).count() == 1
    created = Employer.objects.get(uscc=USCC_NEW_SH)
    assert len(answers) == THREADS
    for status, data in answers:
        assert status == 201, data
        assert data["id"] == created.pk
