"""Deep pages by cursor (issues 13 and 14: lists at a million rows): walking a list with "Next"
shows every row once, in the order the column promises — ties broken by id, empty values last
ascending and first descending — and "Previous" walks back through the very same pages; a deep
page asks the database as many questions as the first; a garbled or foreign cursor shows the first
page with a note, never an error.

The lists are the real ones (cards, the card decision queue, employers) on a few hundred rows with
deliberate ties, seven rows a page, so a walk goes twenty pages deep."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from expatsi.access.actors import SYSTEM
from expatsi.cards import list_views
from expatsi.cards.models import ApplicationKind, Card, CardApplication, CardStatus
from expatsi.employers.admin_views import employers_spec
from expatsi.employers.models import Employer
from expatsi.web import lists
from tests.factories import EmployerFactory, PersonFactory
from tests.portal.factories import make_agency
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db

PER_PAGE = 7
FAMILIES = ["BAKER", "ADLER", "CLAES", "ADLER", "DUMAS"]  # ADLER twice as often: ties
GIVEN = ["ANNA", "BEN", "ANNA"]
EMPLOYERS = ["GAMMA", "ALPHA", "DELTA", "BETA"]
CARDS = 150
BASE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lists, "PER_PAGE_CHOICES", (PER_PAGE, *lists.PER_PAGE_CHOICES))


@pytest.fixture
def cards() -> list[Card]:
    employers = [
        EmployerFactory(name=name, region_code="110000" if i % 2 else "310000")
        for i, name in enumerate(EMPLOYERS)
    ]
    made: list[Card] = []
    for i in range(CARDS):
        person = PersonFactory(passport=None, family_name=FAMILIES[i % 5], given_names=GIVEN[i % 3])
        made.append(
            Card.objects.create(
                person=person,
                employer=employers[i % 4],
                card_number=None if i % 4 == 0 else f"IC{(i * 37) % 1000:04d}",
                permit_number=["", "P02", "P01"][i % 3],
                valid_to=None if i % 5 == 0 else date(2027, 1, 1) + timedelta(days=i % 3),
                category="B",
                position="Engineer",
                status=CardStatus.ACTIVE if i % 2 else CardStatus.APPLIED,
            )
        )
    # Last changes in six moments, microseconds apart (a key cut to milliseconds would tie them).
    for i, card in enumerate(made):
        stamp = BASE + timedelta(microseconds=(i % 6) * 137)
        Card.objects.filter(pk=card.pk).update(updated_at=stamp)
    return list(Card.objects.select_related("person", "employer").order_by("pk"))


def _page(spec: lists.ListSpec, qs: QuerySet[Any], query: str) -> lists.ListPage:
    return lists.list_page(spec, RequestFactory().get(f"/x/{query}"), qs)


def _expected(rows: Sequence[Any], value: Callable[[Any], Any], descending: bool) -> list[int]:
    """The promised order, worked out in Python: the column's value with empty values as the
    largest, then id, the whole reversed for descending."""

    def key(row: Any) -> tuple[Any, ...]:
        v = value(row)
        parts = v if isinstance(v, tuple) else (v,)
        return (*((p is None, p if p is not None else 0) for p in parts), row.pk)

    return [r.pk for r in sorted(rows, key=key, reverse=descending)]


def _walk(spec: lists.ListSpec, qs: QuerySet[Any], sort: str) -> list[lists.ListPage]:
    """Every page by "Next", then back by "Previous": the pages must be the same ones."""
    forward: list[lists.ListPage] = []
    url = f"?sort={sort}&per_page={PER_PAGE}"
    while True:
        found = _page(spec, qs, url)
        assert found.state.sort == sort and not found.state.cursor_invalid
        forward.append(found)
        if not found.has_next:
            break
        url = found.next_url
        assert len(forward) < 100
    for n, found in enumerate(forward, start=1):
        assert found.state.page == n and found.first == (n - 1) * PER_PAGE + 1
        assert found.has_previous == (n > 1)
    if len(forward) > 2:
        assert "cursor=" in forward[1].next_url  # deep pages seek, they do not count rows off
    back = forward[-1]
    for n in range(len(forward) - 1, 0, -1):
        back = _page(spec, qs, back.previous_url)
        assert back.state.page == n, sort
        assert [r.pk for r in back.rows] == [r.pk for r in forward[n - 1].rows], (sort, n)
    assert not back.has_previous
    return forward


CARD_COLUMNS: dict[str, Callable[[Card], Any]] = {
    "holder": lambda c: (c.person.family_name, c.person.given_names),
    "card": lambda c: c.card_number,
    "permit": lambda c: c.permit_number,
    "employer": lambda c: c.employer.name,
    "valid_to": lambda c: c.valid_to,
    "updated": lambda c: c.updated_at,
}


def test_every_card_column_both_ways_walks_every_row_once_in_order(cards) -> None:
    assert {c.key for c in list_views.CARDS.columns if c.sortable} == set(CARD_COLUMNS)
    qs = Card.objects.select_related("person", "employer")
    for (key, value), descending in itertools.product(CARD_COLUMNS.items(), (False, True)):
        sort = f"-{key}" if descending else key
        pages = _walk(list_views.CARDS, qs, sort)
        shown = [r.pk for p in pages for r in p.rows]
        assert shown == _expected(cards, value, descending), sort
        assert len(pages) == -(-CARDS // PER_PAGE)


def test_a_filter_and_a_search_stay_with_the_cursor(cards) -> None:
    qs = Card.objects.select_related("person", "employer")
    pages = _walk(list_views.CARDS, qs, "-valid_to")
    assert sum(len(p.rows) for p in pages) == CARDS
    active = [c for c in cards if c.status == CardStatus.ACTIVE and c.person.family_name == "ADLER"]
    url = f"?status=active&q=adler&sort=valid_to&per_page={PER_PAGE}"
    shown: list[int] = []
    while url:
        found = _page(list_views.CARDS, qs, url)
        shown += [r.pk for r in found.rows]
        url = found.next_url if found.has_next else ""
        if url:
            assert "status=active" in url and "q=adler" in url
    assert shown == _expected(active, lambda c: c.valid_to, False)


@pytest.fixture
def applications(cards) -> list[CardApplication]:
    for i, card in enumerate(cards[:90]):
        app = CardApplication.objects.create(
            card=card, kind=ApplicationKind.EXTENSION, filed_as="employer"
        )
        CardApplication.objects.filter(pk=app.pk).update(filed_at=BASE + timedelta(hours=i % 4))
    return list(
        CardApplication.objects.select_related("card__person", "card__employer").order_by("pk")
    )


def test_the_decision_queue_walks_by_holder_employer_and_filing_both_ways(applications) -> None:
    qs = CardApplication.objects.select_related("card", "card__person", "card__employer").filter(
        status="submitted"
    )
    columns: dict[str, Callable[[CardApplication], Any]] = {
        "holder": lambda a: (a.card.person.family_name, a.card.person.given_names),
        "employer": lambda a: a.card.employer.name,
        "filed": lambda a: a.filed_at,
    }
    assert {c.key for c in list_views.QUEUE.columns if c.sortable} == set(columns)
    for (key, value), descending in itertools.product(columns.items(), (False, True)):
        sort = f"-{key}" if descending else key
        shown = [r.pk for p in _walk(list_views.QUEUE, qs, sort) for r in p.rows]
        assert shown == _expected(applications, value, descending), sort


def test_employers_walk_by_every_column_and_by_a_mixed_order(cards) -> None:
    for i in range(60):  # many names alike, several regions: ties on both order fields
        EmployerFactory(name=f"CO{i % 7}", region_code=["110000", "310000", "440000"][i % 3])
    everyone = list(Employer.objects.order_by("pk"))
    spec = employers_spec(SYSTEM)
    columns: dict[str, Callable[[Employer], Any]] = {
        "name": lambda e: e.name,
        "uscc": lambda e: e.uscc,
        "region": lambda e: (e.region_code, e.name),
        "created": lambda e: e.created_at,
    }
    assert {c.key for c in spec.columns if c.sortable} == set(columns)
    for (key, value), descending in itertools.product(columns.items(), (False, True)):
        sort = f"-{key}" if descending else key
        shown = [r.pk for p in _walk(spec, Employer.objects.all(), sort) for r in p.rows]
        assert shown == _expected(everyone, value, descending), sort
    # A column whose fields run in opposite directions (region up, name down) takes the general
    # path of the toolkit; it must page as truly.
    mixed = lists.ListSpec(
        columns=(lists.Column("rn", "Region", ("region_code", "-name")),), default_sort="rn"
    )
    for descending in (False, True):
        shown = [
            r.pk
            for p in _walk(mixed, Employer.objects.all(), "-rn" if descending else "rn")
            for r in p.rows
        ]
        by_name_down = sorted(everyone, key=lambda e: e.pk, reverse=descending)
        by_name_down.sort(key=lambda e: e.name, reverse=not descending)
        by_name_down.sort(key=lambda e: e.region_code, reverse=descending)
        assert shown == [e.pk for e in by_name_down]


def _cursor(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


def test_a_bad_cursor_shows_the_first_page_with_a_note(cards) -> None:
    qs = Card.objects.select_related("person", "employer")
    first = _page(list_views.CARDS, qs, f"?per_page={PER_PAGE}")
    third = _page(list_views.CARDS, qs, _page(list_views.CARDS, qs, first.next_url).next_url)
    assert third.state.page == 3 and not third.state.cursor_invalid
    token = _cursor(third.next_url)
    bad = {
        "garbled": token[:-3] + ("abc" if not token.endswith("abc") else "xyz"),
        "nonsense": "%%%'; drop table cards_card; --",
        "empty payload": "e30:1abcde:xyz",
        "too long": "x" * 5000,
    }
    for why, cursor in bad.items():
        found = _page(list_views.CARDS, qs, f"?per_page={PER_PAGE}&page=4&cursor={cursor}")
        assert found.state.cursor_invalid and found.state.page == 1, why
        assert [r.pk for r in found.rows] == [r.pk for r in first.rows], why
    # Plain page numbers stay for the first pages only (an OFFSET that deep is cheap).
    clamped = _page(list_views.CARDS, qs, f"?per_page={PER_PAGE}&page=50")
    assert clamped.state.page == lists.OFFSET_PAGES and not clamped.state.cursor_invalid
    assert clamped.first == (lists.OFFSET_PAGES - 1) * PER_PAGE + 1
    # A real cursor, but for another sort, page size or filter: not this list's.
    for other in ("sort=card", "per_page=25", "status=active", "q=adler"):
        found = _page(list_views.CARDS, qs, f"?per_page={PER_PAGE}&{other}&cursor={token}")
        assert found.state.cursor_invalid and found.state.page == 1, other


def test_a_bad_cursor_on_the_pages_themselves_is_never_an_error(cards) -> None:
    client = Client()
    verified_login(client, make_agency())
    for url in ("/cards/", "/cards/queue/", "/registrations/", "/audit/"):
        for cursor in ("garbage", "e30:1abcde:xyz", "%00%ff", "a" * 3000):
            r = client.get(url, {"cursor": cursor, "page": "7"})
            assert r.status_code == 200, (url, cursor)
            assert r.context["list"].state.cursor_invalid
            assert "That page link no longer fits this list" in r.content.decode()


def test_a_deep_page_asks_as_many_questions_as_the_first(cards) -> None:
    client = Client()
    verified_login(client, make_agency())
    for sort in ("-updated", "valid_to", "holder", "employer"):
        url = f"/cards/?sort={sort}&per_page={PER_PAGE}"
        with CaptureQueriesContext(connection) as first_page:
            r = client.get(url)
        deep = r.context["list"]
        for _ in range(12):
            deep = _page(
                list_views.CARDS, Card.objects.select_related("person", "employer"), deep.next_url
            )
        assert deep.state.page == 13 and deep.rows
        with CaptureQueriesContext(connection) as deep_page:
            r = client.get("/cards/" + deep.next_url)
        assert r.status_code == 200 and r.context["list"].state.page == 14
        assert r.context["list"].rows
        assert len(deep_page) == len(first_page), sort
        # No OFFSET anywhere in the deep page's questions.
        assert not any(" OFFSET " in q["sql"].upper() for q in deep_page.captured_queries)
