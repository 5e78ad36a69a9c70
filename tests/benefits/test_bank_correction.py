"""The bank returns the lump sum (RJCT): the person, or agency staff of the region, corrects the bank
details and the amount goes out in the next payment run as a NEW payout to the new account. The
returned payout and its reversing entry stay; nothing is sent twice."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from expatsi.audit.models import AuditEvent
from expatsi.benefits import services
from expatsi.benefits.models import Payout, TerminationApplication
from expatsi.rules.errors import Conflict, Forbidden, RuleError
from tests.benefits.conftest import LEFT_ON, Departed
from tests.benefits.test_account_after_lump_sum import FRENCH
from tests.portal.factories import PASSWORD, make_agency
from tests.twofactor import verified_login

GERMAN = services.BankDetails(
    holder="Claire Lefebvre",
    country="DEU",
    iban="DE89 3704 0044 0532 0130 00",
    bic="COBADEFFXXX",
    currency="EUR",
)
GERMAN_FORM = {
    "holder": "Claire Lefebvre",
    "country": "DEU",
    "iban": "DE89 3704 0044 0532 0130 00",
    "account_number": "",
    "bank_code": "",
    "bic": "COBADEFFXXX",
    "currency": "EUR",
}


def approved_and_sent(d: Departed) -> TerminationApplication:
    case, _ = services.departure_open(actor=d.actor, person_id=d.person.pk, departure_date=LEFT_ON)
    app = services.termination_apply(
        actor=d.actor,
        case_id=case.pk,
        bank_details=FRENCH,
        declaration=True,
        password=PASSWORD,
        closing_date=date(2025, 11, 20),
    )
    services.termination_decide(
        actor=d.agency(), termination_id=app.pk, decision="approve", identity_checked=True
    )
    services.payment_run(actor=d.agency(), region_code="110000")
    return app


def returned(d: Departed) -> Payout:
    payout = Payout.objects.get(kind="payout", status="sent")
    services.payments_reconcile(
        actor=d.agency(),
        text=f"end_to_end_id,status,date,reason\n{payout.end_to_end_id},RJCT,2025-12-03,AC04\n",
    )
    return payout


def test_the_person_corrects_and_the_next_run_pays_a_new_payout(departed: Departed) -> None:
    app = approved_and_sent(departed)
    with pytest.raises(Conflict) as early:  # nothing returned yet
        services.payout_bank_correct(
            actor=departed.actor, termination_id=app.pk, bank_details=GERMAN
        )
    assert early.value.code == "payout_in_flight"
    first = returned(departed)
    fresh = services.payout_bank_correct(
        actor=departed.actor, termination_id=app.pk, bank_details=GERMAN
    )
    assert (fresh.amount, fresh.status, fresh.end_to_end_id, fresh.bank_account.masked_number) == (
        722_700,
        "pending",
        f"LS{app.pk:010d}N002",
        "****3000",
    )
    first.refresh_from_db()
    assert (first.status, first.bank_account.masked_number) == ("rejected", "****2606")
    assert Payout.objects.get(reverses=first).amount == -722_700
    with pytest.raises(Conflict):  # one payout in flight at a time
        services.payout_bank_correct(
            actor=departed.actor, termination_id=app.pk, bank_details=GERMAN
        )
    run = services.payment_run(actor=departed.agency(), region_code="110000")
    assert run is not None and (run.count, run.total) == (1, 722_700)
    assert "DE89370400440532013000" in run.xml and "FR1420041010050500013M02606" not in run.xml
    assert services.payment_run(actor=departed.agency(), region_code="110000") is None
    event = AuditEvent.objects.get(action="payout.bank_corrected")
    assert event.detail["old_account"] == "****2606" and event.detail["account"] == "****3000"
    assert "DE89" not in str(event.detail)


def test_bad_details_are_refused_on_their_field(departed: Departed) -> None:
    app = approved_and_sent(departed)
    returned(departed)
    bad = services.BankDetails(**{**GERMAN.__dict__, "iban": "DE00 3704 0044 0532 0130 00"})
    with pytest.raises(RuleError) as err:
        services.payout_bank_correct(actor=departed.actor, termination_id=app.pk, bank_details=bad)
    assert (err.value.code, err.value.field) == ("invalid_iban", "iban")
    assert Payout.objects.filter(kind="payout").count() == 1


def test_only_the_person_and_the_regions_staff(departed: Departed) -> None:
    app = approved_and_sent(departed)
    returned(departed)
    shanghai = verified_login(Client(), make_agency("officer-sh", regions="310000"))
    answer = shanghai.post(
        f"/api/v1/benefits/terminations/{app.pk}/bank", GERMAN_FORM, content_type="application/json"
    )
    assert answer.status_code == 404
    from expatsi.access.actors import SYSTEM

    with pytest.raises(Forbidden):
        services.payout_bank_correct(actor=SYSTEM, termination_id=app.pk, bank_details=GERMAN)
    staff = verified_login(Client(), departed.officer)
    made = staff.post(
        f"/api/v1/benefits/terminations/{app.pk}/bank", GERMAN_FORM, content_type="application/json"
    )
    assert made.status_code == 201, made.content
    assert made.json()["status"] == "pending"


@pytest.mark.parametrize(
    ("prefix", "heading", "done"),
    [
        ("", "Correct the bank details", "Bank details corrected"),
        ("/zh-hans", "更正银行信息", "银行信息已更正"),
    ],
)
def test_the_page_in_both_languages(
    departed: Departed, prefix: str, heading: str, done: str
) -> None:
    app = approved_and_sent(departed)
    c = Client()
    c.force_login(departed.user)
    assert heading not in c.get(f"{prefix}/benefits/applications/{app.pk}/").content.decode()
    returned(departed)
    page = c.get(f"{prefix}/benefits/applications/{app.pk}/").content.decode()
    assert heading in page and 'id="bank-form"' in page
    refused = c.post(f"{prefix}/benefits/applications/{app.pk}/bank/", {**GERMAN_FORM, "bic": "X"})
    assert refused.status_code == 400
    sent = c.post(f"{prefix}/benefits/applications/{app.pk}/bank/", GERMAN_FORM, follow=True)
    assert done in sent.content.decode()
    assert Payout.objects.filter(kind="payout", status="pending").count() == 1
