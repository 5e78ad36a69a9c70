"""The employee's retirement and pension outlook: golden values worked by hand from the policy
tables, the role check of the API, and the page in both languages."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from expatsi.access.actors import SYSTEM
from expatsi.billing.services import payment_record
from tests.billing.web.conftest import API

pytestmark = pytest.mark.django_db


def _pay_august(bworld) -> None:
    payment_record(
        actor=SYSTEM, employer=bworld.a, amount=bworld.bill_a.total, received_on=date(2025, 9, 10)
    )


def test_bravo_outlook_golden_values(bworld):
    _pay_august(bworld)
    r = bworld.client("bravo").get(f"{API}/me/pension?on=2025-12-31")
    assert r.status_code == 200, r.text
    p = r.json()
    # Bravo: man born 1985-01 (retirement.toml): original month O = 1985-01 + 60y = 2045-01;
    # m = months 2025-01 → 2045-01 = 240; delay = min(240 // 4 + 1, 36) = min(61, 36) = 36;
    # retirement 2045-01 + 36 = 2048-01 at 63y. min_contribution.toml: 2048 (from 2039) → 240.
    assert (p["retirement_month"], p["retirement_age"]) == ("2048-01", "63y")
    assert p["min_contribution_months"] == 240
    # One month paid (2025-08): so far 1, still needed 240 − 1 = 239.
    assert (p["months_so_far"], p["months_still_needed"]) == (1, 239)
    # Future: from max(2025-12 (the month of `on`), 2025-09) = 2025-12 to the month before
    # 2048-01: 2048-01 − 2025-12 = 22 × 12 + 1 = 265 months; projected 1 + 265 = 266 ≥ 240.
    assert p["projected_months"] == 266
    # Index: Bravo earns 5,000, below Beijing's lower limit, so his base is 7,162 (8% = 572.96);
    # pension_bases.toml Beijing 2025 = 12,049: 7,162 / 12,049 = 0.594406… → 0.5944.
    assert p["index"] == "0.5944"
    # Balance on 2025-12-31 = 576.54 (572.96 + interest 3.58, see test_api); projected
    # 576.54 + 265 × 572.96 = 576.54 + 151,834.40 = 152,410.94 (no future interest).
    assert p["projected_balance"] == "152410.94"
    # Basic = (12,049 + 12,049 × 0.5944) / 2 × 266/12 × 1%
    #       = (12,049 + 7,161.9256) / 2 × 22.1666… × 1% = 9,605.4628 × 266 / 1200
    #       = 2,555,053.1048 / 1200 = 2,129.2109… → 2,129.21.
    assert p["basic_pension"] == "2129.21"
    # Account = 152,410.94 / divisor at 63 (months_divisor.toml: 117) = 1,302.6576… → 1,302.66.
    assert p["account_pension"] == "1302.66"
    # Total = 2,129.21 + 1,302.66 = 3,431.87.
    assert p["total"] == "3431.87"
    lines = {line["key"]: line for line in p["lines"]}
    # Assumptions are marked; the 2025 base standing for 2048 makes the base line a CONVENTION.
    for key in ("future_months", "projected_months", "index", "balance", "calc_base", "basic"):
        assert lines[key]["status"] in ("CONVENTION", "UNCONFIRMED"), key
    assert lines["months_so_far"]["status"] == "CONFIRMED"
    assert lines["divisor"]["value"] == "117" and lines["divisor"]["status"] == "CONFIRMED"
    assert lines["total"]["value"] == "3431.87" and lines["total"]["money"] is True
    assert lines["total"]["explanation"][0] == "Total = 2129.21 + 1302.66 = 3431.87."
    assert all(line["status_text"] for line in p["lines"])
    assert p["status"] in ("CONVENTION", "UNCONFIRMED")


def test_outlook_below_minimum_has_no_award(bworld):
    # Nothing paid yet: no contribution on record, none projected; 240 months still needed.
    p = bworld.client("bravo").get(f"{API}/me/pension?on=2025-12-31").json()
    assert (p["months_so_far"], p["months_still_needed"], p["projected_months"]) == (0, 240, 0)
    assert p["total"] is None and p["basic_pension"] is None
    assert "minimum" in p["note"]


@pytest.mark.parametrize("role", ["agency", "agency_sh", "hr_a", "hr_b"])
def test_pension_api_is_the_employee_s_own(bworld, role):
    r = bworld.client(role).get(f"{API}/me/pension")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_pension_api_needs_sign_in(bworld):
    assert bworld.client("anon").get(f"{API}/me/pension").status_code == 401


def test_pension_page_in_both_languages(bworld):
    _pay_august(bworld)
    c = bworld.client("bravo")
    with translation.override("en"):
        url = reverse("billing:pension")
        me = reverse("billing:me")
    assert 'id="pension-link"' in c.get(me).text
    r = c.get(url + "?on=2025-12-31")
    assert r.status_code == 200
    for text in ("2048-01, at 63 years", "¥3,431.87", "¥2,129.21", "¥1,302.66", "CONVENTION"):
        assert text in r.text, text
    with translation.override("zh-hans"):
        zh_url = reverse("billing:pension")
    r = c.get(zh_url + "?on=2025-12-31")
    assert r.status_code == 200
    for text in ("退休", "3,431.87 元", "2048-01，63 岁", "约定"):
        assert text in r.text, text
    assert bworld.client("hr_a").get(url).status_code == 403


def test_person_page_links_the_outlook(bworld):
    c = bworld.client("bravo")
    assert 'id="pension-link"' in c.get(reverse("me")).text


def test_pension_api_is_documented():
    from expatsi.api import api

    operation = api.get_openapi_schema()["paths"][f"{API}/me/pension"]["get"]
    assert "projected" in operation["description"] and "status" in operation["description"]
    assert operation["responses"][200]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PensionOut"
    )


def test_agency_sees_the_outlook_of_a_person_in_its_regions(bworld):
    _pay_august(bworld)
    with translation.override("en"):
        url = reverse("billing:person_pension", args=[bworld.bravo.pk])
        person = reverse("person_detail", args=[bworld.bravo.pk])
    agency = bworld.client("agency")
    assert 'id="pension-link"' in agency.get(person).text
    r = agency.get(url + "?on=2025-12-31")
    assert r.status_code == 200
    assert "¥3,431.87" in r.text and bworld.bravo.full_name in r.text
    # Shanghai-only staff do not see a Beijing employee; HR and the employee use their own pages.
    assert bworld.client("agency_sh").get(url).status_code == 404
    assert bworld.client("hr_a").get(url).status_code == 403
    assert bworld.client("bravo").get(url).status_code == 403
