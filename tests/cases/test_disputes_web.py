"""Disputes and complaints through the pages and the API: a foreign employee records a dispute and
adds a document, the employer's HR take it to arbitration, agency staff record the award and post
the correction (reversing and new entries); another employer's HR get 404 everywhere. A complaint
past its reply clock is marked overdue in the agency's list; the reply reaches the complainant's
inbox; a report becomes a finding. Chinese pages show no English and no raw code."""

from __future__ import annotations

import base64
import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from expatsi.access.models import AgencyStaff
from expatsi.cases.models import Complaint, Dispute, Finding
from expatsi.employers.models import Employer, HrMembership
from expatsi.notify.models import Notification
from expatsi.people.models import Person
from tests.cases.conftest import bill, employ, person
from tests.security.test_chinese_pages_no_codes import codes, english_msgids, visible_text
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db
API = "/api/v1/cases"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def w(sh: Employer, sh2: Employer) -> dict[str, Any]:
    model = get_user_model()
    users = {
        role: model.objects.create_user(username=role, email=f"{role}@example.org")
        for role in ("agency", "agency_bj", "hr_sh", "hr_sh2", "keller")
    }
    AgencyStaff.objects.create(user=users["agency"], regions="")
    AgencyStaff.objects.create(user=users["agency_bj"], regions="110000")
    HrMembership.objects.create(user=users["hr_sh"], employer=sh)
    HrMembership.objects.create(user=users["hr_sh2"], employer=sh2)
    keller = person("Keller", "DEU")
    Person.objects.filter(pk=keller.pk).update(user=users["keller"])
    employ(keller, sh, date(2025, 1, 1))
    b = bill(
        sh,
        "2025-09",
        date(2025, 10, 15),
        lines=[{"person": keller, "employer_amount": 480_000, "employee_amount": 240_000}],
    )
    return {
        "users": users,
        "sh": sh,
        "sh2": sh2,
        "keller": keller,
        "bill": b,
        "line": b.lines.get(),
    }


def client_for(user: Any) -> Client:
    return verified_login(Client(), user)


def post_json(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(API + path, json.dumps(body), content_type="application/json")


def test_a_dispute_from_the_employee_to_the_correction_in_the_pages(w: dict[str, Any]) -> None:
    me = client_for(w["users"]["keller"])
    page = me.get("/cases/disputes/new/")
    assert page.status_code == 200 and "KELLER" in page.content.decode()
    answer = me.post(
        "/cases/disputes/new/",
        {
            "employer": w["sh"].pk,
            "person": w["keller"].pk,
            "subject_kind": "bill_line",
            "subject_id": w["line"].pk,
            "claim": "My base was too high.",
            "stage": "mediation",
        },
    )
    dispute = Dispute.objects.get()
    assert answer.status_code == 302 and answer["Location"].endswith(
        f"/cases/disputes/{dispute.pk}/"
    )
    upload = me.post(
        f"/cases/disputes/{dispute.pk}/documents/",
        {"title": "Payslips", "file": _file("payslips.pdf", PDF)},
    )
    assert upload.status_code == 302
    hr = client_for(w["users"]["hr_sh"])
    assert (
        hr.post(f"/cases/disputes/{dispute.pk}/stage/", {"stage": "mediation"}).status_code == 400
    )
    assert (
        hr.post(f"/cases/disputes/{dispute.pk}/stage/", {"stage": "arbitration"}).status_code == 302
    )
    assert (
        hr.post(
            f"/cases/disputes/{dispute.pk}/decision/", {"outcome": "settled", "text": "x"}
        ).status_code
        == 403
    )
    doc = dispute.documents.get()
    download = hr.get(f"/cases/disputes/{dispute.pk}/documents/{doc.pk}/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    staff = client_for(w["users"]["agency"])
    assert (
        staff.post(
            f"/cases/disputes/{dispute.pk}/decision/",
            {"outcome": "for_employee", "text": "Award: base ¥25,000.00."},
        ).status_code
        == 302
    )
    page = staff.get(f"/cases/disputes/{dispute.pk}/").content.decode()
    assert "Post the correction" in page
    done = staff.post(
        f"/cases/disputes/{dispute.pk}/correction/",
        {
            "line": w["line"].pk,
            "employer_amount": "4000.00",
            "employee_amount": "2000.00",
            "reason": "Award no. 77",
        },
    )
    assert done.status_code == 302
    correction = dispute.corrections.get()
    assert correction.net_fen == -120_000  # (4,000 + 2,000) − (4,800 + 2,400) yuan
    page = me.get(f"/cases/disputes/{dispute.pk}/").content.decode()
    assert correction.bill.number in page and "¥-1,200.00" in page
    # another employer's HR: not found, page, document and list alike
    other = client_for(w["users"]["hr_sh2"])
    for url in (
        f"/cases/disputes/{dispute.pk}/",
        f"/cases/disputes/{dispute.pk}/documents/{doc.pk}/",
    ):
        assert other.get(url).status_code == 404
    assert (
        other.post(f"/cases/disputes/{dispute.pk}/stage/", {"stage": "litigation"}).status_code
        == 404
    )
    assert dispute.number not in other.get("/cases/disputes/").content.decode()


def _file(name: str, data: bytes) -> Any:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_disputes_through_the_api_and_tenant_isolation(w: dict[str, Any]) -> None:
    hr = client_for(w["users"]["hr_sh"])
    answer = post_json(
        hr,
        "/disputes",
        {
            "employer_id": w["sh"].pk,
            "person_id": w["keller"].pk,
            "subject_kind": "bill",
            "subject_id": w["bill"].pk,
            "claim": "The employee disputes the September bill.",
        },
    )
    assert answer.status_code == 201, answer.content
    dispute_id = answer.json()["id"]
    assert answer.json()["opened_as"] == "hr" and answer.json()["stage"] == "mediation"
    doc = post_json(
        hr,
        f"/disputes/{dispute_id}/documents",
        {"title": "Contract", "content_base64": base64.b64encode(PDF).decode()},
    )
    assert doc.status_code == 201
    skipped = post_json(hr, f"/disputes/{dispute_id}/stage", {"stage": "litigation"})
    assert skipped.status_code == 409 and skipped.json()["code"] == "stage_skipped"
    staff = client_for(w["users"]["agency"])
    decided = post_json(
        staff, f"/disputes/{dispute_id}/decision", {"outcome": "partly", "text": "Mediated."}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "decided"
    corrected = post_json(
        staff,
        f"/disputes/{dispute_id}/corrections",
        {
            "lines": [
                {
                    "line_id": w["line"].pk,
                    "employer_amount": "4400.00",
                    "employee_amount": "2200.00",
                }
            ],
            "reason": "Mediation agreement",
        },
    )
    assert corrected.status_code == 201 and corrected.json()["net"] == "-600.00"
    detail = hr.get(f"{API}/disputes/{dispute_id}").json()
    assert [c["bill_number"] for c in detail["corrections"]] == [corrected.json()["bill_number"]]
    assert [e["action"] for e in detail["history"]] == [
        "opened",
        "document_added",
        "decided",
        "corrected",
    ]
    other = client_for(w["users"]["hr_sh2"])
    assert other.get(f"{API}/disputes/{dispute_id}").status_code == 404
    assert other.get(f"{API}/disputes/{dispute_id}/documents/{doc.json()['id']}").status_code == 404
    assert (
        post_json(other, f"/disputes/{dispute_id}/stage", {"stage": "arbitration"}).status_code
        == 404
    )
    assert other.get(f"{API}/disputes").json()["items"] == []
    bj = client_for(w["users"]["agency_bj"])
    assert bj.get(f"{API}/disputes/{dispute_id}").status_code == 404


def test_complaints_overdue_highlighted_reply_in_inbox_report_to_finding(
    w: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    me = client_for(w["users"]["keller"])
    page = me.get("/cases/complaints/new/")
    assert page.status_code == 200 and "5 working days" in page.content.decode()
    sent = me.post(
        "/cases/complaints/new/",
        {
            "kind": "intervention",
            "employer": w["sh"].pk,
            "subject": "Contributions not paid",
            "details": "Since July.",
        },
    )
    assert sent.status_code == 302
    late = Complaint.objects.get()
    # received three weeks ago: the reply clock (5 working days) has run out
    Complaint.objects.filter(pk=late.pk).update(
        received_on=today() - timedelta(days=21), reply_due=today() - timedelta(days=14)
    )
    hr2 = client_for(w["users"]["hr_sh2"])
    report = post_json(
        hr2,
        "/complaints",
        {
            "kind": "report",
            "uscc": w["sh"].uscc,
            "subject": "Unregistered foreigners",
            "details": "Three people.",
        },
    )
    assert report.status_code == 201 and report.json()["overdue"] is False
    staff = client_for(w["users"]["agency"])
    listing = staff.get("/cases/complaints/").content.decode()
    rows = re.findall(
        r"<tr( class=\"overdue\")?>\s*<td><a href=\"/cases/complaints/(\d+)/\">", listing
    )
    assert rows == [(' class="overdue"', str(late.pk)), ("", str(report.json()["id"]))]
    assert listing.count("Reply overdue") == 1
    api_list = staff.get(f"{API}/complaints?overdue=true").json()["items"]
    assert [c["id"] for c in api_list] == [late.pk] and api_list[0]["overdue"] is True
    assert api_list[0]["complainant"] == "KELLER T"
    assert hr2.get(f"{API}/complaints").json()["items"][0]["complainant"] == ""
    # the employer complained about never sees either
    hr = client_for(w["users"]["hr_sh"])
    assert hr.get(f"/cases/complaints/{late.pk}/").status_code == 404
    assert hr.get(f"{API}/complaints").json()["items"] == []
    # the reply reaches the employee's inbox
    with django_capture_on_commit_callbacks(execute=True):
        replied = staff.post(
            f"/cases/complaints/{late.pk}/reply/", {"reply": "Accepted; we are investigating."}
        )
    assert replied.status_code == 302
    note = Notification.objects.get(kind="complaint_reply", user=w["users"]["keller"])
    assert late.number in note.subject and "Accepted; we are investigating." in note.body
    assert (
        "Accepted; we are investigating."
        in me.get(f"/cases/complaints/{late.pk}/").content.decode()
    )
    # the report becomes a finding, linked both ways
    made = staff.post(f"/cases/complaints/{report.json()['id']}/finding/")
    finding = Finding.objects.get(rule="reported")
    assert made.status_code == 302 and made["Location"].endswith(f"/cases/findings/{finding.pk}/")
    assert finding.evidence["subject"] == "Unregistered foreigners"
    finding_page = staff.get(f"/cases/findings/{finding.pk}/").content.decode()
    assert "Reported to the agency" in finding_page and "Unregistered foreigners" in finding_page
    again = post_json(staff, f"/complaints/{report.json()['id']}/finding", {})
    assert again.status_code == 201 and again.json()["finding_id"] == finding.pk
    assert post_json(hr2, f"/complaints/{report.json()['id']}/finding", {}).status_code == 403
    assert Client().get("/cases/complaints/").status_code == 302  # anonymous: sign in


def test_chinese_dispute_and_complaint_pages_show_no_english_and_no_raw_code(
    w: dict[str, Any],
) -> None:
    staff = client_for(w["users"]["agency"])
    me = client_for(w["users"]["keller"])
    post_json(
        me,
        "/disputes",
        {
            "employer_id": w["sh"].pk,
            "person_id": w["keller"].pk,
            "subject_kind": "bill_line",
            "subject_id": w["line"].pk,
            "claim": "基数过高。",
        },
    )
    dispute = Dispute.objects.get()
    post_json(
        staff, f"/disputes/{dispute.pk}/decision", {"outcome": "for_employee", "text": "裁决。"}
    )
    post_json(
        staff,
        f"/disputes/{dispute.pk}/corrections",
        {
            "lines": [
                {
                    "line_id": w["line"].pk,
                    "employer_amount": "4000.00",
                    "employee_amount": "2000.00",
                }
            ],
            "reason": "裁决书",
        },
    )
    complaint = post_json(
        me,
        "/complaints",
        {"kind": "intervention", "employer_id": w["sh"].pk, "subject": "欠缴", "details": "未缴。"},
    ).json()
    Complaint.objects.filter(pk=complaint["id"]).update(reply_due=today() - timedelta(days=3))
    post_json(staff, f"/complaints/{complaint['id']}/finding", {})
    finding = Finding.objects.get(rule="reported")
    msgids = english_msgids()
    stored = codes()
    assert "for_employee" in stored and "dispute.decided" in stored and "bill_line" in stored
    pages = [
        (staff, "/zh-hans/cases/disputes/"),
        (staff, f"/zh-hans/cases/disputes/{dispute.pk}/"),
        (staff, "/zh-hans/cases/disputes/new/"),
        (staff, "/zh-hans/cases/complaints/"),
        (staff, f"/zh-hans/cases/complaints/{complaint['id']}/"),
        (staff, f"/zh-hans/cases/findings/{finding.pk}/"),
        (staff, "/zh-hans/audit/"),
        (me, "/zh-hans/cases/disputes/"),
        (me, f"/zh-hans/cases/disputes/{dispute.pk}/"),
        (me, "/zh-hans/cases/complaints/"),
        (me, "/zh-hans/cases/complaints/new/"),
        (me, f"/zh-hans/cases/complaints/{complaint['id']}/"),
    ]
    problems: list[str] = []
    for client, url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        text = "\n".join(visible_text(page.content.decode()))
        problems += [f"{url}: English {m!r}" for m in msgids if m in text]
        problems += [
            f"{url}: code {c!r}"
            for c in stored
            if re.search(rf"(?<![\w.@/-]){re.escape(c)}(?![\w@/-])", text)
        ]
    assert not problems, "\n".join(problems)
