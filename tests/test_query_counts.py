"""No N+1: every list page and API list asks the database the same number of questions whether it
shows 3 rows or 30 (issues 13 and 14: lists at a million employees).

The same world is built twice — with 3 and with 30 of everything a list shows (hires with their
people, documents, employments and registrations; cards and their open applications; employers
with a bill and a payment each; the audit events all that leaves) — and every list is fetched in
each, counting queries. A list that loads a related row per item shows up as 27 more queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from expatsi.access.actors import SYSTEM
from expatsi.billing.models import Payment
from expatsi.cards.models import ApplicationKind, CardApplication
from expatsi.employers.models import Employer
from tests.factories import (
    AgencyStaffFactory,
    BillFactory,
    CardFactory,
    EmployerFactory,
    HrMembershipFactory,
    RegisteredEmployerFactory,
    UserFactory,
    hire,
)
from tests.twofactor import enrol, verified_login

pytestmark = pytest.mark.django_db

API = "/api/v1"

# Every list page and API list, fetched as the role that reads it. Each shows all rows on one
# page (limit 100 where the list pages by limit/offset).
AGENCY_PAGES = (
    "/",
    "/registrations/",
    "/registrations/?status=",
    "/registrations/?q=Hire",
    "/audit/",
    "/audit/?person=Hire",
    "/cards/",
    "/cards/queue/",
    "/billing/collection/",
    "/billing/payments/",
)
HR_PAGES = ("/", "/?deadline=on_time", "/cards/", "/billing/", "/billing/payments/")
AGENCY_API = (
    "/employees?limit=100",
    "/employments?limit=100",
    "/registrations?limit=100",
    "/employers?limit=100",
    "/cards?limit=100",
    "/cards/applications?limit=100",
    "/billing/bills?limit=100",
    "/billing/payments?limit=100",
    "/billing/arrears?limit=100",
    "/billing/collection?limit=100",
)
HR_API = (
    "/employees?limit=100",
    "/employments?limit=100",
    "/registrations?limit=100",
    "/cards?limit=100",
    "/cards/applications?limit=100",
)


@dataclass
class World:
    agency: Client
    hr: Client


_worlds = iter(range(1, 1000))


def build(n: int) -> World:
    """``n`` of everything, for one employer's HR and an officer of every region."""
    w = next(_worlds)
    employer = RegisteredEmployerFactory(name=f"Query World {w} Co., Ltd.")
    hr_user = HrMembershipFactory(user=UserFactory(username=f"qc-hr-{w}"), employer=employer).user
    for _ in range(n):
        reg = hire(employer, actor=SYSTEM)
        card = CardFactory(person=reg.person, employer=employer)
        CardApplication.objects.create(
            card=card, kind=ApplicationKind.FIRST_ENTRY, filed_as="employer", request={}
        )
        other: Employer = EmployerFactory()
        BillFactory(employer=other, employer_total=10_000, employee_total=5_000)
        Payment.objects.create(employer=other, amount=10_000, received_on=date(2025, 9, 1))
    officer = AgencyStaffFactory(user=UserFactory(username=f"qc-officer-{w}")).user
    enrol(officer)
    agency, hr = Client(), Client()
    verified_login(agency, officer)
    verified_login(hr, hr_user)
    return World(agency=agency, hr=hr)


def queries(fetch: Callable[[], Any]) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = fetch()
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    return len(ctx.captured_queries), response.status_code


def counts(world: World) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    # The audit page checks the hash chain from the newest signed checkpoint on: work that grows
    # with the events written since the last visit, not with the rows shown. A first visit signs
    # the head, so the measured one walks nothing new in either world.
    world.agency.get("/audit/")
    for url in AGENCY_PAGES:
        out[f"agency page {url}"] = queries(lambda url=url: world.agency.get(url))
    for url in HR_PAGES:
        out[f"hr page {url}"] = queries(lambda url=url: world.hr.get(url))
    for url in AGENCY_API:
        out[f"agency api {url}"] = queries(lambda url=url: world.agency.get(API + url))
    for url in HR_API:
        out[f"hr api {url}"] = queries(lambda url=url: world.hr.get(API + url))
    out["agency export csv"] = queries(lambda: world.agency.get("/registrations/?export=csv"))
    out["agency audit export csv"] = queries(lambda: world.agency.get("/audit/?export=csv"))
    out["hr export xlsx"] = queries(lambda: world.hr.get("/?export=xlsx"))
    return out


@pytest.fixture(scope="module")
def measured(django_db_setup: Any, django_db_blocker: Any) -> tuple[dict, dict]:
    """Both worlds in one database, one after the other: the second world's lists are measured
    with the first world's rows present too, which only makes the comparison stricter."""
    with django_db_blocker.unblock(), transaction.atomic():
        small = counts(build(3))
        large = counts(build(30))
        transaction.set_rollback(True)
    return small, large


def _names() -> list[str]:
    return (
        [f"agency page {u}" for u in AGENCY_PAGES]
        + [f"hr page {u}" for u in HR_PAGES]
        + [f"agency api {u}" for u in AGENCY_API]
        + [f"hr api {u}" for u in HR_API]
        + ["agency export csv", "agency audit export csv", "hr export xlsx"]
    )


@pytest.mark.parametrize("name", _names())
def test_queries_do_not_grow_with_rows(measured: tuple[dict, dict], name: str) -> None:
    small, large = measured
    (q3, status3), (q30, status30) = small[name], large[name]
    assert status3 == status30 == 200, name
    assert q30 == q3, f"{name}: {q3} queries with 3 rows, {q30} with 30"
