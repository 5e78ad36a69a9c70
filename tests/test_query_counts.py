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
from django.utils import timezone

from expatsi.access.actors import SYSTEM
from expatsi.billing.models import BillingRun, Payment
from expatsi.cards.models import Card
from expatsi.cards.services import card_change_request
from expatsi.cases.models import Case, Finding
from expatsi.cases.scan import evidence_hash
from expatsi.employers.models import Employer
from expatsi.employers.services import api_token_create
from expatsi.notify.models import Notification
from tests.factories import (
    AgencyStaffFactory,
    BillFactory,
    CoverageCertificateFactory,
    EmployerFactory,
    HrMembershipFactory,
    RegisteredEmployerFactory,
    UserFactory,
    WorkInjuryRatingFactory,
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
    "/billing/",
    "/billing/?q=Co&sort=employer",
    "/billing/payments/",
    "/administration/",
    "/administration/staff/",
    "/cases/",
    "/cases/findings/",
    "/administration/employers/{e}/",
    # the benefit lists (their own 3-vs-30 worlds: tests/benefits/test_benefit_lists.py)
    "/benefits/deaths/",
    "/benefits/deaths/all/",
    "/benefits/inheritance/",
    "/benefits/pensions/",
    "/benefits/pensions/waiting/",
    "/benefits/pensions/paid/",
    "/benefits/proofs/",
    "/benefits/payments/",
    "/benefits/payments/pending/",
)
HR_PAGES = (
    "/",
    "/?deadline=on_time",
    "/cards/",
    "/billing/",
    "/billing/payments/",
    "/billing/declarations/",
    "/inbox/",
    "/benefits/deaths/all/",
)
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
    "/billing/runs?limit=100",
    "/cases?limit=100",
    "/cases/findings?limit=100",
    "/employers/{e}/work-injury-ratings?limit=100",
    "/employers/{e}/api-tokens?limit=100",
    "/employees/{p}/certificates?limit=100",
)
HR_API = (
    "/employees?limit=100",
    "/employments?limit=100",
    "/registrations?limit=100",
    "/cards?limit=100",
    "/cards/applications?limit=100",
    "/billing/declarations?employer_id={e}&period={month}&limit=100",
)


@dataclass
class World:
    agency: Client
    hr: Client
    ids: dict[str, Any]


_worlds = iter(range(1, 1000))


def build(n: int) -> World:
    """``n`` of everything, for one employer's HR and an officer of every region."""
    w = next(_worlds)
    employer = RegisteredEmployerFactory(name=f"Query World {w} Co., Ltd.")
    hr_user = HrMembershipFactory(user=UserFactory(username=f"qc-hr-{w}"), employer=employer).user
    first = None
    for i in range(n):
        reg = hire(employer, actor=SYSTEM)
        first = first or reg.person
        HrMembershipFactory(user=UserFactory(), employer=employer)
        Notification.objects.create(
            user=hr_user,
            kind="registration_accepted",
            params={"person": reg.person.full_name, "ssn": "—"},
            subject="Registration accepted",
            body="Registration accepted",
            language="en",
        )
        api_token_create(actor=SYSTEM, employer_id=employer.pk, name=f"system {i}")
        WorkInjuryRatingFactory(
            employer=employer,
            effective_from=date(1990 + i, 1, 1),
            effective_to=date(1990 + i, 12, 31),
        )
        CoverageCertificateFactory(person=first, number=f"COC-{w}-{i}")
        BillingRun.objects.create(region_code="110000", month=f"{1990 + i}-01", status="done")
        # The hire put the person's card on file through the card steps (its first-entry
        # application decided); a change of position leaves one application awaiting a decision.
        card_change_request(
            actor=SYSTEM,
            card_id=Card.objects.get(person=reg.person).pk,
            changes={"position": "Lead engineer"},
            change_date=timezone.localdate(),
        )
        other: Employer = EmployerFactory()
        BillFactory(employer=other, employer_total=10_000, employee_total=5_000)
        Payment.objects.create(employer=other, amount=10_000, received_on=date(2025, 9, 1))
        evidence = {"query-count": f"{w}-{i}"}
        Finding.objects.create(
            rule="unregistered",
            key=f"qc|{w}|{i}",
            region_code=employer.region_code,
            employer=other,
            person=reg.person,
            period=f"2025-{i:02d}",
            severity="high",
            amount_fen=1_000,
            evidence=evidence,
            evidence_hash=evidence_hash(evidence),
            found_on=date(2025, 11, 20),
            seen_on=date(2025, 11, 20),
        )
        Case.objects.create(
            number=f"QC-{w}-{i}", region_code=other.region_code, employer=other, opened_by="qc"
        )
    officer = AgencyStaffFactory(user=UserFactory(username=f"qc-officer-{w}", is_staff=True)).user
    enrol(officer)
    agency, hr = Client(), Client()
    verified_login(agency, officer)
    verified_login(hr, hr_user)
    assert first is not None
    month = timezone.localdate().strftime("%Y-%m")  # the hires work now: their year's list
    return World(agency=agency, hr=hr, ids={"e": employer.pk, "p": first.pk, "month": month})


def queries(fetch: Callable[[], Any]) -> tuple[int, int, int | None]:
    """Queries asked, the status, and for an API list how many items it holds."""
    with CaptureQueriesContext(connection) as ctx:
        response = fetch()
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    items = None
    if response.get("Content-Type", "").startswith("application/json"):
        items = response.json().get("count")
    return len(ctx.captured_queries), response.status_code, items


def counts(world: World) -> dict[str, tuple[int, int, int | None]]:
    out: dict[str, tuple[int, int, int | None]] = {}
    # The audit page checks the hash chain from the newest signed checkpoint on: work that grows
    # with the events written since the last visit, not with the rows shown. A first visit signs
    # the head, so the measured one walks nothing new in either world.
    world.agency.get("/audit/")
    ids = world.ids
    for url in AGENCY_PAGES:
        out[f"agency page {url}"] = queries(lambda u=url: world.agency.get(u.format(**ids)))
    for url in HR_PAGES:
        out[f"hr page {url}"] = queries(lambda u=url: world.hr.get(u.format(**ids)))
    for url in AGENCY_API:
        out[f"agency api {url}"] = queries(lambda u=url: world.agency.get(API + u.format(**ids)))
    for url in HR_API:
        out[f"hr api {url}"] = queries(lambda u=url: world.hr.get(API + u.format(**ids)))
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
    (q3, status3, items3), (q30, status30, items30) = small[name], large[name]
    assert status3 == status30 == 200, name
    # An API list: it did grow, or the comparison would prove nothing (the collection is one row
    # per region and month, whatever the number of bills).
    if items3 is not None and "collection" not in name:
        assert items30 is not None and items30 >= items3 + 27, (name, items3, items30)
    assert q30 == q3, f"{name}: {q3} queries with 3 rows, {q30} with 30"
