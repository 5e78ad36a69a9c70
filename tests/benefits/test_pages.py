"""The departure pages in both languages: the person's choice and application, the agency's
decision and payment run, refusals on their fields."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from expatsi.benefits import ledger, services
from expatsi.benefits.models import DepartureCase, PaymentRun, Payout, TerminationApplication
from expatsi.web.formatting import yuan
from tests.benefits.conftest import LEFT_ON, Departed
from tests.portal.factories import PASSWORD
from tests.twofactor import verified_login

FORM = {
    "holder": "Claire Lefebvre",
    "country": "FRA",
    "iban": "FR14 2004 1010 0505 0001 3M02 606",
    "account_number": "",
    "bank_code": "",
    "bic": "PSSTFRPPPAR",
    "currency": "EUR",
    "declaration": "on",
    "password": PASSWORD,
}


def person_client(d: Departed) -> Client:
    c = Client()
    c.force_login(d.user)
    return c


def _case(d: Departed) -> DepartureCase:
    return services.departure_open(actor=d.actor, person_id=d.person.pk, departure_date=LEFT_ON)[0]


@pytest.mark.parametrize(
    ("prefix", "title", "keep"),
    [("", "Leaving China", "Keep my account"), ("/zh-hans", "离开中国", "保留我的账户")],
)
def test_leaving_page_offers_the_choice(
    departed: Departed, prefix: str, title: str, keep: str
) -> None:
    c = person_client(departed)
    page = c.get(f"{prefix}/benefits/leaving/")
    assert page.status_code == 200
    text = page.content.decode()
    assert title in text
    assert "declare-form" in text  # no case yet: the person can declare
    declared = c.post(f"{prefix}/benefits/leaving/", {"departure_date": LEFT_ON.isoformat()})
    assert declared.status_code == 302
    page = c.get(f"{prefix}/benefits/leaving/")
    assert keep in page.content.decode()
    assert (
        f'href="{prefix}/benefits/leaving/' in page.content.decode()
        or "/benefits/leaving/" in page.content.decode()
    )


def test_the_nav_links_the_page_for_the_person_and_the_queue_for_staff(departed: Departed) -> None:
    assert "/benefits/leaving/" in person_client(departed).get("/", follow=True).content.decode()
    staff = verified_login(Client(), departed.officer)
    assert "/benefits/applications/" in staff.get("/", follow=True).content.decode()


def test_the_person_sees_the_lump_sum_and_statement_then_signs(departed: Departed) -> None:
    case = _case(departed)
    c = person_client(departed)
    today = timezone.localdate()
    expected = ledger.lump_sum_on(departed.person.pk, today).amount
    page = c.get(f"/benefits/leaving/{case.pk}/terminate/")
    text = page.content.decode()
    assert page.status_code == 200
    assert yuan(expected) in text
    assert 'id="statement"' in text and "7200.00" in text  # 2025 credits
    wrong = c.post(f"/zh-hans/benefits/leaving/{case.pk}/terminate/", {**FORM, "password": "nope"})
    assert wrong.status_code == 400
    assert "请再次输入密码以签署申请。" in wrong.content.decode()
    assert 'id="id_password_error"' in wrong.content.decode()
    bad_iban = c.post(
        f"/benefits/leaving/{case.pk}/terminate/",
        {**FORM, "iban": "FR14 2004 1010 0505 0001 3M02 607"},
    )
    assert bad_iban.status_code == 400
    assert 'id="id_iban_error"' in bad_iban.content.decode()
    signed = c.post(f"/benefits/leaving/{case.pk}/terminate/", FORM)
    assert signed.status_code == 302
    app = TerminationApplication.objects.get()
    assert app.amount == expected
    shown = c.get(signed["Location"]).content.decode()
    assert "****2606" in shown and "FR1420041010050500013M02606" not in shown
    again = c.get(f"/zh-hans/benefits/leaving/{case.pk}/terminate/").content.decode()
    assert "您已有一份正在办理的终止申请：不受理第二份申请。" in again


def test_the_pension_age_refusal_in_both_languages(departed: Departed) -> None:
    from expatsi.people.models import Person

    Person.objects.filter(pk=departed.person.pk).update(birth_date=date(1960, 1, 1))
    case = _case(departed)
    c = person_client(departed)
    en = c.get(f"/benefits/leaving/{case.pk}/terminate/").content.decode()
    assert "you have reached the statutory pension age (60y, from 2020-01)" in en
    assert "The pension route applies" in en
    assert "termination-form" not in en
    zh = c.get(f"/zh-hans/benefits/leaving/{case.pk}/terminate/").content.decode()
    assert "您已达到法定退休年龄（60y，自 2020-01 起）" in zh
    refused = c.post(f"/zh-hans/benefits/leaving/{case.pk}/terminate/", FORM)
    assert refused.status_code == 400
    assert "按养老金途径办理" in refused.content.decode()


def test_agency_decides_and_runs_in_both_languages(departed: Departed, settings) -> None:
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 100  # every payout needs four eyes here
    case = _case(departed)
    person_client(departed).post(f"/benefits/leaving/{case.pk}/terminate/", FORM)
    app = TerminationApplication.objects.get()
    one = verified_login(Client(), departed.officer)
    two = verified_login(Client(), departed.officer2)
    queue = one.get("/zh-hans/benefits/applications/").content.decode()
    assert "待审批的终止申请" in queue and departed.person.full_name in queue
    unchecked = one.post(f"/benefits/applications/{app.pk}/decide/", {"decision": "approve"})
    assert unchecked.status_code == 400
    assert 'id="id_identity_checked_error"' in unchecked.content.decode()
    first = one.post(
        f"/benefits/applications/{app.pk}/decide/",
        {"decision": "approve", "identity_checked": "on", "note": "passport seen"},
    )
    assert first.status_code == 302
    same = one.post(
        f"/zh-hans/benefits/applications/{app.pk}/decide/",
        {"decision": "approve", "identity_checked": "on"},
    )
    assert same.status_code == 400
    assert "此笔支付须由另一名经办人员复核批准" in same.content.decode()
    assert (
        two.post(
            f"/benefits/applications/{app.pk}/decide/",
            {"decision": "approve", "identity_checked": "on"},
        ).status_code
        == 302
    )
    assert Payout.objects.get().status == "pending"
    assert one.post("/benefits/payments/run/", {"region_code": "110000"}).status_code == 302
    run = PaymentRun.objects.get()
    xml = one.get(f"/benefits/payments/runs/{run.pk}/pain001.xml")
    assert xml.status_code == 200 and b"<IBAN>FR1420041010050500013M02606</IBAN>" in xml.content
    assert one.post("/benefits/payments/run/", {"region_code": "110000"}).status_code == 302
    assert PaymentRun.objects.count() == 1
    payout = Payout.objects.get()
    from django.core.files.uploadedfile import SimpleUploadedFile

    ret = SimpleUploadedFile(
        "return.csv",
        f"end_to_end_id,status,date\n{payout.end_to_end_id},ACSC,2025-12-03\n".encode(),
        "text/csv",
    )
    assert one.post("/benefits/payments/return/", {"file": ret}).status_code == 302
    assert TerminationApplication.objects.get().status == "paid"
    shown = (
        person_client(departed).get(f"/zh-hans/benefits/applications/{app.pk}/").content.decode()
    )
    assert "已支付：账户已关闭" in shown


def test_hr_and_other_people_are_kept_out(departed: Departed) -> None:
    from tests.portal.factories import make_hr, make_user

    case = _case(departed)
    hr = Client()
    hr.force_login(make_hr(departed.employer, "hr-x"))
    assert hr.get("/benefits/leaving/").status_code == 403
    assert hr.get("/benefits/applications/").status_code == 403
    stranger = Client()
    stranger.force_login(make_user("stranger"))
    assert stranger.get(f"/benefits/leaving/{case.pk}/terminate/").status_code == 403


def test_a_signed_form_uploaded_instead_of_the_password(departed: Departed) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = _case(departed)
    c = person_client(departed)
    text_file = SimpleUploadedFile("form.txt", b"not a pdf", "text/plain")
    refused = c.post(
        f"/benefits/leaving/{case.pk}/terminate/",
        {**FORM, "password": "", "signed_form": text_file},
    )
    assert refused.status_code == 400
    assert "The signed form must be a PDF, JPEG or PNG file." in refused.content.decode()
    pdf = SimpleUploadedFile("form.pdf", b"%PDF-1.4 signed application", "application/pdf")
    signed = c.post(
        f"/benefits/leaving/{case.pk}/terminate/", {**FORM, "password": "", "signed_form": pdf}
    )
    assert signed.status_code == 302
    app = TerminationApplication.objects.get()
    assert (app.signed_via, app.signed_form_type) == ("upload", "application/pdf")
    assert bytes(app.signed_form).startswith(b"%PDF")
