"""The compliance pages end to end, and the same story through the API.

Agency staff run the checks for an employer, open a finding, dismiss one and confirm another,
open an enforcement case and issue the order; the employer's HR see the order in their inbox and
under "Orders to rectify" and download it; once the deadline has passed a fine outside the legal
range is refused on its field, one inside is proposed; then the decision and the closing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from expatsi.access.models import AgencyStaff
from expatsi.cases.models import Case, Finding
from expatsi.employers.models import Employer, HrMembership
from expatsi.notify.models import Notification
from tests.cases.conftest import bill, employ, pay, permit, person, register
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def users(sh: Employer, bj: Employer) -> dict[str, Any]:
    model = get_user_model()
    made = {
        role: model.objects.create_user(username=role, email=f"{role}@example.org")
        for role in ("agency", "agency_bj", "hr_sh", "hr_bj", "employee")
    }
    AgencyStaff.objects.create(user=made["agency"], regions="")
    AgencyStaff.objects.create(user=made["agency_bj"], regions="110000")
    HrMembership.objects.create(user=made["hr_sh"], employer=sh)
    HrMembership.objects.create(user=made["hr_bj"], employer=bj)
    return made


def client_for(user: Any) -> Client:
    return verified_login(Client(), user)


def _world(sh: Employer) -> None:
    """An unpaid bill, and a foreigner not registered after 30 days (a finding of each kind)."""
    b = bill(sh, "2025-09", date(2025, 10, 15), total=100_000)
    pay(b, 40_000, date(2025, 10, 10))
    p = person("Weber", "DEU")
    permit(p, today() - timedelta(days=90), today() + timedelta(days=900))
    employ(p, sh, today() - timedelta(days=80))


def test_agency_finds_reviews_opens_a_case_and_orders(
    sh: Employer, users: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    _world(sh)
    staff = client_for(users["agency"])
    page = staff.get("/cases/findings/")
    assert page.status_code == 200 and "Compliance findings" in page.text
    response = staff.post("/cases/findings/scan/", {"employer": sh.pk, "region": ""})
    assert response.status_code == 302
    listing = staff.get("/cases/findings/", {"rule": "unpaid_past_due"})
    assert "¥600.00" in listing.text  # amount at stake in yuan, with the currency
    assert "Billed, and unpaid after the due date" in listing.text  # the rule in words
    unpaid = Finding.objects.get(rule="unpaid_past_due")
    late = Finding.objects.get(rule="not_registered")
    detail = staff.get(f"/cases/findings/{unpaid.pk}/")
    assert detail.status_code == 200 and "Late fee accrued" in detail.text
    # dismissing needs a reason: 400 with the message on the field
    refused = staff.post(f"/cases/findings/{late.pk}/", {"action": "dismiss", "reason": ""})
    assert refused.status_code == 400 and "Give the reason." in refused.text
    staff.post(f"/cases/findings/{late.pk}/", {"action": "confirm", "reason": "checked"})
    assert Finding.objects.get(pk=late.pk).status == "confirmed"
    opened = staff.post(
        f"/cases/findings/{unpaid.pk}/open-case/", {"findings": [unpaid.pk, late.pk]}
    )
    case = Case.objects.get()
    assert opened.status_code == 302 and opened["Location"].endswith(f"/cases/{case.pk}/")
    deadline = today() + timedelta(days=20)
    with django_capture_on_commit_callbacks(execute=True):
        ordered = staff.post(
            f"/cases/{case.pk}/order/", {"deadline": deadline.isoformat(), "requirements": ""}
        )
    assert ordered.status_code == 302
    assert Notification.objects.filter(user=users["hr_sh"], kind="order_to_rectify").exists()

    hr = client_for(users["hr_sh"])
    orders = hr.get("/cases/")
    assert orders.status_code == 200 and case.number in orders.text
    own = hr.get(f"/cases/{case.pk}/")
    assert own.status_code == 200 and "Propose a fine" not in own.text
    pdf = hr.get(f"/cases/{case.pk}/order.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert hr.get("/cases/findings/").status_code == 403  # findings are the agency's
    assert (
        hr.post(f"/cases/{case.pk}/decision/", {"outcome": "no_fine", "reason": "x"}).status_code
        == 403
    )
    other = client_for(users["hr_bj"])
    assert other.get(f"/cases/{case.pk}/").status_code == 404
    assert other.get(f"/cases/{case.pk}/order.pdf").status_code == 404
    assert client_for(users["agency_bj"]).get(f"/cases/{case.pk}/").status_code == 404
    assert client_for(users["employee"]).get("/cases/findings/").status_code == 403

    Case.objects.filter(pk=case.pk).update(order_deadline=today() - timedelta(days=1))
    page = staff.get(f"/cases/{case.pk}/")
    assert "Legal ranges for this case" in page.text
    # arrears 600.00 × 1 … 3 = 600.00 … 1,800.00
    too_much = staff.post(
        f"/cases/{case.pk}/fines/",
        {"kind": "arrears_not_paid", "amount": "1800.01", "reason": "not paid after the order"},
    )
    assert too_much.status_code == 400
    assert "¥600.00 to ¥1,800.00" not in too_much.text  # the message names the range as text
    assert "600.00 to 1,800.00" in too_much.text and 'id="id_amount_error"' in too_much.text
    fine = staff.post(
        f"/cases/{case.pk}/fines/",
        {"kind": "arrears_not_paid", "amount": "1200.00", "reason": "not paid after the order"},
    )
    assert fine.status_code == 302
    staff.post(f"/cases/{case.pk}/decision/", {"outcome": "fine", "reason": "no payment"})
    staff.post(f"/cases/{case.pk}/close/", {"reason": "fine and arrears paid"})
    case.refresh_from_db()
    assert (case.status, case.fine_total_fen) == ("closed", 120_000)
    decided = hr.get(f"/cases/{case.pk}/")
    assert "Fines of ¥1,200.00" in decided.text


def test_pages_in_chinese_show_amounts_in_yuan(sh: Employer, users: dict[str, Any]) -> None:
    _world(sh)
    staff = client_for(users["agency"])
    staff.post("/cases/findings/scan/", {"employer": sh.pk})
    page = staff.get("/zh-hans/cases/findings/", {"rule": "unpaid_past_due"})
    assert page.status_code == 200
    assert "600.00 元" in page.text and "已核定缴费，逾期未缴" in page.text
    unpaid = Finding.objects.get(rule="unpaid_past_due")
    opened = staff.post(
        f"/zh-hans/cases/findings/{unpaid.pk}/open-case/", {"findings": [unpaid.pk]}
    )
    case = Case.objects.get()
    assert opened.status_code == 302
    Case.objects.filter(pk=case.pk).update(
        status="ordered", order_issued_on=today(), order_deadline=today() - timedelta(days=1)
    )
    page = staff.get(f"/zh-hans/cases/{case.pk}/")
    assert "本案件适用的法定幅度" in page.text and "逾期仍不缴纳的" in page.text
    assert "arrears_not_paid" not in page.text.replace('value="arrears_not_paid"', "")


def test_findings_list_filters_and_pages(
    sh: Employer, bj: Employer, users: dict[str, Any], settings: Any
) -> None:
    # A scan of every region is queued for the worker pool: an in-process backend runs it here.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    for i in range(55):
        employer = sh if i % 2 else bj
        bill(employer, f"20{10 + i // 12:02d}-{i % 12 + 1:02d}", date(2025, 1, 15), total=1000 + i)
    staff = client_for(users["agency"])
    staff.post("/cases/findings/scan/", {"as_of": "2025-06-01"})
    first = staff.get("/cases/findings/")
    assert "55 findings" in first.text and "Page 1 of 2" in first.text
    second = staff.get("/cases/findings/", {"page": 2})
    assert second.text.count("/cases/findings/") >= 5
    beijing = client_for(users["agency_bj"]).get("/cases/findings/")
    assert "28 findings" in beijing.text  # Beijing staff see Beijing's only
    filtered = staff.get("/cases/findings/", {"region": "310000", "status": "open"})
    assert "27 findings" in filtered.text
    nonsense = staff.get(
        "/cases/findings/", {"region": "x", "rule": "'", "status": "?", "page": "z"}
    )
    assert nonsense.status_code == 200


# --- the API -------------------------------------------------------------------------------------

API = "/api/v1/cases"


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    import json

    return client.post(API + path, json.dumps(body), content_type="application/json")


def test_api_story(sh: Employer, users: dict[str, Any]) -> None:
    _world(sh)
    staff = client_for(users["agency"])
    assert staff.get(API + "/rules").json()["legacy"][0]["document"] == "沪人社养发〔2009〕38号"
    scanned = post(staff, "/scans", {"employer_id": sh.pk})
    assert scanned.status_code == 200 and scanned.json()["counts"]["unpaid_past_due"]["new"] == 1
    again = post(staff, "/scans", {"employer_id": sh.pk})
    assert again.json()["counts"]["unpaid_past_due"] == {
        "found": 1,
        "new": 0,
        "changed": 0,
        "reopened": 0,
        "resolved": 0,
    }
    items = staff.get(API + "/findings", {"rule": "unpaid_past_due"}).json()["items"]
    [unpaid] = items
    assert unpaid["amount"] == "600.00" and unpaid["evidence"]["paid_fen"] == 40_000
    assert post(staff, f"/findings/{unpaid['id']}/dismiss", {"reason": ""}).status_code == 400
    created = post(staff, "", {"finding_ids": [unpaid["id"]]})
    assert created.status_code == 201
    case = created.json()
    ordered = post(
        staff, f"/{case['id']}/order", {"deadline": (today() + timedelta(days=10)).isoformat()}
    )
    assert ordered.status_code == 200 and ordered.json()["status"] == "ordered"
    early = post(
        staff,
        f"/{case['id']}/fine-proposals",
        {"kind": "arrears_not_paid", "amount": "600.00", "reason": "r"},
    )
    assert (early.status_code, early.json()["code"]) == (409, "deadline_not_passed")
    Case.objects.filter(pk=case["id"]).update(order_deadline=today() - timedelta(days=1))
    ranges = staff.get(f"{API}/{case['id']}").json()["fine_ranges"]
    assert ranges == [
        {
            "kind": "arrears_not_paid",
            "article": "Social Insurance Law Art. 86",
            "basis": "600.00",
            "persons": None,
            "min": "600.00",
            "max": "1800.00",
            "explanation": ranges[0]["explanation"],
        }
    ]
    low = post(
        staff,
        f"/{case['id']}/fine-proposals",
        {"kind": "arrears_not_paid", "amount": "599.99", "reason": "r"},
    )
    assert (low.status_code, low.json()["code"], low.json()["field"]) == (
        400,
        "fine_out_of_range",
        "amount",
    )
    ok = post(
        staff,
        f"/{case['id']}/fine-proposals",
        {"kind": "arrears_not_paid", "amount": "600.00", "reason": "r"},
    )
    assert ok.status_code == 201 and ok.json()["max"] == "1800.00"
    hr = client_for(users["hr_sh"])
    seen = hr.get(f"{API}/{case['id']}").json()
    assert seen["proposals"] == [] and seen["history"] == [] and seen["fine_ranges"] == []
    assert hr.get(API + "/findings").status_code == 403
    assert (
        post(hr, f"/{case['id']}/decision", {"outcome": "no_fine", "reason": "x"}).status_code
        == 403
    )
    assert client_for(users["hr_bj"]).get(f"{API}/{case['id']}").status_code == 404
    decided = post(staff, f"/{case['id']}/decision", {"outcome": "fine", "reason": "unpaid"})
    assert decided.json()["fine_total"] == "600.00"
    assert [p["amount"] for p in hr.get(f"{API}/{case['id']}").json()["proposals"]] == ["600.00"]
    pdf = hr.get(f"{API}/{case['id']}/order.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_a_month_not_billed_names_its_people(sh: Employer, users: dict[str, Any]) -> None:

    p = person("Unbilled", "FRA")
    register(employ(p, sh, date(2025, 9, 1)))
    staff = client_for(users["agency"])
    staff.post("/cases/findings/scan/", {"employer": sh.pk, "as_of": "2025-11-20"})
    f = Finding.objects.get(rule="months_not_billed", period="2025-10")
    listing = staff.get("/cases/findings/", {"rule": "months_not_billed"})
    assert "1 person" in listing.text
    page = staff.get(f"/cases/findings/{f.pk}/")
    assert "UNBILLED" in page.text and "People not billed" in page.text


def test_navigation_offers_the_pages_to_the_right_roles(users: dict[str, Any]) -> None:
    agency = client_for(users["agency"]).get("/").text
    assert 'href="/cases/findings/"' in agency and ">Enforcement cases<" in agency
    hr = client_for(users["hr_sh"]).get("/").text
    assert 'href="/cases/"' in hr and ">Orders to rectify<" in hr
    assert 'href="/cases/findings/"' not in hr
    employee = client_for(users["employee"]).get("/").text
    # a signed-in user without a role: only the page to report an employer (issue #12)
    assert 'href="/cases/complaints/"' in employee
    # ... and the footer's public report form, which every page offers to anyone
    assert 'href="/cases/report/"' in employee
    rest = employee.replace('href="/cases/complaints/"', "").replace('href="/cases/report/"', "")
    assert 'href="/cases/' not in rest


def test_past_the_drop_down_the_scan_takes_the_employers_credit_code(
    sh: Employer, bj: Employer, users: dict[str, Any], monkeypatch: Any
) -> None:
    """A region has tens of thousands of employers: the scan form listed the first 500 by name
    and no other could be scanned alone. Past the list, the credit code is typed."""
    from expatsi.cases import views

    _world(sh)
    monkeypatch.setattr(views, "SCAN_PICKABLE", 0)
    staff = client_for(users["agency"])
    form = staff.get("/cases/findings/").text
    assert "Employer&#x27;s unified social credit code" in form or "Employer's unified" in form
    assert '<select name="employer"' not in form
    response = staff.post("/cases/findings/scan/", {"employer": sh.uscc.lower()})
    assert response.status_code == 302
    assert Finding.objects.filter(employer=sh).exists()
    assert not Finding.objects.exclude(employer=sh).exists()
    unknown = staff.post("/cases/findings/scan/", {"employer": "91310000MA1FL0000X"})
    assert unknown.status_code == 400
    assert "No employer with this code in your regions." in unknown.text
    chinese = staff.post("/zh-hans/cases/findings/scan/", {"employer": "91310000MA1FL0000X"})
    assert "您负责的地区内没有此代码的用人单位。" in chinese.text
    # Beijing staff cannot name a Shanghai employer's code
    beijing = client_for(users["agency_bj"])
    assert beijing.post("/cases/findings/scan/", {"employer": sh.uscc}).status_code == 400
