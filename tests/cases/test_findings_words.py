"""What agency staff read about findings, in both languages: a finding made from a complaint
(rule ``reported``) can be filtered on in the findings page and the API and is named in words on
the dashboard; a finding's status "Open" is 待处理 (not a bill's 待缴); and the audit trail shows a
scan's counts by rule in words, never ``not_registered``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone, translation

from expatsi.access.actors import Actor
from expatsi.access.models import AgencyStaff
from expatsi.cases import dashboard, services, views_dashboard
from expatsi.cases.registry import registry
from expatsi.employers.models import Employer
from expatsi.portal.labels import value_text
from expatsi.rules.dates import Month
from tests.cases.conftest import employ, finding, permit, person
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db
STAFF = Actor("agency", None, "officer", regions=None)
# The finding fixture's found_on day is 20 November 2025.
NOVEMBER = dashboard.Filters("", Month(2025, 11), Month(2025, 11), date(2025, 12, 1))


@pytest.fixture
def staff() -> Client:
    user = get_user_model().objects.create_user(username="agency", email="agency@example.org")
    AgencyStaff.objects.create(user=user, regions="")
    return verified_login(Client(), user)


@pytest.fixture
def two(sh: Employer) -> dict[str, Any]:
    return {
        "reported": finding("reported", sh, amount=10_000),
        "late": finding("not_registered", sh, person("Weber", "DEU"), amount=20_000),
    }


def _option(page: str, value: str) -> re.Match[str] | None:
    return re.search(rf'<option value="{value}"( selected)?>([^<]*)</option>', page)


def test_the_findings_page_filters_on_findings_made_from_a_complaint(
    staff: Client, two: dict[str, Any]
) -> None:
    page = staff.get("/cases/findings/", {"rule": "reported", "shown": "all"}).content.decode()
    option = _option(page, "reported")
    assert option is not None and option.group(1) == " selected"
    assert option.group(2) == "Reported to the agency"
    assert f"/cases/findings/{two['reported'].pk}/" in page
    assert f"/cases/findings/{two['late'].pk}/" not in page
    chinese = staff.get("/zh-hans/cases/findings/").content.decode()
    option = _option(chinese, "reported")
    assert option is not None and option.group(2) == "向经办机构举报"


def test_the_api_filters_on_findings_made_from_a_complaint(
    staff: Client, two: dict[str, Any]
) -> None:
    answer = staff.get("/api/v1/cases/findings", {"rule": "reported"})
    assert answer.status_code == 200
    assert [f["id"] for f in answer.json()["items"]] == [two["reported"].pk]


def test_the_dashboard_names_findings_made_from_a_complaint_in_words(
    two: dict[str, Any],
) -> None:
    for language, label in (("en", "Reported to the agency"), ("zh-hans", "向经办机构举报")):
        with translation.override(language):
            chart = views_dashboard.findings_rule_chart(STAFF, NOVEMBER)
            rows = {row[0]: row[1:] for row in chart.table()}
        assert rows[label] == ["1", "0", "0", "1"], language  # open, confirmed, dismissed, total
        assert "reported" not in rows


def test_an_open_finding_is_awaiting_review_in_chinese_not_unpaid(
    staff: Client, two: dict[str, Any]
) -> None:
    for url in ("/zh-hans/cases/findings/", f"/zh-hans/cases/findings/{two['late'].pk}/"):
        page = staff.get(url).content.decode()
        assert "待处理" in page, url
        assert "待缴" not in page, url
    with translation.override("zh-hans"):
        header = views_dashboard.findings_rule_chart(STAFF, NOVEMBER).header()
    assert header[1:4] == ["待处理", "已确认", "已驳回"]


def test_the_audit_trail_shows_a_scans_counts_by_rule_in_words(sh: Employer, staff: Client) -> None:
    today = timezone.localdate()
    weber = person("Weber", "DEU")
    permit(weber, today - timedelta(days=90), today + timedelta(days=900))
    employ(weber, sh, today - timedelta(days=80))
    services.compliance_scan(actor=STAFF, as_of=today)
    rule = registry().rules["not_registered"]
    with translation.override("en"):
        english = value_text(
            "counts", {"not_registered": {"found": 1, "new": 1}, "reported": {"new": 2}}
        )
    assert english == f"{rule.display('en')}: 1 found, 1 new; Reported to the agency: 2 new"
    page = staff.get("/zh-hans/audit/").content.decode()
    assert f"{rule.display('zh-hans')}：发现1项，新增1项" in page
    assert "not_registered" not in page
    assert "'found'" not in page and "{" not in _details(page)


def _details(page: str) -> str:
    """The text of the audit table's cells (the page's scripts and styles left out)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def test_a_scans_counts_read_in_one_order_whatever_order_the_database_returns() -> None:
    """PostgreSQL's jsonb hands the keys back sorted by length ("new" before "found"): the words
    keep the order found, new, … (the Chinese audit page read 新增1项，发现1项 on PostgreSQL)."""
    rule = registry().rules["not_registered"]
    with translation.override("en"):
        shown = value_text("counts", {"not_registered": {"new": 1, "found": 1}})
    assert shown == f"{rule.display('en')}: 1 found, 1 new"
