"""The agency dashboard: figures worked by hand on a small world, region scoping, a constant number
of queries, the page in both languages, and each chart's CSV equal to its table.

The world (``world`` fixture), as of 15 March 2026, period December 2025 – March 2026:

Registrations (registered → deadline):
  Shanghai  10 Jan → 20 Jan on time · 25 Jan → 20 Jan late · 28 Feb → 28 Feb on time (the
            deadline day itself) · 1 Mar → 28 Feb late (the day after) · rejected, and filed but
            not yet registered (left out) · 20 Nov 2025 (before the period)
  Beijing   15 Jan → 1 Feb on time
  ⇒ all regions: Dec 0/0, Jan 2/1, Feb 1/0, Mar 0/1; Shanghai staff: Dec 0/0, Jan 1/1, Feb 1/0,
    Mar 0/1 (on time / late).

Bills (principal; arrears on a day are bills due before it, less what was paid by it):
  Shanghai  ¥1,000 due 15 Jan, ¥400 paid 10 Jan, ¥600 paid 20 Feb · ¥500 due 15 Feb, unpaid ·
            ¥100 due 31 Jan, unpaid (not yet in arrears on 31 Jan) · a credit note of −¥200
  Beijing   ¥700 due 15 Jan, unpaid
  ⇒ Shanghai: Dec 0; Jan (31st) 1,000 − 400 = ¥600; Feb (28th) 1,000 − 1,000 + 500 + 100 = ¥600;
    Mar (today, 15th) ¥600. All regions: add ¥700 from January: ¥0, ¥1,300, ¥1,300, ¥1,300.

Findings (first found): Shanghai not registered, open (5 Jan) and dismissed (1 Feb); Shanghai
unpaid past due, confirmed (1 Mar); Beijing illegal employment, open (10 Jan); Shanghai months not
billed (20 Nov 2025, before the period).

Cards (active unless said; the 90 days are 15 Mar … 12 Jun, weeks from the 15th):
  Shanghai  15 Mar (today: week 1) · 21 Mar (week 1's last day) · 22 Mar (week 2) · 12 Jun (the
            89th day: week 13, 7–12 Jun) · 13 Jun (the 90th day: out) · expired, 20 Mar (out)
  Beijing   16 Mar (week 1)
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation

from expatsi.access.actors import Actor
from expatsi.access.models import AgencyStaff
from expatsi.cases import charts, dashboard, views_dashboard
from expatsi.cases.models import Finding
from expatsi.employers.models import Employer, HrMembership
from expatsi.insurance.models import Registration
from expatsi.rules.dates import Month
from expatsi.rules.errors import Forbidden, RuleError
from tests.cases.conftest import bill, card, employ, finding, pay, person
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 15)
ALL = Actor("agency", None, "staff", regions=None)
SH_ONLY = Actor("agency", None, "staff sh", regions=frozenset({"310000"}))
PERIOD = dashboard.Filters("", Month(2025, 12), Month(2026, 3), TODAY)
MONTHS = [Month(2025, 12), Month(2026, 1), Month(2026, 2), Month(2026, 3)]


def _registration(
    e: Employer, registered: date | None, deadline: date, status: str = "accepted"
) -> Registration:
    p = person()
    job = employ(p, e, deadline)
    return Registration.objects.create(
        person=p,
        employer=e,
        employment=job,
        permit_issued_on=deadline,
        deadline=deadline,
        insurance_start=deadline,
        status=status,
        registered_on=registered,
    )


def _found(f: Finding, on: date, status: str = "open") -> None:
    Finding.objects.filter(pk=f.pk).update(found_on=on, seen_on=on, status=status)


@pytest.fixture
def world(sh: Employer, bj: Employer) -> dict[str, Any]:
    _registration(sh, date(2026, 1, 10), date(2026, 1, 20))
    _registration(sh, date(2026, 1, 25), date(2026, 1, 20))
    _registration(sh, date(2026, 2, 28), date(2026, 2, 28))
    _registration(sh, date(2026, 3, 1), date(2026, 2, 28))
    _registration(sh, None, date(2026, 1, 20), "rejected")
    _registration(sh, None, date(2026, 1, 20), "submitted")
    _registration(sh, date(2025, 11, 20), date(2025, 12, 1))
    _registration(bj, date(2026, 1, 15), date(2026, 2, 1))

    b1 = bill(sh, "2025-12", date(2026, 1, 15), total=100_000)
    pay(b1, 40_000, date(2026, 1, 10))
    pay(b1, 60_000, date(2026, 2, 20))
    bill(sh, "2026-01", date(2026, 2, 15), total=50_000)
    bill(sh, "2026-01", date(2026, 1, 31), total=10_000, kind="adjustment")
    bill(sh, "2025-11", date(2026, 1, 15), total=-20_000, kind="adjustment")
    bill(bj, "2025-12", date(2026, 1, 15), total=70_000)

    _found(finding("not_registered", sh, person()), date(2026, 1, 5))
    _found(finding("not_registered", sh, person()), date(2026, 2, 1), "dismissed")
    _found(finding("unpaid_past_due", sh), date(2026, 3, 1), "confirmed")
    _found(finding("illegal_employment", bj, person()), date(2026, 1, 10))
    _found(finding("months_not_billed", sh, person()), date(2025, 11, 20))

    for day in (date(2026, 3, 15), date(2026, 3, 21), date(2026, 3, 22)):
        card(person(), sh, "active", date(2025, 1, 1), day)
    card(person(), sh, "active", date(2025, 1, 1), date(2026, 6, 12))
    card(person(), sh, "active", date(2025, 1, 1), date(2026, 6, 13))
    card(person(), sh, "expired", date(2025, 1, 1), date(2026, 3, 20))
    card(person(), bj, "active", date(2025, 1, 1), date(2026, 3, 16))
    return {"sh": sh, "bj": bj}


# --- the figures ----------------------------------------------------------------------------------


def _pairs(data: dict[Month, dashboard.OnTime]) -> list[tuple[int, int]]:
    return [(data[m].on_time, data[m].late) for m in MONTHS]


def test_registrations_on_time_and_late_by_month_of_registration(world: Any) -> None:
    assert _pairs(dashboard.registrations_by_month(ALL, PERIOD)) == [(0, 0), (2, 1), (1, 0), (0, 1)]
    assert _pairs(dashboard.registrations_by_month(SH_ONLY, PERIOD)) == [
        (0, 0),
        (1, 1),
        (1, 0),
        (0, 1),
    ]
    beijing = dashboard.Filters("110000", MONTHS[0], MONTHS[-1], TODAY)
    assert _pairs(dashboard.registrations_by_month(ALL, beijing)) == [
        (0, 0),
        (1, 0),
        (0, 0),
        (0, 0),
    ]
    # A region the staff member does not cover gives nothing, never its figures.
    assert _pairs(dashboard.registrations_by_month(SH_ONLY, beijing)) == [(0, 0)] * 4


def test_arrears_on_each_months_last_day(world: Any) -> None:
    assert [dashboard.arrears_by_month(ALL, PERIOD)[m] for m in MONTHS] == [
        0,
        130_000,
        130_000,
        130_000,
    ]
    assert [dashboard.arrears_by_month(SH_ONLY, PERIOD)[m] for m in MONTHS] == [
        0,
        60_000,
        60_000,
        60_000,
    ]
    # On 15 March the ¥500 due 15 February is still unpaid; in a period of the future, nothing.
    assert dashboard.arrears_day(Month(2026, 3), TODAY) == TODAY


def test_findings_by_rule_region_and_status(world: Any) -> None:
    counts = {
        (c.rule, c.region_code, c.status): c.count for c in dashboard.findings_counts(ALL, PERIOD)
    }
    assert counts == {
        ("not_registered", "310000", "open"): 1,
        ("not_registered", "310000", "dismissed"): 1,
        ("unpaid_past_due", "310000", "confirmed"): 1,
        ("illegal_employment", "110000", "open"): 1,
    }
    assert {c.region_code for c in dashboard.findings_counts(SH_ONLY, PERIOD)} == {"310000"}


def test_cards_expiring_in_the_next_90_days_by_week(world: Any) -> None:
    weeks = dashboard.by_week(dashboard.cards_expiring(ALL, PERIOD), TODAY)
    assert len(weeks) == 13
    assert weeks[0] == (date(2026, 3, 15), date(2026, 3, 21), 3)  # 15, 16 (Beijing), 21 March
    assert weeks[1] == (date(2026, 3, 22), date(2026, 3, 28), 1)
    assert weeks[12] == (date(2026, 6, 7), date(2026, 6, 12), 1)  # the 89th day, 12 June
    assert sum(n for _a, _b, n in weeks) == 5
    sh_weeks = dashboard.by_week(dashboard.cards_expiring(SH_ONLY, PERIOD), TODAY)
    assert sh_weeks[0][2] == 2


def test_the_charts_say_the_same_as_the_figures(world: Any) -> None:
    with translation.override("en"):
        charts_by_key = {c.key: c for c in views_dashboard.build(ALL, PERIOD)}
    registrations = charts_by_key["registrations"]
    assert registrations.header() == ["Month", "On time", "Late", "Total"]
    assert registrations.table()[1] == ["January 2026", "2", "1", "3"]
    by_rule = {row[0]: row[1:] for row in charts_by_key["findings_rule"].table()}
    assert by_rule["Active work permit, no social insurance registration after 30 days"] == [
        "1",
        "0",
        "1",
        "2",
    ]
    by_region = {row[0]: row[1:] for row in charts_by_key["findings_region"].table()}
    assert by_region == {"Beijing": ["1", "0", "0", "1"], "Shanghai": ["1", "1", "1", "3"]}
    assert charts_by_key["arrears"].table()[1] == ["January 2026", "¥1,300.00"]
    assert charts_by_key["cards"].table()[0] == ["March 15, 2026 – March 21, 2026", "3"]


def test_a_constant_number_of_queries(world: Any, django_assert_num_queries: Any) -> None:
    """Five queries for the whole dashboard (registrations, findings, bills, payments, cards),
    whatever the amount of data: the same after the world is doubled."""
    with django_assert_num_queries(5):
        views_dashboard.build(ALL, PERIOD)
    for e in (world["sh"], world["bj"]):
        for i in range(5):
            bill(e, "2026-02", date(2026, 3, 1), total=1_000 + i, kind="adjustment")
            card(person(), e, "active", date(2025, 1, 1), date(2026, 4, 1 + i))
            _registration(e, date(2026, 2, 1 + i), date(2026, 2, 10))
    with django_assert_num_queries(5):
        views_dashboard.build(ALL, PERIOD)


def test_only_agency_staff_and_sound_periods() -> None:
    hr = Actor("hr", 1, "hr", employer_ids=frozenset({1}))
    with pytest.raises(Forbidden):
        dashboard.registrations_by_month(hr, PERIOD)
    with pytest.raises(RuleError) as reversed_:
        dashboard.Filters("", Month(2026, 3), Month(2026, 1), TODAY)
    assert reversed_.value.code == "period_reversed"
    with pytest.raises(RuleError) as too_long:
        dashboard.Filters("", Month(2023, 1), Month(2026, 1), TODAY)
    assert too_long.value.code == "period_too_long"
    assert dashboard.Filters.default(TODAY).months[0] == Month(2025, 4)


# --- the chart module -----------------------------------------------------------------------------


def test_ticks_wrapping_and_escaping() -> None:
    assert charts.nice_ticks(0) == [0, 1]
    assert charts.nice_ticks(3) == [0, 1, 2, 3]
    assert charts.nice_ticks(130_000) == [0, 50_000, 100_000, 150_000]
    assert charts.wrap("Contributions continuing after the person left China", 120) == [
        "Contributions",
        "continuing after…",
    ]
    assert charts.wrap("工作许可有效但三十天后仍未登记社会保险", 60) == ["工作许可有", "效但三十…"]
    chart = charts.Chart(
        key="x",
        title="<b>T</b>",
        description="d",
        category_header="C",
        categories=(charts.Category("a", "=SUM(A1)"),),
        series=(charts.Series("s", "S & co", (2,)), charts.Series("t", "T", (1,))),
    )
    drawn = charts.svg(chart)
    assert "<b>" not in drawn and "&lt;b&gt;" in drawn and "S &amp; co" in drawn
    assert 'role="img"' in drawn and "<title" in drawn
    assert charts.csv_text(chart) == "C,S & co,T\r\n'=SUM(A1),2,1\r\n"  # no formula


# --- the pages ------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """The chart tables of a page: id → rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and (found.get("id") or "").endswith("-table"):
            self._table = str(found["id"])
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


@pytest.fixture
def users(sh: Employer) -> dict[str, Any]:
    model = get_user_model()
    made = {r: model.objects.create_user(username=r) for r in ("agency", "agency_sh", "hr")}
    AgencyStaff.objects.create(user=made["agency"], regions="")
    AgencyStaff.objects.create(user=made["agency_sh"], regions="310000")
    HrMembership.objects.create(user=made["hr"], employer=sh)
    return made


QUERY = {"start": "2025-12", "end": "2026-03"}


def test_the_page_shows_every_chart_with_its_table(world: Any, users: Any) -> None:
    staff = verified_login(Client(), users["agency"])
    page = staff.get("/cases/dashboard/", QUERY)
    assert page.status_code == 200
    assert page.text.count('<svg class="chart-svg"') == 5
    tables = _tables(page.text)
    assert set(tables) == {f"{k}-table" for k in views_dashboard.CHARTS}
    assert tables["registrations-table"][2] == ["January 2026", "2", "1", "3"]
    assert "Download “Registrations on time and late, by month” as CSV" in page.text


def test_each_csv_matches_its_table(world: Any, users: Any) -> None:
    staff = verified_login(Client(), users["agency"])
    tables = _tables(staff.get("/cases/dashboard/", QUERY).text)
    for key in views_dashboard.CHARTS:
        response = staff.get("/cases/dashboard/export/", {"chart": key, **QUERY})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert f"{key}-all-2025-12-2026-03.csv" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        table = tables[f"{key}-table"]
        assert len(rows) == len(table)
        for csv_row, table_row in zip(rows, table, strict=True):
            assert table_row[0] == csv_row[0]  # the same words
            assert [re.sub(r"[¥,]", "", c) for c in table_row[1:]] == csv_row[1:]
    assert staff.get("/cases/dashboard/export/", {"chart": "nope"}).status_code == 404


def test_staff_of_one_region_see_only_it(world: Any, users: Any) -> None:
    staff = verified_login(Client(), users["agency_sh"])
    page = staff.get("/cases/dashboard/", QUERY)
    tables = _tables(page.text)
    assert [r[0] for r in tables["findings_region-table"][1:]] == ["Shanghai"]
    assert tables["arrears-table"][2] == ["January 2026", "¥600.00"]
    asked = staff.get("/cases/dashboard/", {**QUERY, "region": "110000"})
    assert asked.status_code == 400  # not a region they may choose
    csv_text = staff.get(
        "/cases/dashboard/export/", {"chart": "arrears", "region": "110000", **QUERY}
    )
    assert csv_text.status_code == 400


def test_the_page_in_chinese_names_months_rules_and_regions(world: Any, users: Any) -> None:
    staff = verified_login(Client(), users["agency"])
    page = staff.get("/zh-hans/cases/dashboard/", QUERY)
    assert page.status_code == 200
    tables = _tables(page.text)
    assert tables["registrations-table"][2][0] == "2026年1月"
    regions = [r[0] for r in tables["findings_region-table"][1:]]
    assert regions == ["北京市", "上海市"]
    rules = [r[0] for r in tables["findings_rule-table"][1:]]
    assert all(re.search(r"[\u4e00-\u9fff]", r) and "_" not in r for r in rules)
    assert tables["arrears-table"][2][1] == "1,300.00 元"


def test_bad_filters_are_refused_on_their_field(users: Any) -> None:
    staff = verified_login(Client(), users["agency"])
    page = staff.get("/cases/dashboard/", {"start": "2026-13"})
    assert page.status_code == 400 and 'id="id_start_error"' in page.text
    page = staff.get("/cases/dashboard/", {"start": "2026-03", "end": "2026-01"})
    assert page.status_code == 400 and "The last month is before the first." in page.text


def test_only_agency_staff_open_it(users: Any) -> None:
    assert verified_login(Client(), users["hr"]).get("/cases/dashboard/").status_code == 403
    assert verified_login(Client(), users["hr"]).get("/cases/dashboard/export/").status_code == 403
    assert Client().get("/cases/dashboard/").status_code == 302  # to sign in


def test_the_menu_leads_staff_to_the_dashboard_first(users: Any) -> None:
    home = verified_login(Client(), users["agency"]).get("/")
    links = re.findall(r'href="(/cases/[^"]*)"', home.text)
    assert links[0] == "/cases/dashboard/"
