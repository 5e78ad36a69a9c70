"""The bills page at volume: a page at a time, searched, filtered and sorted in the database; the
employer drop-down only while the employers fit in one (an agency's region has thousands)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from expatsi.access.actors import SYSTEM
from expatsi.billing import selectors
from expatsi.billing.models import Bill
from expatsi.billing.services import payment_record
from tests.factories import BillFactory, EmployerFactory

pytestmark = pytest.mark.django_db


def numbers(html: str) -> list[str]:
    if 'id="bills"' not in html:
        return []
    table = html.split('id="bills"', 1)[1].split("</table>", 1)[0]
    return [
        cell.split("</a>", 1)[0].rsplit(">", 1)[1] for cell in table.split('class="mono"><a ')[1:]
    ]


@pytest.fixture
def many(bworld):
    """30 more Beijing employers with a bill each for 2025-09 (the world has two for 2025-08)."""
    for i in range(30):
        employer = EmployerFactory(name=f"Volume Co {i:02d}", region_code="110000")
        BillFactory(employer=employer, month="2025-09", due_date=date(2025, 10, 15))
    return bworld


def test_the_agency_pages_through_bills_sorted_and_filtered(many) -> None:
    agency = many.client("agency")
    first = agency.get("/billing/?per_page=25&sort=number")
    assert first.status_code == 200
    shown = numbers(first.text)
    assert len(shown) == 25 and shown == sorted(shown)
    second = agency.get("/billing/?per_page=25&sort=number&page=2")
    rest = numbers(second.text)
    assert len(rest) == 7 and not set(rest) & set(shown)  # 32 bills in all
    assert sorted(shown + rest) == sorted(Bill.objects.values_list("number", flat=True))
    august = numbers(agency.get("/billing/?month=2025-08").text)
    assert sorted(august) == sorted([many.bill_a.number, many.bill_b.number])
    found = numbers(agency.get("/billing/?q=Volume+Co+07").text)
    assert found == [Bill.objects.get(employer__name="Volume Co 07").number]
    by_code = numbers(agency.get(f"/billing/?q={many.a.uscc}").text)
    assert by_code == [many.bill_a.number]
    nothing = agency.get("/billing/?q=no+such+employer")
    assert "No bill matches." in nothing.text


def test_hr_sees_only_its_employer_in_every_view_of_the_list(many) -> None:
    hr = many.client("hr_a")
    for url in ("/billing/", "/billing/?q=Volume", "/billing/?sort=-employer", "/billing/?page=2"):
        assert set(numbers(hr.get(url).text)) <= {many.bill_a.number}
    sent = hr.get("/billing/?export=csv")
    text = b"".join(sent.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["number", "month"]
    assert [r[0] for r in rows[1:]] == [many.bill_a.number]


def test_past_the_drop_down_the_agency_names_an_employer_by_link(many, monkeypatch) -> None:
    agency = many.client("agency")
    assert 'id="pick-employer"' in agency.get("/billing/").text
    monkeypatch.setattr(selectors, "PICKABLE", 5)
    page = agency.get(f"/billing/?employer={many.a.pk}")
    assert 'id="pick-employer"' not in page.text
    assert numbers(page.text) == [many.bill_a.number]
    # an employer of a region the reader does not serve is not shown: every bill they may see is
    sh_only = many.client("agency_sh").get(f"/billing/?employer={many.a.pk}")
    assert many.bill_a.number not in sh_only.text and many.bill_b.number in sh_only.text


def test_the_chinese_list_says_kinds_and_months_in_words(many) -> None:
    page = many.client("agency").get("/zh-hans/billing/?kind=adjustment").text
    assert "没有匹配的账单" in page
    listed = many.client("agency").get("/zh-hans/billing/").text
    assert "月度账单" in listed and ">adjustment<" not in listed and ">regular<" not in listed


def test_the_payments_page_shows_the_oldest_arrears_and_says_how_many(bworld, monkeypatch) -> None:
    """Both August bills are unpaid on 1 Oct 2025; with one shown, the page says which part."""
    from expatsi.billing.views import payments

    agency = bworld.client("agency")
    both = agency.get("/billing/payments/?on=2025-10-01").text
    assert bworld.bill_a.number in both and bworld.bill_b.number in both
    assert 'id="arrears-more"' not in both
    monkeypatch.setattr(payments, "ARREARS_SHOWN", 1)
    one = agency.get("/billing/payments/?on=2025-10-01").text
    note = one.split('id="arrears-more">', 1)[1].split("</p>", 1)[0]
    assert "The 1 oldest of 2 bills in arrears" in note
    chinese = agency.get("/zh-hans/billing/payments/?on=2025-10-01").text
    assert "共 2 张欠费账单" in chinese
    # a bill paid in full is no longer in arrears, whoever reads
    payment_record(
        actor=SYSTEM,
        employer=bworld.a,
        amount=bworld.bill_a.total,
        received_on=date(2025, 9, 10),
        reference=bworld.bill_a.number,
    )
    after = agency.get("/billing/payments/?on=2025-10-01").text
    arrears = after.split('id="arrears"', 1)[1].split("</table>", 1)[0]
    assert bworld.bill_a.number not in arrears and bworld.bill_b.number in arrears


def test_payments_received_page_search_and_export(bworld) -> None:
    for i in range(30):
        payment_record(
            actor=SYSTEM,
            employer=bworld.a,
            amount=100 + i,
            received_on=date(2025, 9, 1),
            reference=f"REF-{i:03d}",
        )
    agency = bworld.client("agency")

    def references(html: str) -> list[str]:
        table = html.split('id="payments"', 1)[1].split("</table>", 1)[0]
        return [c.split("<", 1)[0] for c in table.split('<td class="mono">')[1:]]

    first = references(agency.get("/billing/payments/?per_page=25&sort=amount").text)
    assert first == [f"REF-{i:03d}" for i in range(25)]
    rest = references(agency.get("/billing/payments/?per_page=25&sort=amount&page=2").text)
    assert rest == [f"REF-{i:03d}" for i in range(25, 30)]
    assert references(agency.get("/billing/payments/?q=REF-017").text) == ["REF-017"]
    assert "No payment matches." in agency.get("/billing/payments/?q=nothing-like-it").text
    sent = agency.get("/billing/payments/?export=csv&q=REF-02")
    rows = list(csv.reader(io.StringIO(b"".join(sent.streaming_content).decode("utf-8-sig"))))
    assert sorted(r[4] for r in rows[1:]) == [f"REF-{i:03d}" for i in range(20, 30)]
    # HR of the other employer sees none of them, however it searches
    assert "REF-0" not in bworld.client("hr_b").get("/billing/payments/?q=REF").text
