"""The benefit lists at volume (issue #13): deaths, inheritance claims, pension applications,
certificates, pensions being paid and payouts waiting for a run — each searched, filtered,
sorted, paged by cursor and exported on its own page, within the reader's regions; the pages
that showed a fixed slice show the first rows, the count and a link to the whole list."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from expatsi.audit.models import AuditEvent
from expatsi.benefits.models import (
    BankAccount,
    ClaimStatus,
    DeathReport,
    InheritanceClaim,
    Payout,
    Pension,
    PensionStatus,
    ProofOfLife,
)
from expatsi.employers.models import Employer
from expatsi.people.models import Person
from tests.billing.conftest import employ, make_person
from tests.factories import EmployerFactory
from tests.portal.factories import make_agency, make_hr
from tests.security.test_chinese_pages_no_codes import codes, english_msgids, visible_text
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 10, 1, 9, tzinfo=UTC)


def _account(person: Person) -> BankAccount:
    return BankAccount.objects.create(
        person=person, holder=person.family_name, country="FRA", bic="PSSTFRPPPAR", currency="EUR"
    )


def build(employer: Employer, n: int, prefix: str, region: str = "110000") -> None:
    """``n`` rows of every list, a day apart (index 0 the oldest), of people working for
    ``employer``: ``{prefix}D{i}`` died, their heirs' claim filed, and their pension application
    waits (every third for a second approval); ``{prefix}R{i}`` is paid a pension (every fourth
    suspended), proof of life due ``i * 10 - 50`` days from today, a certificate sent and the
    month's payout waiting for a run."""
    today = timezone.localdate()
    for i in range(n):
        dead = make_person(f"{prefix}D{i:02d}", "FRA", birth=date(1960, 1, 1))
        paid = make_person(f"{prefix}R{i:02d}", "DEU", birth=date(1960, 1, 1))
        for p in (dead, paid):
            employ(p, employer, 30000, start=date(2020, 1, 1))
        death = DeathReport.objects.create(
            person=dead,
            region_code=region,
            died_on=date(2025, 1, 1) + timedelta(days=i),
            reporter="family" if i % 2 else "employer",
            reporter_name="Next of kin",
            recorded_by_label="test",
        )
        DeathReport.objects.filter(pk=death.pk).update(recorded_at=T0 + timedelta(days=i))
        claim = InheritanceClaim.objects.create(
            death=death,
            person=dead,
            region_code=region,
            status=ClaimStatus.SECOND_APPROVAL if i % 3 == 0 else ClaimStatus.SUBMITTED,
            filed_by_label="test",
            balance=500_000 + i,
        )
        InheritanceClaim.objects.filter(pk=claim.pk).update(filed_at=T0 + timedelta(days=i))
        common = {
            "region_code": region,
            "applied_by": "test",
            "first_month": "2026-01",
            "basic": 300_000,
            "account": 12_345 + i,
            "total": 312_345 + i,
            "figures_status": "confirmed",
        }
        Pension.objects.create(
            person=dead,
            applied_on=date(2025, 11, 1) + timedelta(days=i),
            bank_account=_account(dead),
            status=PensionStatus.SECOND_APPROVAL if i % 3 == 0 else PensionStatus.SUBMITTED,
            **common,
        )
        pension = Pension.objects.create(
            person=paid,
            applied_on=date(2025, 1, 1),
            bank_account=_account(paid),
            status=PensionStatus.SUSPENDED if i % 4 == 0 else PensionStatus.AWARDED,
            proof_due=today + timedelta(days=i * 10 - 50),
            **common,
        )
        proof = ProofOfLife.objects.create(
            pension=pension,
            person=paid,
            route="embassy" if i % 2 else "notarised",
            verified_on=date(2025, 9, 1) + timedelta(days=i),
            submitted_by="test",
        )
        ProofOfLife.objects.filter(pk=proof.pk).update(submitted_at=T0 + timedelta(days=i))
        payout = Payout.objects.create(
            pension=pension,
            month="2026-01",
            person=paid,
            region_code=region,
            kind="pension",
            amount=312_345 + i,
            currency="EUR",
            bank_account=pension.bank_account,
            end_to_end_id=f"E2E-{prefix}{region}-{i:03d}",
            created_by="test",
        )
        Payout.objects.filter(pk=payout.pk).update(created_at=T0 + timedelta(days=i))


@dataclass(frozen=True)
class L:
    """One list as a test reads it: its address, table, whose rows (``D`` or ``R``), a filter
    with the indices it keeps, and a sort whose first row is the newest (index 29)."""

    url: str
    table: str
    who: str
    filter: str
    kept: list[int]
    newest: str
    overview: str
    order: tuple[int, ...] = tuple(range(30))  # the default order's indices


LISTS = {
    "deaths": L(
        "/benefits/deaths/all/",
        "deaths",
        "D",
        "reporter=family",
        list(range(29, 0, -2)),
        "sort=-died",
        "/benefits/deaths/",
        tuple(range(29, -1, -1)),  # the newest report first
    ),
    "claims": L(
        "/benefits/inheritance/",
        "claims",
        "D",
        "status=second_approval",
        list(range(0, 30, 3)),
        "sort=-filed",
        "/benefits/deaths/",
    ),
    "waiting": L(
        "/benefits/pensions/waiting/",
        "waiting",
        "D",
        "status=second_approval",
        list(range(0, 30, 3)),
        "sort=-applied",
        "/benefits/pensions/",
    ),
    "paid": L(
        "/benefits/pensions/paid/",
        "running",
        "R",
        "status=suspended",
        list(range(0, 30, 4)),
        "sort=-due",
        "/benefits/pensions/",
    ),
    "proofs": L(
        "/benefits/proofs/",
        "proof-queue",
        "R",
        "route=embassy",
        list(range(1, 30, 2)),
        "sort=-submitted",
        "/benefits/pensions/",
    ),
    "pending": L(
        "/benefits/payments/pending/",
        "pending",
        "R",
        "kind=pension",
        list(range(30)),
        "sort=-created",
        "/benefits/payments/",
    ),
}

ROW = re.compile(r'<tr id="[a-z]+-\d+">.*?<a href="[^"]+">([A-Z0-9]+) ', re.S)


def names(html: str, table: str) -> list[str]:
    if f'id="{table}"' not in html:
        return []
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return ROW.findall(body)


def export_names(response: Any, column: int) -> list[str]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return [r[column] for r in list(csv.reader(io.StringIO(text)))[1:]]


@pytest.fixture
def world() -> tuple[Employer, Client]:
    beijing = EmployerFactory(name="Beijing Lists Co.", region_code="110000")
    shanghai = EmployerFactory(name="Shanghai Lists Co.", region_code="310000")
    build(beijing, 30, "B")
    build(shanghai, 2, "S", region="310000")  # another region's: never a Beijing officer's
    officer = make_agency("lists-officer", regions="110000")
    return beijing, verified_login(Client(), officer)


def expected(who: str, indices: Any) -> list[str]:
    return [f"B{who}{i:02d}" for i in indices]


@pytest.mark.parametrize("key", list(LISTS))
def test_each_list_pages_searches_filters_sorts_and_exports(
    world: tuple[Employer, Client], key: str
) -> None:
    spec = LISTS[key]
    _employer, staff = world
    page = staff.get(f"{spec.url}?per_page=25")
    assert page.status_code == 200
    html = page.content.decode()
    assert names(html, spec.table) == expected(spec.who, spec.order[:25])
    # "Next" is a signed cursor: the rest of the rows, never the other region's
    nxt = re.search(r'href="(\?[^"]*cursor=[^"]+)" rel="next"', html)
    assert nxt is not None
    rest = staff.get(spec.url + nxt.group(1).replace("&amp;", "&")).content.decode()
    assert names(rest, spec.table) == expected(spec.who, spec.order[25:])
    assert "Rows 26–30 of 30" in rest
    # a garbled cursor: the first page and a note, not an error
    garbled = staff.get(f"{spec.url}?per_page=25&cursor=nonsense")
    assert garbled.status_code == 200
    assert 'id="list-cursor-note"' in garbled.content.decode()
    found = staff.get(f"{spec.url}?q=B{spec.who}07").content.decode()
    assert names(found, spec.table) == [f"B{spec.who}07"]
    assert names(staff.get(f"{spec.url}?q=nobody").content.decode(), spec.table) == []
    kept = staff.get(f"{spec.url}?{spec.filter}").content.decode()
    assert names(kept, spec.table) == expected(spec.who, spec.kept)
    newest = names(staff.get(f"{spec.url}?{spec.newest}").content.decode(), spec.table)
    assert newest[:2] == expected(spec.who, [29, 28])
    # sorted by name (through the person), paged on by the cursor of that order
    by_name = staff.get(f"{spec.url}?sort=-person&per_page=25").content.decode()
    assert names(by_name, spec.table) == expected(spec.who, range(29, 4, -1))
    nxt = re.search(r'href="(\?[^"]*cursor=[^"]+)" rel="next"', by_name)
    assert nxt is not None
    rest = staff.get(spec.url + nxt.group(1).replace("&amp;", "&")).content.decode()
    assert names(rest, spec.table) == expected(spec.who, range(4, -1, -1))
    # the export: every row the filter keeps, in the page's order, no other region's
    person_column = 2 if key in ("proofs", "pending") else 1
    rows = export_names(staff.get(f"{spec.url}?export=csv&{spec.filter}"), person_column)
    assert rows == expected(spec.who, spec.kept)
    everything = export_names(staff.get(f"{spec.url}?export=csv"), person_column)
    assert everything == expected(spec.who, spec.order)
    xlsx = staff.get(f"{spec.url}?export=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    cells = [r[person_column] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert cells == expected(spec.who, spec.order)
    # each export is a bulk read of personal data: audited, with the list's name
    assert AuditEvent.objects.filter(action="benefits.list_export").count() == 3


@pytest.mark.parametrize("key", list(LISTS))
def test_another_regions_rows_never_appear(world: tuple[Employer, Client], key: str) -> None:
    spec = LISTS[key]
    _employer, staff = world
    html = staff.get(f"{spec.url}?per_page=200").content.decode()
    assert "SD00 T" not in html and "SR00 T" not in html
    assert "Shanghai" not in html.split('id="list-f-region"', 1)[1].split("</select>", 1)[0]
    # asking for the other region's rows by filter or by name finds nothing
    # a region the reader does not cover is not a choice: the filter is ignored
    shown = names(staff.get(f"{spec.url}?region=310000").content.decode(), spec.table)
    assert shown == expected(spec.who, spec.order)
    assert names(staff.get(f"{spec.url}?q=S{spec.who}00").content.decode(), spec.table) == []
    text = b"".join(staff.get(f"{spec.url}?export=csv").streaming_content).decode("utf-8-sig")
    assert "SD00" not in text and "SR00" not in text and "310000" not in text
    overview = staff.get(spec.overview).content.decode()
    assert "SD00 T" not in overview and "SR00 T" not in overview


def test_the_values_are_words_and_yuan(world: tuple[Employer, Client]) -> None:
    _employer, staff = world
    paid = staff.get("/benefits/pensions/paid/?q=BR04").content.decode()
    assert "Suspended: no proof of life" in paid and "¥3,123.49" in paid
    pending = staff.get("/benefits/payments/pending/?q=BR01").content.decode()
    assert "Monthly pension 2026-01" in pending and "¥3,123.46" in pending
    assert "Beijing" in pending
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    staff.get("/benefits/payments/pending/?export=csv&q=BR01").streaming_content
                ).decode("utf-8-sig")
            )
        )
    )
    assert rows[0][7] == "amount_yuan" and rows[1][7] == "3123.46"
    assert rows[1][4] == "Monthly pension"
    claims = staff.get("/benefits/inheritance/?q=BD03").content.decode()
    assert "Awaiting a second approval" in claims


def test_the_proof_due_filter_counts_from_today(world: tuple[Employer, Client]) -> None:
    _employer, staff = world
    # due i * 10 - 50 days from today: overdue for i < 5, within 30 days up to i = 8
    overdue = names(staff.get("/benefits/pensions/paid/?due=overdue").content.decode(), "running")
    assert overdue == expected("R", range(5))
    soon = names(staff.get("/benefits/pensions/paid/?due=30").content.decode(), "running")
    assert soon == expected("R", range(9))


def test_the_overview_pages_show_the_first_rows_and_link_the_whole_list(
    world: tuple[Employer, Client],
) -> None:
    _employer, staff = world
    deaths = staff.get("/benefits/deaths/").content.decode()
    assert names(deaths, "deaths") == expected("D", range(29, 9, -1))  # the 20 newest
    assert names(deaths, "claims") == expected("D", range(20))  # the 20 longest waiting
    assert 'href="/benefits/deaths/all/"' in deaths and "See all 30" in deaths
    assert 'href="/benefits/inheritance/"' in deaths
    pensions = staff.get("/benefits/pensions/").content.decode()
    for url in ("/benefits/pensions/waiting/", "/benefits/proofs/", "/benefits/pensions/paid/"):
        assert f'href="{url}"' in pensions
    assert names(pensions, "running") == expected("R", range(20))
    payments = staff.get("/benefits/payments/").content.decode()
    assert 'href="/benefits/payments/pending/"' in payments and "See all 30" in payments
    chinese = staff.get("/zh-hans/benefits/payments/").content.decode()
    assert "查看全部 30 项" in chinese


def test_hr_see_their_staffs_deaths_only_and_no_other_list(
    world: tuple[Employer, Client],
) -> None:
    employer, _staff = world
    hr = verified_login(Client(), make_hr(employer, "lists-hr"))
    html = hr.get("/benefits/deaths/all/?per_page=100").content.decode()
    assert names(html, "deaths") == expected("D", range(29, -1, -1))
    assert 'id="list-f-region"' not in html  # HR choose no region
    text = b"".join(hr.get("/benefits/deaths/all/?export=csv").streaming_content).decode()
    assert "SD00" not in text and "BD00" in text
    assert not AuditEvent.objects.filter(action="benefits.list_export").exists()  # HR: no reads
    for url in (
        "/benefits/inheritance/",
        "/benefits/pensions/waiting/",
        "/benefits/pensions/paid/",
        "/benefits/proofs/",
        "/benefits/payments/pending/",
    ):
        assert hr.get(url).status_code == 403, url
        assert hr.get(url + "?export=csv").status_code == 403, url


def test_the_chinese_lists_say_words_not_codes(world: tuple[Employer, Client]) -> None:
    """The Chinese-page check of tests/security over these lists, full of rows: no English
    sentence of the catalogue and no stored code in the visible text (the audit trail included,
    after each list's download)."""
    _employer, staff = world
    msgids, stored = english_msgids(), codes()
    problems = []
    urls = [f"/zh-hans{spec.url}" for spec in LISTS.values()]
    urls += [f"/zh-hans{u}" for u in ("/benefits/deaths/", "/benefits/pensions/")]
    urls += ["/zh-hans/benefits/payments/", "/zh-hans/benefits/pensions/paid/?due=overdue"]
    for spec in LISTS.values():
        b"".join(staff.get(f"{spec.url}?export=csv&q=B").streaming_content)
    urls.append("/zh-hans/audit/")
    for url in urls:
        page = staff.get(url)
        assert page.status_code == 200, url
        text = "\n".join(visible_text(page.content.decode()))
        problems += [f"{url}: English {m!r}" for m in msgids if m in text]
        problems += [
            f"{url}: code {c!r}"
            for c in stored
            if re.search(rf"(?<![\w.@/-]){re.escape(c)}(?![\w@/-])", text)
        ]
    assert not problems, "\n".join(problems)
    waiting = staff.get("/zh-hans/benefits/pensions/waiting/?q=nobody").content.decode()
    assert "没有匹配的申请。" in waiting and "任何地区" in waiting
    audit = staff.get("/zh-hans/audit/").content.decode()
    assert "已下载待遇清单" in audit and "待遇清单" in audit


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


PAGES = [
    "/benefits/deaths/",
    "/benefits/pensions/",
    "/benefits/payments/",
    *[f"{spec.url}?per_page=100" for spec in LISTS.values()],
    *[f"{spec.url}?export=csv" for spec in LISTS.values()],
    *[f"{spec.url}?export=xlsx" for spec in LISTS.values()],
]


def test_the_lists_ask_the_same_number_of_queries_for_3_and_30_rows() -> None:
    """No N+1: a list that read a related row per item would ask 27 more questions."""
    counted: list[dict[str, int]] = []
    for n, region_employer in ((3, "Small"), (30, "Large")):
        employer = EmployerFactory(name=f"{region_employer} Co.", region_code="110000")
        build(employer, n, region_employer[0])
        officer = make_agency(f"qc-{region_employer.lower()}", regions="110000")
        staff = verified_login(Client(), officer)
        # one-off work: the session's first visit, the audit trail's first event
        staff.get("/benefits/deaths/")
        b"".join(staff.get("/benefits/proofs/?export=csv").streaming_content)
        counted.append({url: _count(staff, url) for url in PAGES})
        # the next world's lists hold both worlds' rows: the comparison is only stricter
    small, large = counted
    assert small == large
