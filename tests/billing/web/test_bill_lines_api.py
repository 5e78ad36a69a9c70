"""A bill's lines a page at a time (GET /billing/bills/{id}/lines): every line exactly once, in
person order, cursors bound to their bill and page size, the bill's tenancy; and the bill body's
``?include=lines``, bounded."""

from __future__ import annotations

import pytest

from expatsi.billing.api import bills
from expatsi.billing.models import INSURANCE_CODES, BillLine
from tests.billing.web.conftest import API

pytestmark = pytest.mark.django_db


def pages(client, url: str) -> list[list[dict]]:
    out = []
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.content
        body = r.json()
        out.append(body["items"])
        url = body["next_url"]
        assert (url is None) == (body["next_cursor"] is None)
    return out


def test_pages_give_every_line_once_person_after_person(bworld):
    hr = bworld.client("hr_a")
    got = pages(hr, f"{API}/bills/{bworld.bill_a.pk}/lines?limit=3")
    assert [len(p) for p in got] == [3, 3, 3, 1]
    lines = [x for p in got for x in p]
    expected = sorted(
        BillLine.objects.filter(bill=bworld.bill_a).values_list("person_id", "insurance", "pk")
    )
    assert [(x["person_id"], x["insurance"], x["id"]) for x in lines] == [
        (person, INSURANCE_CODES[insurance], pk) for person, insurance, pk in expected
    ]
    body = hr.get(f"{API}/bills/{bworld.bill_a.pk}").json()
    assert body["line_count"] == len(lines) == 10
    assert body["people_count"] == len({x["person_id"] for x in lines}) == 2


def test_a_line_on_a_page_is_the_line_of_the_bill_body(bworld):
    hr = bworld.client("hr_a")
    paged = [x for p in pages(hr, f"{API}/bills/{bworld.bill_a.pk}/lines") for x in p]
    whole = hr.get(f"{API}/bills/{bworld.bill_a.pk}?include=lines").json()["lines"]
    assert sorted(paged, key=lambda x: x["id"]) == sorted(whole, key=lambda x: x["id"])


def test_one_page_when_the_bill_fits(bworld):
    body = bworld.client("hr_a").get(f"{API}/bills/{bworld.bill_a.pk}/lines?limit=10").json()
    assert len(body["items"]) == 10
    assert body["next_cursor"] is None and body["next_url"] is None


def test_a_cursor_serves_only_its_bill_and_page_size(bworld):
    agency = bworld.client("agency")
    first = agency.get(f"{API}/bills/{bworld.bill_a.pk}/lines?limit=3").json()
    cursor = first["next_cursor"]
    for url in (
        f"{API}/bills/{bworld.bill_b.pk}/lines?limit=3&cursor={cursor}",  # another bill
        f"{API}/bills/{bworld.bill_a.pk}/lines?limit=4&cursor={cursor}",  # another size
        f"{API}/bills/{bworld.bill_a.pk}/lines?limit=3&cursor={cursor[:-2]}xx",  # edited
    ):
        r = agency.get(url)
        assert r.status_code == 400, url
        assert (r.json()["code"], r.json()["field"]) == ("invalid_cursor", "cursor")


@pytest.mark.parametrize("limit", ["0", "501", "x"])
def test_a_bad_limit_is_a_400(bworld, limit):
    r = bworld.client("hr_a").get(f"{API}/bills/{bworld.bill_a.pk}/lines?limit={limit}")
    assert r.status_code in (400, 422)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("agency", 200),
        ("agency_sh", 404),  # another region's bill
        ("hr_a", 200),
        ("hr_b", 404),  # another employer's bill
        ("bravo", 404),  # an employee: their own contributions, not the bill
        ("anon", 401),
    ],
)
def test_the_lines_are_scoped_like_the_bill(bworld, role, status):
    r = bworld.client(role).get(f"{API}/bills/{bworld.bill_a.pk}/lines")
    assert r.status_code == status
    assert bworld.client(role).get(f"{API}/bills/{bworld.bill_a.pk}").status_code == status


def test_include_lines_is_bounded(bworld, monkeypatch):
    monkeypatch.setattr(bills, "INCLUDE_LINES_MAX", 9)
    r = bworld.client("hr_a").get(f"{API}/bills/{bworld.bill_a.pk}?include=lines")
    assert r.status_code == 400
    assert (r.json()["code"], r.json()["field"]) == ("too_many_lines", "include")
    assert "/lines" in r.json()["message"]
    r = bworld.client("hr_a").get(f"{API}/bills/{bworld.bill_a.pk}?include=everything")
    assert r.status_code in (400, 422)
