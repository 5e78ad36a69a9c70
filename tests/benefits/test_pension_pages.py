"""The pension and proof-of-life pages in both languages: where the person stands and the refusal
short of the minimum, the award explained, the online proof of life lifting a suspension, and the
agency's pages (decision, certificates, in person, the monthly run), each kept to its users."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from expatsi.access.actors import SYSTEM, actor_for_user
from expatsi.benefits import proof_of_life
from expatsi.benefits.models import Payout, Pension, PensionStatus, ProofOfLife
from tests.benefits.pension_world import pensioner, retiree
from tests.portal.factories import PASSWORD, make_agency, make_hr, make_user
from tests.twofactor import verified_login

PDF = b"%PDF-1.4 life certificate"


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize(
    ("prefix", "missing"),
    [("", "10 months are missing"), ("/zh-hans", "还差 10 个月")],
)
def test_short_of_the_minimum_the_page_says_how_many_months_and_the_options(
    beijing, prefix: str, missing: str
) -> None:
    _person, user = retiree(beijing, months=170, born=date(1960, 1, 1))
    page = client_for(user).get(f"{prefix}/benefits/pension/")
    assert page.status_code == 200
    text = page.content.decode()
    assert missing in text
    assert 'id="pension-form"' not in text  # nothing to apply for yet
    assert "below_minimum_contribution" not in text


def test_an_application_posted_short_of_the_minimum_is_refused_with_the_months(beijing) -> None:
    _person, user = retiree(beijing, months=170, born=date(1960, 1, 1))
    response = client_for(user).post(
        "/zh-hans/benefits/pension/",
        {
            "holder": "Jean Martin",
            "country": "FRA",
            "iban": "FR1420041010050500013M02606",
            "bic": "PSSTFRPPPAR",
            "currency": "EUR",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "还差 10 个月" in response.content.decode()
    assert not Pension.objects.exists()


@pytest.mark.parametrize(
    ("prefix", "suspended", "thanks"),
    [
        ("", "Payment is suspended", "your proof of life is recorded"),
        ("/zh-hans", "养老金已暂停发放", "您的领取资格认证已登记"),
    ],
)
def test_an_online_proof_of_life_lifts_the_suspension(
    beijing, prefix: str, suspended: str, thanks: str
) -> None:
    _person, user, pension = pensioner(beijing)
    proof_of_life.proofs_daily(actor=SYSTEM, today=date(2026, 8, 2))
    c = client_for(user)
    page = c.get(f"{prefix}/benefits/pension/").content.decode()
    assert suspended in page and 'id="online-proof-form"' in page
    wrong = c.post(
        f"{prefix}/benefits/pensions/{pension.pk}/proof/", {"route": "online", "password": "x"}
    )
    assert wrong.status_code == 400
    pension.refresh_from_db()
    assert pension.status == PensionStatus.SUSPENDED
    done = c.post(
        f"{prefix}/benefits/pensions/{pension.pk}/proof/",
        {"route": "online", "password": PASSWORD},
        follow=True,
    )
    assert thanks in done.content.decode()
    pension.refresh_from_db()
    assert pension.status == PensionStatus.AWARDED
    assert pension.proof_due is not None and pension.proof_due > timezone.localdate()


def test_the_award_is_shown_line_by_line_with_its_status(beijing) -> None:
    person, user = retiree(beijing)
    from expatsi.benefits import pensions
    from tests.benefits.pension_world import FRENCH

    pensions.pension_apply(
        actor=actor_for_user(user),
        person_id=person.pk,
        bank_details=FRENCH,
        password=PASSWORD,
        today=date(2031, 1, 10),
    )
    en = client_for(user).get("/benefits/pension/").content.decode()
    assert "¥4,058.02" in en or "4,058.02" in en
    assert 'id="line-divisor"' in en and "Confirmed: based on figures from an official text" in en
    zh = client_for(user).get("/zh-hans/benefits/pension/").content.decode()
    assert "月养老金" in zh and "计算过程" in zh
    assert "****2606" in en and "FR1420041010050500013M02606" not in en


def test_agency_pages_decide_review_record_and_run(beijing, settings) -> None:
    _person, user, pension = pensioner(beijing)
    officer = make_agency("officer-one", regions="110000")
    staff = verified_login(Client(), officer)
    Pension.objects.filter(pk=pension.pk).update(status=PensionStatus.SUBMITTED)
    listing = staff.get("/zh-hans/benefits/pensions/").content.decode()
    assert "待决定的养老金申请" in listing and f"/benefits/pensions/{pension.pk}/" in listing
    refused = staff.post(f"/benefits/pensions/{pension.pk}/decide/", {"decision": "approve"})
    assert refused.status_code == 400  # the identity check is missing
    staff.post(
        f"/benefits/pensions/{pension.pk}/decide/",
        {"decision": "approve", "identity_checked": "on"},
    )
    pension.refresh_from_db()
    assert pension.status == PensionStatus.AWARDED
    proof = proof_of_life.proof_upload(
        actor=actor_for_user(user),
        pension_id=pension.pk,
        route="notarised",
        document=PDF,
        verified_on=timezone.localdate(),
    )
    document = staff.get(f"/benefits/proofs/{proof.pk}/certificate")
    assert document.status_code == 200 and document.content == PDF
    staff.post(f"/benefits/proofs/{proof.pk}/decide/", {"decision": "reject", "reason": "blurred"})
    assert ProofOfLife.objects.get(pk=proof.pk).status == "rejected"
    staff.post(
        f"/benefits/pensions/{pension.pk}/proof/", {"route": "in_person", "note": "passport"}
    )
    assert ProofOfLife.objects.filter(route="in_person").count() == 1
    month = f"{timezone.localdate():%Y-%m}"
    ran = staff.post(
        "/benefits/pensions/run/", {"region_code": "110000", "month": month}, follow=True
    )
    assert ran.status_code == 200
    assert Payout.objects.filter(pension=pension).exists()
    again = staff.post("/benefits/pensions/run/", {"region_code": "110000", "month": month})
    assert again.status_code == 302
    count = Payout.objects.filter(pension=pension).count()
    staff.post("/benefits/pensions/run/", {"region_code": "110000", "month": month})
    assert Payout.objects.filter(pension=pension).count() == count
    bad = staff.post("/benefits/pensions/run/", {"region_code": "110000", "month": "2999-01"})
    assert bad.status_code == 400


def test_hr_other_people_and_other_regions_are_kept_out(beijing) -> None:
    _person, _user, pension = pensioner(beijing)
    hr = client_for(make_hr(beijing, "hr-pages"))
    assert hr.get("/benefits/pensions/").status_code == 403
    assert hr.get(f"/benefits/pensions/{pension.pk}/").status_code == 403
    assert hr.get("/benefits/pension/").status_code == 403
    other = client_for(make_user("someone"))
    assert other.get(f"/benefits/pensions/{pension.pk}/").status_code in (403, 404)
    shanghai = verified_login(Client(), make_agency("officer-sh", regions="310000"))
    assert shanghai.get(f"/benefits/pensions/{pension.pk}/").status_code == 404
    assert (
        shanghai.post(f"/benefits/pensions/{pension.pk}/proof/", {"route": "in_person"}).status_code
        == 404
    )
