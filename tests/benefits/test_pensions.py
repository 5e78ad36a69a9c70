"""Pension award, monthly payment run, proof of life, suspension and back pay, stop on death:
amounts worked by hand from the policy tables (policy-facts.md 5, 6 and 10)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from expatsi.access.actors import SYSTEM, actor_for_user
from expatsi.benefits import death, pain001, pensions, proof_of_life, services
from expatsi.benefits.models import (
    PaymentRun,
    Payout,
    PayoutStatus,
    Pension,
    PensionOverpayment,
    PensionStatus,
    ProofOfLife,
    ProofStatus,
)
from expatsi.notify.models import Notification
from expatsi.rules.dates import Month
from expatsi.rules.errors import Conflict, Forbidden, RuleError
from expatsi.web.uploads import Upload
from tests.benefits.pension_world import FRENCH, IBAN, pensioner, retiree
from tests.portal.factories import PASSWORD, make_agency
from tests.twofactor import verified_login

APPLIED = date(2031, 1, 10)
PDF = b"%PDF-1.4 life certificate"


def _pay(run: PaymentRun | None, day: str = "2026-11-01") -> None:
    """The bank settles every payout of ``run``."""
    assert run is not None
    rows = "\n".join(f"{p.end_to_end_id},ACSC,{day}" for p in run.payouts.all())
    report = services.payments_reconcile(actor=SYSTEM, text=f"end_to_end_id,status,date\n{rows}\n")
    assert not report.errors


def test_pension_award_worked_by_hand(beijing) -> None:
    """Martin, born 1966-02, 180 months of 1,000.00 credited 2016-01 … 2030-12, applies on
    2031-01-10 (statutory age 60y4m from 2026-06, minimum 180 months for 2026: met).

    First month = 2031-02 (the month after the application). Age then = 2031-02 − 1966-02 = 65y
    → months divisor 101 (国发〔2005〕38号 annex, policy-facts 6.2).

    Balance on 2031-01-10 (crediting rates 6.1; 2026–2030 use the last published 1.50%; monthly
    accumulation: interest = (opening × 12 + Σ credit × (13 − m)) × rate / 12, Σ(13 − m) = 78):
    2016: (0 × 12 + 78 × 100000) × 8.31% / 12 = 54015.000 → 54015; closing 1254015
    2017: (1254015 × 12 + 7800000) × 7.12% / 12 = 135565.868 → 135566; closing 2589581
    2018: (2589581 × 12 + 7800000) × 8.29% / 12 = 268561.265 → 268561; closing 4058142
    2019: (4058142 × 12 + 7800000) × 7.61% / 12 = 358289.606 → 358290; closing 5616432
    2020: (5616432 × 12 + 7800000) × 6.04% / 12 = 378492.493 → 378492; closing 7194924
    2021: (7194924 × 12 + 7800000) × 6.69% / 12 = 524825.416 → 524825; closing 8919749
    2022: (8919749 × 12 + 7800000) × 6.12% / 12 = 585668.639 → 585669; closing 10705418
    2023: (10705418 × 12 + 7800000) × 3.97% / 12 = 450810.095 → 450810; closing 12356228
    2024: (12356228 × 12 + 7800000) × 2.62% / 12 = 340763.174 → 340763; closing 13896991
    2025: (13896991 × 12 + 7800000) × 1.50% / 12 = 218204.865 → 218205; closing 15315196
    2026: (15315196 × 12 + 7800000) × 1.50% / 12 = 239477.940 → 239478; closing 16754674
    2027: (16754674 × 12 + 7800000) × 1.50% / 12 = 261070.110 → 261070; closing 18215744
    2028: (18215744 × 12 + 7800000) × 1.50% / 12 = 282986.160 → 282986; closing 19698730
    2029: (19698730 × 12 + 7800000) × 1.50% / 12 = 305230.950 → 305231; closing 21203961
    2030: (21203961 × 12 + 7800000) × 1.50% / 12 = 327809.415 → 327809; closing 22731770
    2031: no whole month elapsed on 10 January → no interest. Balance 227,317.70.

    Individual-account pension = 22731770 / 101 = 225067.03 → 2,250.67.
    Basic pension: Beijing's 2025 base 12,049 (no 2031 base on file: held over, CONVENTION);
    index 1.0 (no contribution base on record, CONVENTION) → (12049 + 12049) / 2 × 180/12 × 1%
    = 1,807.35. Total 4,058.02.
    """
    person, user = retiree(beijing)
    pension = pensions.pension_apply(
        actor=actor_for_user(user),
        person_id=person.pk,
        bank_details=FRENCH,
        password=PASSWORD,
        today=APPLIED,
    )
    assert (pension.basic, pension.account, pension.total) == (180_735, 225_067, 405_802)
    assert pension.first_month == "2031-02"
    assert pension.status == PensionStatus.SUBMITTED
    lines = {line["key"]: line for line in pension.lines}
    assert lines["balance"]["amount"] == 22_731_770
    assert lines["divisor"]["value"] == "101"
    assert lines["divisor"]["status"] == "CONFIRMED"
    assert lines["months"]["value"] == "180 / 180"
    assert lines["calc_base"]["status"] == "CONVENTION"  # SECONDARY base held over a year
    assert lines["index"]["status"] == "CONVENTION"
    assert lines["total"]["value"] == "4058.02"
    assert any("12049.00" in step for step in lines["calc_base"]["explanation"])
    # The balance line is UNCONFIRMED: the 2025 rate (1.50%) rests on one local notice.
    assert lines["balance"]["status"] == "UNCONFIRMED"
    assert pension.figures_status == "UNCONFIRMED"

    officer = actor_for_user(make_agency("officer-one", regions="110000"))
    with pytest.raises(RuleError) as err:
        pensions.pension_decide(actor=officer, pension_id=pension.pk, decision="approve")
    assert err.value.field == "identity_checked"
    awarded = pensions.pension_decide(
        actor=officer,
        pension_id=pension.pk,
        decision="approve",
        identity_checked=True,
        today=APPLIED,
    )
    assert awarded.status == PensionStatus.AWARDED
    assert (awarded.verified_on, awarded.proof_due) == (APPLIED, date(2032, 1, 10))


def test_an_application_short_of_the_minimum_says_how_many_months_are_missing(beijing) -> None:
    """170 months on record, 180 needed (statutory age in 2026): 10 missing."""
    person, user = retiree(beijing, months=170)
    with pytest.raises(RuleError) as err:
        pensions.pension_apply(
            actor=actor_for_user(user),
            person_id=person.pk,
            bank_details=FRENCH,
            password=PASSWORD,
            today=APPLIED,
        )
    assert err.value.code == "below_minimum_contribution"
    assert err.value.field == "months"
    assert err.value.params == {"months": 170, "minimum": 180, "missing": 10}
    assert "10 months are missing" in err.value.message
    assert Pension.objects.count() == 0


def test_an_application_before_the_statutory_age_is_refused(beijing) -> None:
    person, user = retiree(beijing)
    with pytest.raises(RuleError) as err:
        pensions.pension_apply(
            actor=actor_for_user(user),
            person_id=person.pk,
            bank_details=FRENCH,
            password=PASSWORD,
            today=date(2026, 5, 31),  # statutory month 2026-06
        )
    assert (err.value.code, err.value.params) == (
        "before_pension_age",
        {"age": "60y4m", "month": "2026-06"},
    )


def test_agency_staff_apply_for_the_person_and_a_second_application_is_refused(beijing) -> None:
    person, _user = retiree(beijing)
    officer = actor_for_user(make_agency("officer-one", regions="110000"))
    pension = pensions.pension_apply(
        actor=officer, person_id=person.pk, bank_details=FRENCH, today=APPLIED
    )
    assert pension.by_agency
    with pytest.raises(Conflict):
        pensions.pension_apply(
            actor=officer, person_id=person.pk, bank_details=FRENCH, today=APPLIED
        )
    shanghai = actor_for_user(make_agency("officer-sh", regions="310000"))
    with pytest.raises((Forbidden, RuleError)):
        pensions.pension_decide(
            actor=shanghai, pension_id=pension.pk, decision="approve", identity_checked=True
        )


def test_the_person_must_type_the_password(beijing) -> None:
    person, user = retiree(beijing)
    with pytest.raises(RuleError) as err:
        pensions.pension_apply(
            actor=actor_for_user(user),
            person_id=person.pk,
            bank_details=FRENCH,
            password="wrong",
            today=APPLIED,
        )
    assert err.value.field == "password"


def test_the_monthly_run_pays_once_a_month_abroad_through_pain001(beijing) -> None:
    """Pension of 1,000.00 from 2026-01: the run for 2026-03 pays January, February and March
    (3 × 1,000.00 = 3,000.00) to the IBAN in France; the same run again creates nothing."""
    _person, _user, pension = pensioner(beijing)
    first = pensions.pension_month_run(actor=SYSTEM, region_code="110000", month=Month(2026, 3))
    assert (first.created, first.amount) == (3, 300_000)
    assert first.run is not None and (first.run.count, first.run.total) == (3, 300_000)
    schema = pain001.schema()
    schema.validate(first.run.xml)
    doc = schema.to_dict(first.run.xml)
    txs = doc["CstmrCdtTrfInitn"]["PmtInf"][0]["CdtTrfTxInf"]
    assert {tx["CdtrAcct"]["Id"]["IBAN"] for tx in txs} == {IBAN}
    assert sorted(Payout.objects.filter(pension=pension).values_list("month", flat=True)) == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    again = pensions.pension_month_run(actor=SYSTEM, region_code="110000", month=Month(2026, 3))
    assert (again.created, again.run) == (0, None)
    assert Payout.objects.filter(pension=pension).count() == 3
    assert PaymentRun.objects.count() == 1
    _pay(first.run)
    assert set(Payout.objects.values_list("status", flat=True)) == {PayoutStatus.PAID}
    shanghai = actor_for_user(make_agency("officer-sh", regions="310000"))
    with pytest.raises(Forbidden):
        pensions.pension_month_run(actor=shanghai, region_code="110000", month=Month(2026, 4))


def test_a_month_the_bank_rejects_is_paid_again_in_the_next_run(beijing) -> None:
    _person, _user, pension = pensioner(beijing)
    run = pensions.pension_month_run(actor=SYSTEM, region_code="110000", month=Month(2026, 1))
    assert run.run is not None
    e2e = Payout.objects.get(pension=pension).end_to_end_id
    services.payments_reconcile(
        actor=SYSTEM, text=f"end_to_end_id,status,date,reason\n{e2e},RJCT,2026-02-03,AC04\n"
    )
    again = pensions.pension_month_run(actor=SYSTEM, region_code="110000", month=Month(2026, 1))
    assert again.created == 1
    rows = list(
        Payout.objects.filter(pension=pension)
        .order_by("pk")
        .values_list("kind", "amount", "status")
    )
    assert rows == [
        ("pension", 100_000, "rejected"),
        ("reversal", -100_000, "booked"),
        ("pension", 100_000, "sent"),
    ]


def test_suspension_and_back_pay_across_several_months(
    beijing, django_capture_on_commit_callbacks
) -> None:
    """Pension 1,000.00 a month from 2026-01; last proof 2025-08-01, due 2026-08-01 (12 months,
    deadlines.toml). Reminders 60, 30 and 7 days before: 2026-06-02, 2026-07-02, 2026-07-25.

    Runs: 2026-05 pays Jan–May (5 × 1,000.00). 2026-07 pays Jun, Jul (2). On 2026-08-02 the proof
    has lapsed: suspended. Runs 2026-08 and 2026-09 pay nothing. Online proof on 2026-09-20:
    resumed, next due 2027-09-20. Run 2026-10 pays Aug, Sep (back pay) and Oct: 3 × 1,000.00 =
    3,000.00. Paid in all: 10 months, 10,000.00 — every month from January to October once."""
    _person, user, pension = pensioner(beijing)

    def run(m: int) -> pensions.PensionRun:
        return pensions.pension_month_run(actor=SYSTEM, region_code="110000", month=Month(2026, m))

    assert run(5).created == 5
    job = proof_of_life.proofs_daily(actor=SYSTEM, today=date(2026, 6, 1))
    assert (job.reminded, job.suspended) == (0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        job = proof_of_life.proofs_daily(actor=SYSTEM, today=date(2026, 7, 15))
    assert (job.reminded, job.suspended) == (1, 0)
    with django_capture_on_commit_callbacks(execute=True):  # same stage: not again
        proof_of_life.proofs_daily(actor=SYSTEM, today=date(2026, 7, 16))
    assert Notification.objects.filter(user=user, kind="proof_of_life_due").count() == 1
    assert run(7).created == 2
    job = proof_of_life.proofs_daily(actor=SYSTEM, today=date(2026, 8, 1))  # due day: on time
    assert job.suspended == 0
    with django_capture_on_commit_callbacks(execute=True):
        job = proof_of_life.proofs_daily(actor=SYSTEM, today=date(2026, 8, 2))
    assert job.suspended == 1
    pension.refresh_from_db()
    assert (pension.status, pension.suspended_on) == (PensionStatus.SUSPENDED, date(2026, 8, 2))
    assert Notification.objects.filter(user=user, kind="pension_suspended").count() == 1
    assert run(8).created == 0
    assert run(9).created == 0

    proof = proof_of_life.proof_online(
        actor=actor_for_user(user),
        pension_id=pension.pk,
        password=PASSWORD,
        today=date(2026, 9, 20),
    )
    assert (proof.route, proof.status) == ("online", ProofStatus.ACCEPTED)
    pension.refresh_from_db()
    assert (pension.status, pension.proof_due) == (PensionStatus.AWARDED, date(2027, 9, 20))
    back = run(10)
    assert (back.created, back.amount) == (3, 300_000)
    assert back.run is not None and back.run.total == 300_000
    assert sorted(back.run.payouts.values_list("month", flat=True)) == [
        "2026-08",
        "2026-09",
        "2026-10",
    ]
    months = sorted(Payout.objects.filter(pension=pension).values_list("month", flat=True))
    assert months == [f"2026-{m:02d}" for m in range(1, 11)]
    assert sum(Payout.objects.filter(pension=pension).values_list("amount", flat=True)) == 1_000_000


def test_a_certificate_is_reviewed_and_lifts_the_suspension(beijing) -> None:
    _person, user, pension = pensioner(beijing)
    proof_of_life.proofs_daily(actor=SYSTEM, today=date(2026, 8, 2))
    officer = actor_for_user(make_agency("officer-one", regions="110000"))
    proof = proof_of_life.proof_upload(
        actor=actor_for_user(user),
        pension_id=pension.pk,
        route="embassy",
        document=PDF,
        verified_on=date(2026, 8, 20),
        today=date(2026, 8, 25),
    )
    pension.refresh_from_db()
    assert (proof.status, pension.status) == (ProofStatus.SUBMITTED, PensionStatus.SUSPENDED)
    with pytest.raises(Forbidden):
        proof_of_life.proof_review(
            actor=actor_for_user(user), proof_id=proof.pk, decision="approve"
        )
    proof_of_life.proof_review(
        actor=officer, proof_id=proof.pk, decision="approve", today=date(2026, 8, 26)
    )
    pension.refresh_from_db()
    assert (pension.status, pension.proof_due) == (PensionStatus.AWARDED, date(2027, 8, 20))
    with pytest.raises(RuleError) as err:
        proof_of_life.proof_upload(
            actor=officer,
            pension_id=pension.pk,
            route="notarised",
            document=b"GIF89a",
            verified_on=date(2026, 8, 20),
            today=date(2026, 8, 25),
        )
    assert err.value.field == "document"


def test_in_person_at_the_agency(beijing) -> None:
    _person, _user, pension = pensioner(beijing)
    officer = actor_for_user(make_agency("officer-one", regions="110000"))
    proof = proof_of_life.proof_in_person(
        actor=officer, pension_id=pension.pk, today=date(2026, 7, 1)
    )
    pension.refresh_from_db()
    assert proof.route == "in_person" and pension.proof_due == date(2027, 7, 1)


def test_death_stops_payment_records_the_overpayment_and_refuses_a_proof_of_life(beijing) -> None:
    """Paid January to October 2026 (10 × 1,000.00); death on 2026-08-15. Payment stops from
    September: September and October were paid after the month of death → 2 × 1,000.00 = 2,000.00
    to recover."""
    person, user, pension = pensioner(beijing)
    made = pensions.pension_month_run(actor=SYSTEM, region_code="110000", month=Month(2026, 10))
    _pay(made.run)
    officer = actor_for_user(make_agency("officer-one", regions="110000"))
    stopped = pensions.pension_stop_on_death(
        actor=officer, person=person, died_on=date(2026, 8, 15)
    )
    assert stopped is not None
    assert (stopped.status, stopped.last_month) == (PensionStatus.STOPPED, "2026-08")
    over = PensionOverpayment.objects.get(pension=pension)
    assert (over.months, over.amount) == (["2026-09", "2026-10"], 200_000)
    # Called again (the death report retried): nothing new.
    pensions.pension_stop_on_death(actor=officer, person=person, died_on=date(2026, 8, 15))
    assert PensionOverpayment.objects.count() == 1
    assert (
        pensions.pension_month_run(
            actor=SYSTEM, region_code="110000", month=Month(2026, 11)
        ).created
        == 0
    )
    with pytest.raises(Conflict) as err:
        proof_of_life.proof_online(
            actor=actor_for_user(user), pension_id=pension.pk, password=PASSWORD
        )
    assert err.value.code == "pensioner_deceased"
    with pytest.raises(Conflict):
        proof_of_life.proof_in_person(actor=officer, pension_id=pension.pk)
    assert ProofOfLife.objects.count() == 0


def test_death_cancels_months_not_yet_sent(beijing) -> None:
    person, _user, pension = pensioner(beijing)
    pensions.pension_month_run(actor=SYSTEM, region_code="110000", month=Month(2026, 2))
    # March and April created but not sent: a payout without a run (as if the run were pending).
    for m in ("2026-03", "2026-04"):
        Payout.objects.create(
            pension=pension,
            month=m,
            person=person,
            region_code="110000",
            kind="pension",
            amount=100_000,
            currency="EUR",
            bank_account=pension.bank_account,
            end_to_end_id=f"PENTEST{m}",
            created_by="test",
        )
    pensions.pension_stop_on_death(actor=SYSTEM, person=person, died_on=date(2026, 3, 2))
    statuses = dict(Payout.objects.filter(pension=pension).values_list("month", "status"))
    assert statuses == {
        "2026-01": "sent",
        "2026-02": "sent",
        "2026-03": "pending",  # the month of death is still due
        "2026-04": "cancelled",
    }
    assert not PensionOverpayment.objects.exists()


def test_hr_and_the_person_cannot_stop_a_pension(beijing) -> None:
    person, user, _pension = pensioner(beijing)
    with pytest.raises(Forbidden):
        pensions.pension_stop_on_death(
            actor=actor_for_user(user), person=person, died_on=date(2026, 8, 15)
        )


def test_four_eyes_above_the_threshold(beijing, settings) -> None:
    """Threshold 4,000.00: the award of 4,058.02 a month needs a second, different officer."""
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 400_000
    person, user = retiree(beijing)
    pension = pensions.pension_apply(
        actor=actor_for_user(user),
        person_id=person.pk,
        bank_details=FRENCH,
        password=PASSWORD,
        today=APPLIED,
    )
    one = actor_for_user(make_agency("officer-one", regions="110000"))
    two_user = make_agency("officer-two", regions="110000")
    two = actor_for_user(two_user)
    first = pensions.pension_decide(
        actor=one, pension_id=pension.pk, decision="approve", identity_checked=True, today=APPLIED
    )
    assert first.status == PensionStatus.SECOND_APPROVAL and first.proof_due is None
    assert not pensions.months_owed(first, Month(2031, 3))
    with pytest.raises(Forbidden) as err:
        pensions.pension_decide(actor=one, pension_id=pension.pk, decision="approve")
    assert err.value.code == "four_eyes"
    done = pensions.pension_decide(
        actor=two,
        pension_id=pension.pk,
        decision="approve",
        note="bank statement seen",
        today=APPLIED,
    )
    assert done.status == PensionStatus.AWARDED
    assert done.second_by_label and done.proof_due == date(2032, 1, 10)
    # the second approver's note is kept (it was dropped) and the page shows who approved twice
    assert Pension.objects.get(pk=pension.pk).second_note == "bank statement seen"
    page = verified_login(Client(), two_user).get(f"/zh-hans/benefits/pensions/{pension.pk}/")
    second = page.content.decode().split('id="pension-second">', 1)[1].split("</dd>", 1)[0]
    assert "officer-two" in second and "bank statement seen" in second
    assert "复核" in page.content.decode()


def test_a_reported_death_stops_the_pension(beijing) -> None:
    """The death report is what stops payment (no second step for the agency to forget): paid
    January to October 2026, death reported on 2026-08-15 by the agency → stopped after August,
    September and October (2 × 1,000.00) to recover."""
    person, _user, pension = pensioner(beijing)
    made = pensions.pension_month_run(actor=SYSTEM, region_code="110000", month=Month(2026, 10))
    _pay(made.run)
    officer = actor_for_user(make_agency("officer-one", regions="110000"))
    death.death_report(
        actor=officer,
        person_id=person.pk,
        died_on=date(2026, 8, 15),
        evidence=Upload("death-certificate.pdf", b"%PDF-1.4\n% a death certificate\n"),
    )
    pension.refresh_from_db()
    assert (pension.status, pension.last_month) == (PensionStatus.STOPPED, "2026-08")
    over = PensionOverpayment.objects.get(pension=pension)
    assert (over.months, over.amount) == (["2026-09", "2026-10"], 200_000)
