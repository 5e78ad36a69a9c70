"""The list toolkit's promises, on a real table: only whitelisted orders, a filter's default that
"any" can override, a count that stops at its cap, and paging that fetches one row more."""

from __future__ import annotations

import pytest
from django.db.models import QuerySet
from django.test import RequestFactory

from expatsi.employers.models import Employer
from expatsi.web import lists
from tests.factories import EmployerFactory

pytestmark = pytest.mark.django_db


def _by_region(qs: QuerySet[Employer], value: str) -> QuerySet[Employer]:
    return qs.filter(region_code=value)


SPEC = lists.ListSpec(
    columns=(
        lists.Column("name", "Name", ("name",)),
        lists.Column("uscc", "USCC"),  # shown, not sortable
    ),
    default_sort="name",
    filters=(
        lists.Filter(
            "region",
            "Region",
            [("110000", "Beijing"), ("310000", "Shanghai")],
            _by_region,
            default="110000",
        ),
    ),
)


def page(query: str) -> lists.ListPage:
    request = RequestFactory().get(f"/x/{query}")
    return lists.list_page(SPEC, request, Employer.objects.all())


@pytest.fixture
def employers() -> None:
    for i, name in enumerate(["Cedar", "Alder", "Birch"]):
        EmployerFactory(name=f"{name} {i}", region_code="110000")
    EmployerFactory(name="Dogwood", region_code="310000")


def test_sorts_only_by_whitelisted_columns(employers) -> None:
    assert [e.name[0] for e in page("").rows] == ["A", "B", "C"]
    assert [e.name[0] for e in page("?sort=-name").rows] == ["C", "B", "A"]
    # Not a column, or a column that does not sort: the default order.
    for sort in ("uscc", "region_code", "-pk", "name;drop"):
        found = page(f"?sort={sort}")
        assert found.state.sort == "name"
        assert [e.name[0] for e in found.rows] == ["A", "B", "C"]


def test_a_filters_default_applies_until_any_is_asked_for(employers) -> None:
    assert len(page("").rows) == 3  # Beijing by default
    assert len(page("?region=").rows) == 4  # "any", said explicitly
    assert len(page("?region=310000").rows) == 1
    assert len(page("?region=999999").rows) == 4  # not a choice: any, never an error
    assert page("?region=").filtered and not page("").filtered


def test_the_count_stops_at_its_cap_and_paging_fetches_one_more(employers, monkeypatch) -> None:
    monkeypatch.setattr(lists, "COUNT_CAP", 2)
    monkeypatch.setattr(lists, "PER_PAGE_CHOICES", (2, 50))
    first = page("?region=&per_page=2")
    assert first.count_capped and first.count_shown == 2
    assert first.has_next and not first.has_previous
    assert (first.first, first.last) == (1, 2)
    second = page("?region=&per_page=2&page=2")
    assert not second.has_next and second.has_previous
    assert (second.first, second.last) == (3, 4)
    assert "page=2" in first.next_url and "region=" in first.next_url
    assert "&page=" not in second.previous_url  # back to the first page, its plain address
    assert page("?page=-3").state.page == 1 and page("?page=x").state.page == 1
