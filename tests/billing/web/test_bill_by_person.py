"""A bill read person by person: subtotals per person and the bill's total, the ¥0.00 lines left
out of the page (kept in the exports), explanations on demand, search by name or social security
number, pages of 50 people at a fixed number of queries, and the compact PDF."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from expatsi.billing import bill_people
from expatsi.billing.models import Bill, BillLine
from expatsi.people.models import Person
from tests.factories import BillFactory

pytestmark = pytest.mark.django_db

# One person's lines, worked by hand on a base of ¥10,000.00 (1,000,000 fen):
# pension 16% / 8%, medical 9.8% / 2%, unemployment 0.5% / 0.5%, work injury 0.4% / —,
# maternity merged into medical (¥0.00). Employer 1,600 + 980 + 50 + 40 = ¥2,670.00; employee
# 800 + 200 + 50 = ¥1,050.00; together ¥3,720.00.
BASE = 1_000_000
LINES = (  # insurance, employer rate (ppm), employee rate (ppm), employer fen, employee fen, flags
    (0, 160_000, 80_000, 160_000, 80_000, 0),
    (1, 98_000, 20_000, 98_000, 20_000, 0),
    (2, 5_000, 5_000, 5_000, 5_000, 0),
    (3, 4_000, 0, 4_000, 0, 0),
    (4, 0, 0, 0, 0, BillLine.FLAG_MERGED),
)
PERSON_EMPLOYER, PERSON_EMPLOYEE = 267_000, 105_000


def ssn(i: int) -> str:
    return f"91127619800101{i:04d}"


def make_bill(employer, month: str, people: int) -> Bill:
    """A bill of ``people`` people with the lines above each (written directly: the billing run
    is tested elsewhere; here only reading matters)."""
    persons = Person.objects.bulk_create(
        Person(
            family_name=f"Zed{month[-2:]}x{i:04d}",
            given_names="Test",
            sex="male",
            birth_date=date(1980, 1, 1),
            nationality="DEU",
            ssn=ssn(int(month[-2:]) * 1000 + i),
        )
        for i in range(people)
    )
    bill = BillFactory(
        employer=employer,
        region_code=employer.region_code,
        month=month,
        employer_total=PERSON_EMPLOYER * people,
        employee_total=PERSON_EMPLOYEE * people,
        policy_status="UNCONFIRMED",  # as the 2025 figures are (see test_policy_marks)
    )
    BillLine.objects.bulk_create(
        BillLine(
            bill=bill,
            person=p,
            insurance=ins,
            base=BASE if ins != 4 else 0,
            employer_rate=er,
            employee_rate=ee,
            employer_amount=ea,
            employee_amount=eea,
            flags=flags,
        )
        for p in persons
        for ins, er, ee, ea, eea, flags in LINES
    )
    return bill


def person_block(html: str, person_id: int) -> str:
    match = re.search(rf'<tbody class="person" id="person-{person_id}".*?</tbody>', html, re.S)
    assert match, f"no block for person {person_id}"
    return match.group(0)


def test_each_person_has_their_lines_and_a_subtotal_and_the_bill_its_total(bworld) -> None:
    bill = make_bill(bworld.a, "2025-06", 3)
    r = bworld.client("hr_a").get(reverse("billing:bill", args=[bill.pk]))
    assert r.status_code == 200
    html = r.text
    people = list(Person.objects.filter(bill_lines__bill=bill).distinct().order_by("family_name"))
    assert len(people) == 3
    for person in people:
        block = person_block(html, person.pk)
        assert person.full_name in block and person.ssn in block
        assert block.count("<details>") == 4  # four lines shown, each explained on demand
        assert "¥2,670.00" in block and "¥1,050.00" in block and "¥3,720.00" in block
        assert "Maternity" not in block  # ¥0.00: left out of the page
        assert "1 line of ¥0.00 not shown" in block
    assert html.index(f'id="person-{people[0].pk}"') < html.index(f'id="person-{people[2].pk}"')
    assert "¥8,010.00" in html and "¥3,150.00" in html and "¥11,160.00" in html  # the bill's
    assert "3 lines of ¥0.00 not shown (they are in the downloads)" in html
    # the explanation is there, folded
    assert "Employer 16% of ¥10,000.00 = ¥1,600.00." in html

    csv_text = (
        bworld.client("hr_a")
        .get(reverse("billing:bill_download", args=[bill.pk, "csv"]))
        .content.decode("utf-8-sig")
    )
    rows = list(csv.DictReader(io.StringIO(csv_text.split("\r\n\r\n")[0])))
    assert len(rows) == 15  # every line, the ¥0.00 ones too
    assert sum(r["insurance"] == "maternity" for r in rows) == 3


def test_a_bill_by_person_in_chinese(bworld) -> None:
    bill = make_bill(bworld.a, "2025-06", 2)
    with translation.override("zh-hans"):
        url = reverse("billing:bill", args=[bill.pk])
    r = bworld.client("hr_a").get(url)
    assert r.status_code == 200
    assert "按人员" in r.text and "小计" in r.text and "合计" in r.text
    assert "2,670.00 元" in r.text


def test_search_by_name_or_social_security_number_within_the_bill(bworld) -> None:
    bill = make_bill(bworld.a, "2025-06", 12)
    hr = bworld.client("hr_a")
    url = reverse("billing:bill", args=[bill.pk])
    target = Person.objects.get(family_name="Zed06x0007")
    for query in ("zed06x0007", "Test ZED06X0007", target.ssn):
        r = hr.get(url, {"q": query})
        assert r.status_code == 200
        assert re.findall(r'id="person-(\d+)"', r.text) == [str(target.pk)], query
        assert "1 person" in r.text
        # the bill's total is still the whole bill's, and says so
        assert "every person, not only those shown" in r.text
    r = hr.get(url, {"q": "nobody-like-this"})
    assert 'id="no-people"' in r.text
    # another employer's people are not found through this bill
    r = hr.get(url, {"q": bworld.charlie.family_name})
    assert 'id="no-people"' in r.text


def test_pages_of_fifty_people(bworld) -> None:
    bill = make_bill(bworld.a, "2025-06", 120)
    hr = bworld.client("hr_a")
    url = reverse("billing:bill", args=[bill.pk])
    first = hr.get(url)
    assert len(re.findall(r'id="person-\d+"', first.text)) == 50
    assert "page 1 of 3" in first.text and 'rel="next"' in first.text
    last = hr.get(url, {"page": 3})
    ids = re.findall(r'id="person-(\d+)"', last.text)
    assert len(ids) == 20 and 'rel="prev"' in last.text and 'rel="next"' not in last.text
    assert Person.objects.get(pk=int(ids[-1])).family_name == "Zed06x0119"
    assert hr.get(url, {"page": "999"}).text.count('class="person"') == 20  # past the end: last
    assert hr.get(url, {"page": "x"}).text.count('class="person"') == 50  # not a number: first


def test_a_page_costs_the_same_queries_for_5_or_50_people(bworld) -> None:
    small = make_bill(bworld.a, "2025-06", 5)
    large = make_bill(bworld.a, "2025-07", 50)
    hr = bworld.client("hr_a")
    hr.get(reverse("billing:bill", args=[small.pk]))  # warm the session and the policy caches
    counts = []
    for bill in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            r = hr.get(reverse("billing:bill", args=[bill.pk]))
        assert r.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_the_page_function_pages_in_sql(bworld) -> None:
    bill = make_bill(bworld.a, "2025-06", 60)
    with CaptureQueriesContext(connection) as ctx:
        page = bill_people.bill_page(bill, page=2)
    assert [g.person.family_name for g in page.groups if g.person][:1] == ["Zed06x0050"]
    assert len(page.groups) == 10 and page.count == 60
    assert all(g.employer == PERSON_EMPLOYER and g.employee == PERSON_EMPLOYEE for g in page.groups)
    assert len(ctx.captured_queries) <= 6


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext")


@needs_poppler
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_compact_pdf_has_a_summary_then_one_line_per_person(bworld, tmp_path, lang) -> None:
    bill = make_bill(bworld.a, "2025-06", 40)
    with translation.override(lang):
        url = reverse("billing:bill_download", args=[bill.pk, "pdf"])
    r = bworld.client("hr_a").get(url)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    path = tmp_path / "bill.pdf"
    path.write_bytes(r.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    pages = text.split("\f")
    summary = pages[0]
    if lang == "en":
        assert "Totals per insurance" in summary and "Pension" in summary
        assert "¥64,000.00" in summary  # pension, employer: 40 × ¥1,600.00
        assert "¥148,800.00" in summary  # the bill: 40 × ¥3,720.00
        assert "Provisional" in summary or "UNCONFIRMED" in summary
    else:
        assert "各险种合计" in summary and "养老保险" in summary
        assert "64,000.00 元" in summary
    assert "Zed06x0000" not in summary  # the people come after the summary page
    rest = "\f".join(pages[1:])
    assert rest.count("ZED06X00") == 40  # one line per person
    assert len([p for p in pages if p.strip()]) <= 4  # 40 people: a handful of pages, not 23
