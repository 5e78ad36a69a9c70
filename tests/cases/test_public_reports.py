"""Anyone reports an employer without an account (issue #12): the public page and
``POST /api/v1/reports``; the agency sees the report in its list with the reply clock, replies
by e-mail after commit and turns it into a finding; abuse stays out (honeypot, rate limit)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from expatsi.access.models import AgencyStaff
from expatsi.audit.models import AuditEvent
from expatsi.cases.models import Complaint, Finding
from expatsi.employers.models import Employer
from expatsi.rules.deadlines import deadline
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db

PAGE = "/cases/report/"
API = "/api/v1/reports"
GOOD_USCC = "91310000MA1FL8X3P0"  # tests/cases/conftest.py ``sh``
BAD_USCC = "91110000600037341A"  # 91110000600037341L with a wrong check character
DESCRIPTION = "Three foreign engineers have worked here since March without social insurance."


def form(**changes: Any) -> dict[str, Any]:
    data = {
        "employer_name": "",
        "uscc": GOOD_USCC,
        "region": "310000",
        "category": "no_insurance",
        "description": DESCRIPTION,
        "email": "witness@example.org",
        "website": "",
    }
    return {**data, **changes}


def post_api(client: Client, body: dict[str, Any]) -> Any:
    return client.post(API, json.dumps(body), content_type="application/json")


@pytest.fixture
def staff(sh: Employer) -> Client:
    user = get_user_model().objects.create_user(username="officer", email="o@example.org")
    AgencyStaff.objects.create(user=user, regions="310000")
    return verified_login(Client(), user)


def test_the_start_page_and_every_footer_link_to_the_report_page_in_both_languages() -> None:
    for prefix in ("", "/zh-hans"):
        home = Client().get(f"{prefix}/").content.decode()
        assert f'href="{prefix}/cases/report/" id="home-report"' in home
        assert f'href="{prefix}/cases/report/" id="footer-report"' in home
    assert "举报用人单位" in Client().get("/zh-hans/cases/report/").content.decode()


def test_a_report_without_an_account_gets_a_number_and_an_acknowledgement_after_commit(
    sh: Employer, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    page = client.get(PAGE)
    assert page.status_code == 200 and 'name="website"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sent = client.post(PAGE, form())
        assert mail.outbox == []  # nothing before the commit
    assert sent.status_code == 302 and sent["Location"] == "/cases/report/sent/"
    for callback in callbacks:
        callback()
    report = Complaint.objects.get()
    today = timezone.localdate()
    assert report.kind == "report" and report.submitted_as == "public"
    assert report.employer == sh and report.region_code == "310000"
    assert report.category == "no_insurance" and report.place == "310000"
    assert report.contact_email == "witness@example.org" and report.submitted_by is None
    assert report.number == f"CMP-310000-{today.year}-{report.pk:06d}"
    assert report.reply_due == deadline("complaint_reply", today).due  # 5 working days
    shown = client.get(sent["Location"]).content.decode()
    assert report.number in shown and 'id="report-ack"' in shown
    assert len(mail.outbox) == 1
    ack = mail.outbox[0]
    assert ack.to == ["witness@example.org"] and report.number in ack.subject
    assert sh.name in ack.body
    # The history and the audit trail say a report came in, not who sent it.
    event = AuditEvent.objects.get(action="complaint.filed")
    assert event.actor_kind == "public" and "witness" not in json.dumps(event.detail)


def test_a_report_in_chinese_is_acknowledged_in_chinese(
    sh: Employer, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sent = Client().post("/zh-hans/cases/report/", form(category="not_paid"))
    assert sent.status_code == 302
    assert "社会保险经办机构" in mail.outbox[0].body or "经办机构" in mail.outbox[0].subject
    assert Complaint.objects.get().language == "zh-hans"


def test_by_the_registered_name_alone(sh: Employer) -> None:
    sent = Client().post(PAGE, form(uscc="", employer_name=sh.name.upper(), email=""))
    assert sent.status_code == 302
    assert Complaint.objects.get().employer == sh


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"uscc": BAD_USCC}, "uscc", "Not a valid unified social credit code."),
        ({"description": ""}, "description", "This field is required."),
        ({"uscc": "", "employer_name": ""}, "employer_name", "Give the employer&#x27;s name"),
        ({"uscc": "", "employer_name": "Nobody Ltd."}, "employer_name", "No registered employer"),
        ({"category": "bribery"}, "category", "Select a valid choice"),
        ({"anonymous": "on"}, "email", "An anonymous report keeps no contact"),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
    ],
)
def test_field_errors_are_shown_on_their_field_and_store_nothing(
    sh: Employer, changes: dict[str, str], field: str, words: str
) -> None:
    page = Client().post(PAGE, form(**changes))
    text = page.content.decode()
    assert page.status_code == 400
    assert f'id="id_{field}_error"' in text and words in text
    assert not Complaint.objects.exists()


def test_field_errors_in_chinese(sh: Employer) -> None:
    text = Client().post("/zh-hans/cases/report/", form(uscc=BAD_USCC)).content.decode()
    assert 'id="id_uscc_error"' in text and "统一社会信用代码" in text


def test_the_honeypot_refuses_and_stores_nothing(sh: Employer) -> None:
    page = Client().post(PAGE, form(website="http://spam.example"))
    assert page.status_code == 400
    assert "could not be accepted" in page.content.decode()
    assert not Complaint.objects.exists() and mail.outbox == []


def test_the_rate_limit_answers_429_with_a_sentence_not_a_500(sh: Employer, settings: Any) -> None:
    settings.EXPATSI_REPORT_RATE_PER_HOUR = 2
    client = Client()
    assert client.post(PAGE, form(email="")).status_code == 302
    assert (
        post_api(
            client, {"uscc": GOOD_USCC, "category": "other", "description": DESCRIPTION}
        ).status_code
        == 201
    )
    page = client.post(PAGE, form(email=""))
    assert page.status_code == 429 and int(page["Retry-After"]) > 0
    assert "Too many reports from your address" in page.content.decode()
    zh = client.post("/zh-hans/cases/report/", form(email=""))
    assert zh.status_code == 429 and "举报" in zh.content.decode()
    api = post_api(client, {"uscc": GOOD_USCC, "category": "other", "description": DESCRIPTION})
    assert api.status_code == 429 and api.json()["code"] == "rate_limited"
    assert "Retry-After" in api
    assert Complaint.objects.count() == 2
    # Another address has its own budget.
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert other.post(PAGE, form(email="")).status_code == 302


def test_the_api_files_a_report_and_answers_400_on_its_field(
    sh: Employer, django_capture_on_commit_callbacks: Any
) -> None:
    body = {
        "uscc": GOOD_USCC,
        "category": "illegal_employment",
        "description": DESCRIPTION,
        "email": "w@example.org",
    }
    with django_capture_on_commit_callbacks(execute=True):
        made = post_api(Client(), body)
    assert made.status_code == 201
    out = made.json()
    report = Complaint.objects.get()
    assert out == {
        "number": report.number,
        "received_on": report.received_on.isoformat(),
        "reply_due": report.reply_due.isoformat(),
        "acknowledgement": True,
    }
    assert report.category == "illegal_employment" and len(mail.outbox) == 1
    for changes, field, code in [
        ({"uscc": BAD_USCC}, "uscc", "invalid_uscc"),
        ({"description": ""}, "description", "required"),
        ({"description": "too short"}, "description", "description_too_short"),
        ({"category": "bribery"}, "category", "invalid_category"),
        ({"email": "nope"}, "email", "invalid_email"),
        ({"region_code": "999999"}, "region_code", "invalid_region"),
        ({"uscc": "91110000600037341L"}, "uscc", "unknown_employer"),  # valid, not on file
    ]:
        bad = post_api(Client(), {**body, **changes})
        assert bad.status_code == 400, (changes, bad.content)
        assert (bad.json()["field"], bad.json()["code"]) == (field, code)
    assert Complaint.objects.count() == 1


def test_the_agency_sees_replies_by_mail_after_commit_and_makes_a_finding(
    sh: Employer, staff: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/zh-hans/cases/report/", form(category="not_paid"))
    report = Complaint.objects.get()
    mail.outbox.clear()
    Complaint.objects.filter(pk=report.pk).update(
        reply_due=timezone.localdate() - timedelta(days=1)
    )
    listing = staff.get("/cases/complaints/?overdue=1").content.decode()
    assert report.number in listing and 'class="overdue"' in listing
    assert "witness@example.org" not in listing  # the address only on the report's own page
    before = AuditEvent.objects.filter(action="complaint.read").count()
    page = staff.get(f"/cases/complaints/{report.pk}/").content.decode()
    assert "witness@example.org" in page and "Contributions not paid" in page
    assert "the reply goes by e-mail to the address the reporter gave" in page
    assert AuditEvent.objects.filter(action="complaint.read").count() == before + 1
    detail = staff.get(f"/api/v1/cases/complaints/{report.pk}").json()
    assert detail["contact_email"] == "witness@example.org" and detail["category"] == "not_paid"
    listed = staff.get("/api/v1/cases/complaints").json()["items"][0]
    assert "contact_email" not in listed and listed["submitted_as"] == "public"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        staff.post(
            f"/cases/complaints/{report.pk}/reply/",
            {"reply": "Accepted; an inspector will visit the employer."},
        )
        assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    reply = mail.outbox[0]
    assert reply.to == ["witness@example.org"] and report.number in reply.subject
    assert "an inspector will visit" in reply.body and "经办机构" in reply.body  # in Chinese

    made = staff.post(f"/cases/complaints/{report.pk}/finding/")
    assert made.status_code == 302
    finding = Finding.objects.get(rule="reported")
    assert finding.employer == sh and finding.evidence["complaint"] == report.number
    assert "witness" not in json.dumps(finding.evidence)
    report.refresh_from_db()
    assert report.finding == finding


def test_nobody_but_agency_staff_of_the_region_sees_a_public_report(sh: Employer) -> None:
    Client().post(PAGE, form())
    report = Complaint.objects.get()
    model = get_user_model()
    bj_staff = model.objects.create_user(username="bj")
    AgencyStaff.objects.create(user=bj_staff, regions="110000")
    other = model.objects.create_user(username="someone")
    for user in (bj_staff, other):
        client = verified_login(Client(), user)
        assert client.get(f"/cases/complaints/{report.pk}/").status_code == 404
        assert client.get(f"/api/v1/cases/complaints/{report.pk}").status_code == 404
    assert Client().get(f"/cases/complaints/{report.pk}/").status_code == 302  # sign in first


def test_the_sent_page_without_a_report_goes_back_to_the_form() -> None:
    assert Client().get("/cases/report/sent/")["Location"] == PAGE


def test_chinese_report_pages_show_no_english_and_no_raw_code(sh: Employer, staff: Client) -> None:
    from tests.security.test_chinese_pages_no_codes import codes, english_msgids, visible_text

    public = Client()
    refused = public.post("/zh-hans/cases/report/", form(uscc=BAD_USCC)).content.decode()
    public.post("/zh-hans/cases/report/", form(category="illegal_employment"))
    report = Complaint.objects.get()
    msgids = english_msgids()
    stored = codes() | {"illegal_employment", "no_insurance", "not_paid"}
    pages = [
        ("refused form", refused),
        ("form", public.get("/zh-hans/cases/report/").content.decode()),
        ("sent", public.get("/zh-hans/cases/report/sent/").content.decode()),
        ("list", staff.get("/zh-hans/cases/complaints/").content.decode()),
        ("report", staff.get(f"/zh-hans/cases/complaints/{report.pk}/").content.decode()),
    ]
    problems: list[str] = []
    for name, page in pages:
        text = "\n".join(visible_text(page))
        problems += [f"{name}: English {m!r}" for m in msgids if m in text]
        problems += [
            f"{name}: code {c!r}"
            for c in stored
            if re.search(rf"(?<![\w.@/-]){re.escape(c)}(?![\w@/-])", text)
        ]
    assert not problems, "\n".join(problems)
