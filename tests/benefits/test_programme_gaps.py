"""Benefit programmes (issue #11 gaps): four eyes above EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE, as for
lump sums, pensions and inheritance; a programme paid to a bank account in China.

The holder and the programmes are test_programmes.py's: "newcomer" pays 800.00 (80,000 fen).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from expatsi.access.actors import actor_for_user
from expatsi.benefits import programmes, services
from expatsi.benefits.models import Payout, ProgrammeApplication
from expatsi.notify.models import Notification
from expatsi.rules.errors import Forbidden
from tests.benefits.test_programmes import (  # noqa: F401 - fixtures by name
    API,
    BANK,
    bank,
    beijing,
    holder,
    sample_programmes,
)
from tests.portal.factories import make_agency
from tests.twofactor import verified_login

CHINA_BANK = {
    "holder": "Ana Silva",
    "country": "CHN",
    "iban": "",
    "account_number": "6222 0212 3456 7890 123",
    "bank_code": "",
    "bic": "ICBKCNBJ",
    "currency": "CNY",
}


def test_above_the_threshold_a_second_different_officer_approves(
    holder: Any,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
) -> None:
    """Threshold 500.00 (50,000 fen); the programme pays 800.00: above it, so the first approval
    waits for a second officer; the first one may not approve twice; the payout and the person's
    notice follow the second approval only."""
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 50_000
    app = programmes.programme_apply(
        actor=actor_for_user(holder), programme="newcomer", bank_details=bank()
    )
    first = actor_for_user(make_agency("officer-one", regions="110000"))
    second = actor_for_user(make_agency("officer-two", regions="110000"))
    with django_capture_on_commit_callbacks(execute=True):
        app = programmes.programme_decide(
            actor=first, programme_application_id=app.pk, decision="approve"
        )
    assert app.status == "second_approval"
    assert not Payout.objects.exists() and not Notification.objects.filter(user=holder).exists()
    assert list(programmes.applications_queue(second)) == [app]  # still in the queue
    with pytest.raises(Forbidden) as err:
        programmes.programme_decide(
            actor=first, programme_application_id=app.pk, decision="approve"
        )
    assert err.value.code == "four_eyes"
    with django_capture_on_commit_callbacks(execute=True):
        app = programmes.programme_decide(
            actor=second, programme_application_id=app.pk, decision="approve", note="checked"
        )
    assert (app.status, app.reviewed_by_label != app.second_by_label) == ("approved", True)
    assert Payout.objects.get(programme_application=app).amount == 80_000
    kinds = list(Notification.objects.filter(user=holder).values_list("kind", flat=True))
    assert kinds == ["programme_approved"]


def test_at_the_threshold_one_approval_pays(holder: Any, settings) -> None:  # noqa: F811
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 80_000  # 800.00: not above
    app = programmes.programme_apply(
        actor=actor_for_user(holder), programme="newcomer", bank_details=bank()
    )
    officer = actor_for_user(make_agency("officer-one", regions="110000"))
    app = programmes.programme_decide(
        actor=officer, programme_application_id=app.pk, decision="approve"
    )
    assert app.status == "approved" and Payout.objects.filter(programme_application=app).exists()


def test_a_second_officer_may_reject(holder: Any, settings) -> None:  # noqa: F811
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 50_000
    app = programmes.programme_apply(
        actor=actor_for_user(holder), programme="newcomer", bank_details=bank()
    )
    first = actor_for_user(make_agency("officer-one", regions="110000"))
    second = actor_for_user(make_agency("officer-two", regions="110000"))
    programmes.programme_decide(actor=first, programme_application_id=app.pk, decision="approve")
    app = programmes.programme_decide(
        actor=second, programme_application_id=app.pk, decision="reject", reason="not resident"
    )
    assert (app.status, app.rejection_reason) == ("rejected", "not resident")
    assert not Payout.objects.exists()


@pytest.mark.parametrize(
    ("prefix", "waits", "refused"),
    [
        ("", "a second agency user must approve this payout too", "you approved it first"),
        ("/zh-hans", None, None),
    ],
)
def test_four_eyes_on_the_page_and_the_api(
    holder: Any,  # noqa: F811
    settings,
    prefix: str,
    waits: str | None,
    refused: str | None,
) -> None:
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 50_000
    app = programmes.programme_apply(
        actor=actor_for_user(holder), programme="newcomer", bank_details=bank()
    )
    one = verified_login(Client(), make_agency("officer-one", regions="110000"))
    two = verified_login(Client(), make_agency("officer-two", regions="110000"))
    url = f"{prefix}/benefits/programme-applications/{app.pk}/"
    page = one.get(url).content.decode()
    assert 'id="four-eyes"' in page
    done = one.post(f"{url}decide/", {"decision": "approve"}, follow=True)
    text = done.content.decode()
    assert done.status_code == 200
    assert ProgrammeApplication.objects.get().status == "second_approval"
    again = one.post(f"{url}decide/", {"decision": "approve"})
    assert again.status_code == 400
    if waits and refused:
        assert waits in text and refused in again.content.decode()
    else:  # Chinese: the page speaks Chinese, not the English sentence
        assert "a second agency user" not in text + again.content.decode()
    assert 'id="approve"' in two.get(url).content.decode()  # the second officer may decide
    api = two.post(
        f"{API}/programme-applications/{app.pk}/decision",
        {"decision": "approve"},
        content_type="application/json",
    )
    assert api.status_code == 200, api.content
    body = api.json()
    assert body["status"] == "approved" and body["second_by"] and body["reviewed_by"]
    assert body["second_by"] != body["reviewed_by"]


def test_the_api_refuses_the_first_officer_twice(holder: Any, settings) -> None:  # noqa: F811
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 50_000
    app = programmes.programme_apply(
        actor=actor_for_user(holder), programme="newcomer", bank_details=bank()
    )
    one = verified_login(Client(), make_agency("officer-one", regions="110000"))
    path = f"{API}/programme-applications/{app.pk}/decision"
    first = one.post(path, {"decision": "approve"}, content_type="application/json")
    assert first.status_code == 200 and first.json()["status"] == "second_approval"
    again = one.post(path, {"decision": "approve"}, content_type="application/json")
    assert again.status_code == 403 and again.json()["code"] == "four_eyes"


def test_a_programme_is_paid_to_a_bank_in_china(holder: Any) -> None:  # noqa: F811
    """The holder usually lives in China: a Chinese account (CNY, account number and BIC) is taken
    and paid through the payment run — unlike a lump sum abroad."""
    app = programmes.programme_apply(
        actor=actor_for_user(holder),
        programme="newcomer",
        bank_details=services.BankDetails(**CHINA_BANK),
    )
    assert (app.bank_account.country, app.bank_account.currency) == ("CHN", "CNY")
    officer = actor_for_user(make_agency("officer-one", regions="110000"))
    programmes.programme_decide(actor=officer, programme_application_id=app.pk, decision="approve")
    run = services.payment_run(actor=officer, region_code="110000")
    assert run is not None and run.total == 80_000
    assert "6222021234567890123" in run.xml and "ICBKCNBJ" in run.xml


def test_a_chinese_account_on_the_holders_page(holder: Any) -> None:  # noqa: F811
    c = Client()
    c.force_login(holder)
    done = c.post("/benefits/programmes/", {**CHINA_BANK, "programme": "newcomer"})
    assert done.status_code == 302, done.content.decode()[:2000]
    assert ProgrammeApplication.objects.get().bank_account.country == "CHN"
    assert BANK["country"] == "PRT"  # the lump-sum test data is untouched
