"""On PostgreSQL, every sort of the cards list, the card decision queue and the employers list is
served by an index — on the first page and on a deep page reached by cursor — so a page costs the
same at a million rows as at a thousand (issue 14).

The planner is asked with sorting switched off (``enable_sort``, ``enable_incremental_sort``): if an index can deliver
the order it is used, and a plan that still sorts proves no index can. That makes the test about
the indexes existing and matching the list's order (``… NULLS LAST``, the id tiebreaker, the
queue's status filter), not about a cost estimate on a few thousand rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from expatsi.access.actors import SYSTEM
from expatsi.cards import list_views
from expatsi.cards.models import ApplicationKind, Card, CardApplication, CardStatus
from expatsi.employers.admin_views import employers_spec
from expatsi.employers.models import Employer
from expatsi.people.models import Person
from expatsi.web import lists
from tests.factories import EmployerFactory, PersonFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner"),
]

ROWS = 3000


@pytest.fixture
def world() -> None:
    employers = Employer.objects.bulk_create(
        EmployerFactory.build(name=f"CO{i % 97:03d}", region_code=["110000", "310000"][i % 2])
        for i in range(ROWS // 10)
    )
    people = Person.objects.bulk_create(
        PersonFactory.build(passport=None, family_name=f"N{i % 311:03d}") for i in range(ROWS)
    )
    base = datetime(2026, 1, 1, tzinfo=UTC)
    cards = Card.objects.bulk_create(
        Card(
            person=p,
            employer=employers[i % 5],  # a few large employers: an HR reader pages deep
            card_number=None if i % 9 == 0 else f"IC{i:06d}",
            permit_number=f"P{i % 500:05d}",
            valid_to=None if i % 7 == 0 else date(2027, 1, 1) + timedelta(days=i % 400),
            category="B",
            position="Engineer",
            status=CardStatus.ACTIVE if i % 3 else CardStatus.APPLIED,
        )
        for i, p in enumerate(people)
    )
    Card.objects.update(updated_at=base)  # one moment for all: the id decides, as at bulk loads
    CardApplication.objects.bulk_create(
        CardApplication(
            card=c,
            kind=ApplicationKind.EXTENSION,
            filed_as="employer",
            status="submitted" if i % 4 else "approved",
        )
        for i, c in enumerate(cards)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@pytest.fixture
def no_sorting() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SET enable_sort = off")
        cursor.execute("SET enable_incremental_sort = off")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_sort")
        cursor.execute("RESET enable_incremental_sort")


def _plans(spec: lists.ListSpec, qs: QuerySet[Any], sort: str) -> list[str]:
    """The plans of the row query of the first page and of a page three cursors deep."""
    out = []
    url = f"?sort={sort}&per_page=25"
    for n in range(4):
        with CaptureQueriesContext(connection) as asked:
            found = lists.list_page(spec, RequestFactory().get(f"/x/{url}"), qs)
        if n in (0, 3):
            assert found.rows and found.state.page == n + 1
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + asked.captured_queries[0]["sql"])
                out.append("\n".join(row[0] for row in cursor.fetchall()))
        url = found.next_url
    return out


def _sorts(spec: lists.ListSpec, skip: set[str]) -> list[str]:
    keys = [c.key for c in spec.columns if c.sortable and c.key not in skip]
    return [s for k in keys for s in (k, f"-{k}")]


# Sorts by a related table's column (the holder's name, the employer's name of a card) order rows
# of one table by another's: no index of either serves that order with the id tiebreaker. They are
# bounded by the filters and scopes, and a deep page costs what the first does (both sort the
# matching rows once, the deep one only the rows after its cursor).
JOINED = {"holder", "employer"}


def _assert_indexed(plans: list[str], what: str) -> None:
    for plan in plans:
        assert "Sort" not in plan, f"{what}: sorted, no index serves the order\n{plan}"
        assert "Index" in plan, f"{what}\n{plan}"


def test_every_own_column_sort_of_the_cards_list_is_an_index_range(world, no_sorting) -> None:
    qs = Card.objects.select_related("person", "employer")
    for sort in _sorts(list_views.CARDS, JOINED):
        _assert_indexed(_plans(list_views.CARDS, qs, sort), f"cards {sort}")
    for sort in ("-updated", "updated"):  # the status filter, and an HR reader's employer
        _assert_indexed(
            _plans(list_views.CARDS, qs.filter(status="active"), sort), f"active cards {sort}"
        )
        one = Employer.objects.order_by("pk").first()
        _assert_indexed(
            _plans(list_views.CARDS, qs.filter(employer=one), sort), f"one employer's {sort}"
        )


def test_the_decision_queue_by_filing_is_an_index_range(world, no_sorting) -> None:
    qs = CardApplication.objects.select_related("card", "card__person", "card__employer").filter(
        status="submitted"
    )
    for sort in _sorts(list_views.QUEUE, JOINED):
        _assert_indexed(_plans(list_views.QUEUE, qs, sort), f"queue {sort}")


def test_every_sort_of_the_employers_list_is_an_index_range(world, no_sorting) -> None:
    spec = employers_spec(SYSTEM)
    for sort in _sorts(spec, set()):
        _assert_indexed(_plans(spec, Employer.objects.all(), sort), f"employers {sort}")


def test_a_card_check_finds_the_photo_by_index(world: None) -> None:
    """Each valid check of a card's code asks whether a card with its photo hash has a photo
    (cards/verification.py ``_photo_url``): an index lookup, not a scan of every card."""
    query = Card.objects.filter(photo_hash="ab" * 16, photo__isnull=False).values("pk")[:1]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "card_photo_hash" in plan, plan


def test_every_own_column_sort_of_the_bills_list_is_an_index_range(world, no_sorting) -> None:
    """The bills list (billing/views/bills.py) for an agency of every region, of one region, and
    for one employer's HR: newest month first by default, and each of its own columns."""
    from expatsi.billing.models import Bill, BillKind
    from expatsi.billing.views.bills import BILLS

    employers = list(Employer.objects.order_by("pk"))
    Bill.objects.bulk_create(
        Bill(
            employer=e,
            region_code=e.region_code,
            month=f"2025-{m:02d}",
            kind=BillKind.REGULAR,
            number=f"{e.region_code}-2025-{m:02d}-{e.pk:08d}",
            policy_version="test",
            employer_total=100,
            employee_total=50,
            due_date=date(2025, m + 1, 15),
        )
        for e in employers
        for m in range(1, 10)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_bill")
    qs = Bill.objects.select_related("employer")
    for sort in _sorts(BILLS, JOINED):
        _assert_indexed(_plans(BILLS, qs, sort), f"bills {sort}")
    for sort in ("-month", "month"):
        _assert_indexed(_plans(BILLS, qs.filter(region_code="110000"), sort), f"region {sort}")
        hr = qs.filter(employer=employers[0])  # nine bills: the first page is the whole list
        with CaptureQueriesContext(connection) as asked:
            lists.list_page(BILLS, RequestFactory().get(f"/x/?sort={sort}&per_page=25"), hr)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + asked.captured_queries[0]["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        _assert_indexed([plan], f"HR {sort}")
