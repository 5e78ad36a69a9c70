"""Death → frozen account → inheritance claim → shares → a payout per heir, amounts by hand.

The ledger is tests/benefits/conftest.py's: credits of 2,400.00 for 2025-07, -08 and -09, rate
1.50%. On a death on 2025-11-20 the balance is that of the lump sum on the same day
(test_termination.py works it out): 7,200.00 + round(2,400.00 × (4 + 3 + 2) × 0.015 / 12) =
7,200.00 + 27.00 = 7,227.00 = 722,700 fen.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from expatsi.access.actors import SYSTEM, actor_for_user
from expatsi.audit.models import AuditEvent
from expatsi.benefits import death as deaths
from expatsi.benefits import services
from expatsi.benefits.models import (
    ApplicationStatus,
    ClaimStatus,
    DeathReport,
    InheritanceClaim,
    PaymentRun,
    Payout,
    Reporter,
)
from expatsi.billing.services import payment_record
from expatsi.insurance.models import Employment
from expatsi.rules.dates import Month
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from expatsi.web.uploads import Upload
from tests.benefits.conftest import LEFT_ON, Departed, bill_and_pay
from tests.portal.factories import PASSWORD, make_hr

PDF = Upload("death-certificate.pdf", b"%PDF-1.4\n% a death certificate\n")
DIED = date(2025, 11, 20)
WIFE = deaths.HeirDetails(
    name="Marie Lefebvre",
    relationship="spouse",
    bank=services.BankDetails(
        holder="Marie Lefebvre",
        country="FRA",
        iban="FR1420041010050500013M02606",
        bic="PSSTFRPPPAR",
        currency="EUR",
    ),
)
SON = deaths.HeirDetails(
    name="Li Wei",
    relationship="son",
    bank=services.BankDetails(
        holder="Li Wei",
        country="CHN",
        account_number="6222 0212 3456 7890 123",
        bic="ICBKCNBJ",
        currency="CNY",
    ),
)


# --- the split, by hand ----------------------------------------------------------------------------


def test_halves_of_10000_01_give_the_odd_fen_to_the_first_heir() -> None:
    """1,000,001 fen × 1/2 = 500,000.5 each: 500,000 each, 1 fen left; the remainders tie (0.5),
    so the heir filed first gets it: 5,000.01 + 5,000.00."""
    assert deaths.split_shares(1_000_001, [Fraction(1, 2), Fraction(1, 2)]) == [500_001, 500_000]


def test_thirds_of_10000_01_give_the_two_fen_left_to_the_first_two() -> None:
    """1,000,001 × 1/3 = 333,333.667 each: 333,333 each = 999,999, 2 fen left, one each to the
    first two (equal remainders): 3,333.34 + 3,333.34 + 3,333.33 = 10,000.01."""
    assert deaths.split_shares(1_000_001, [Fraction(1, 3)] * 3) == [333_334, 333_334, 333_333]


def test_the_largest_remainder_wins_over_the_order() -> None:
    """100 fen by 1/2, 1/3, 1/6: exact 50, 33.333, 16.667 → 50 + 33 + 16 = 99; the fen left
    goes to the largest remainder (0.667, the third heir), not the first: 50 + 33 + 17."""
    assert deaths.split_shares(100, [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]) == [
        50,
        33,
        17,
    ]


def test_a_split_adds_up_to_the_balance() -> None:
    for balance in (0, 1, 2, 999, 722_700, 1_000_001):
        for shares in (
            [Fraction(1)],
            [Fraction(1, 7), Fraction(6, 7)],
            [Fraction(1, 3)] * 3,
            [Fraction(2, 5), Fraction(3, 10), Fraction(3, 10)],
        ):
            assert sum(deaths.split_shares(balance, shares)) == balance


@pytest.mark.parametrize("text", ["", "abc", "0", "-1/2", "3/2", "1/0"])
def test_a_bad_share_is_refused(text: str) -> None:
    with pytest.raises(RuleError) as bad:
        deaths.parse_share(text, "shares.7")
    assert (bad.value.code, bad.value.field) == ("invalid_share", "shares.7")


def test_shares_are_read_as_fractions_or_decimals() -> None:
    assert deaths.parse_share(" 1/3 ", "s") == Fraction(1, 3)
    assert deaths.parse_share("0.25", "s") == Fraction(1, 4)


# --- report and freeze -----------------------------------------------------------------------------


def report(d: Departed, **kw) -> DeathReport:
    args = {
        "actor": d.agency(1),
        "person_id": d.person.pk,
        "died_on": DIED,
        "evidence": PDF,
        "reporter": Reporter.FAMILY,
        "reporter_name": "Marie Lefebvre",
        "relationship": "spouse",
    } | kw
    return deaths.death_report(**args)


def test_a_family_members_report_is_recorded_with_its_evidence_and_audited(
    departed: Departed,
) -> None:
    death = report(departed)
    assert (death.died_on, death.reporter, death.region_code) == (DIED, "family", "110000")
    assert death.reporter_name == "Marie Lefebvre" and death.relationship == "spouse"
    doc = death.documents.get()
    assert (doc.content_type, bytes(doc.content)) == ("application/pdf", PDF.data)
    event = AuditEvent.objects.get(action="death.report")
    assert event.person_id == departed.person.pk
    with pytest.raises(Conflict) as twice:
        report(departed)
    assert twice.value.code == "already_reported"


def test_a_family_report_names_the_family_member(departed: Departed) -> None:
    with pytest.raises(RuleError) as nameless:
        report(departed, reporter_name="", relationship="")
    assert nameless.value.field == "reporter_name"


@pytest.mark.parametrize(
    ("evidence", "code"),
    [(Upload("x.pdf", b""), "evidence_required"), (Upload("x.txt", b"hello"), "evidence_type")],
)
def test_a_report_without_evidence_is_refused(departed: Departed, evidence, code) -> None:
    with pytest.raises(RuleError) as bad:
        report(departed, evidence=evidence)
    assert (bad.value.code, bad.value.field) == (code, "evidence")
    assert not DeathReport.objects.exists()


def test_the_future_is_refused(departed: Departed) -> None:
    with pytest.raises(RuleError) as future:
        report(departed, died_on=date(2999, 1, 1))
    assert future.value.field == "died_on"


def test_hr_report_a_death_of_their_staff_only(departed: Departed) -> None:
    hr = actor_for_user(make_hr(departed.employer, "hr-death"))
    with pytest.raises(NotFound):  # the employment had ended before this date of death
        deaths.death_report(actor=hr, person_id=departed.person.pk, died_on=DIED, evidence=PDF)
    death = deaths.death_report(
        actor=hr,
        person_id=departed.person.pk,
        died_on=date(2025, 9, 20),
        evidence=PDF,
        reporter=Reporter.FAMILY,  # HR's report is the employer's, whatever they send
    )
    assert death.reporter == Reporter.EMPLOYER


def test_the_person_and_other_employees_report_nothing(departed: Departed) -> None:
    with pytest.raises((Forbidden, NotFound)):
        deaths.death_report(
            actor=departed.actor, person_id=departed.person.pk, died_on=DIED, evidence=PDF
        )


def test_a_frozen_account_refuses_the_departure_and_the_lump_sum(departed: Departed) -> None:
    case, _ = services.departure_open(
        actor=departed.actor, person_id=departed.person.pk, departure_date=LEFT_ON
    )
    app = services.termination_apply(
        actor=departed.actor,
        case_id=case.pk,
        bank_details=WIFE.bank,
        declaration=True,
        password=PASSWORD,
        closing_date=DIED,
    )
    report(departed)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REJECTED
    assert "reported dead (died on 2025-11-20)" in app.rejection_reason
    with pytest.raises(Conflict) as lump:
        services.termination_apply(
            actor=departed.actor,
            case_id=case.pk,
            bank_details=WIFE.bank,
            declaration=True,
            password=PASSWORD,
            closing_date=DIED,
        )
    assert (lump.value.code, lump.value.params) == ("person_deceased", {"died_on": "2025-11-20"})
    with pytest.raises(Conflict) as leave:
        services.departure_open(
            actor=departed.agency(1), person_id=departed.person.pk, departure_date=DIED
        )
    assert leave.value.code == "person_deceased"
    assert services.departures_detect(actor=SYSTEM) == 0  # the daily job skips them


# --- the claim and the shares ----------------------------------------------------------------------


def claim(d: Departed, heirs=(WIFE, SON)) -> InheritanceClaim:
    death = report(d)
    return deaths.inheritance_claim_file(
        actor=d.agency(1),
        death_id=death.pk,
        heirs=list(heirs),
        documents=[Upload("certificate-of-inheritance.pdf", b"%PDF-1.7 notarised")],
    )


def test_two_heirs_share_the_balance_on_the_date_of_death(departed: Departed, settings) -> None:
    """722,700 fen by 1/7 and 6/7: exact 103,242.857 and 619,457.143 → 103,242 + 619,457 =
    722,699; the fen left goes to the larger remainder (0.857, the first heir): 1,032.43 and
    6,194.57."""
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 100_000_000
    c = claim(departed)
    wife, son = c.heirs.order_by("position")
    assert son.bank_account.country == "CHN" and son.bank_account.bic == "ICBKCNBJXXX"
    c = deaths.inheritance_decide(
        actor=departed.agency(1),
        claim_id=c.pk,
        decision="approve",
        shares={wife.pk: "1/7", son.pk: "6/7"},
    )
    assert (c.status, c.balance) == (ClaimStatus.APPROVED, 722_700)
    assert c.statement["years"][0]["closing"] == "7227.00"
    assert [(h.share_text, h.amount) for h in c.heirs.order_by("position")] == [
        ("1/7", 103_243),
        ("6/7", 619_457),
    ]
    payouts = list(Payout.objects.order_by("pk"))
    assert [(p.kind, p.amount, p.currency, p.status) for p in payouts] == [
        ("inherit", 103_243, "EUR", "pending"),
        ("inherit", 619_457, "CNY", "pending"),
    ]
    run = services.payment_run(actor=departed.agency(1), region_code="110000")
    assert run is not None and (run.count, run.total) == (2, 722_700)
    # pain001.build validated the file against the XSD before it was stored
    assert "Inheritance of a social insurance account" in run.xml and "6194.57" in run.xml
    text = "end_to_end_id,status,date\n" + "".join(
        f"{p.end_to_end_id},ACSC,2025-12-03\n" for p in payouts[:1]
    )
    services.payments_reconcile(actor=departed.agency(1), text=text)
    c.refresh_from_db()
    assert c.status == ClaimStatus.APPROVED  # one heir paid, the other not yet
    text = f"end_to_end_id,status,date\n{payouts[1].end_to_end_id},ACSC,2025-12-04\n"
    services.payments_reconcile(actor=departed.agency(1), text=text)
    c.refresh_from_db()
    assert c.status == ClaimStatus.PAID


def test_shares_that_do_not_add_up_are_refused_on_their_field(departed: Departed) -> None:
    c = claim(departed)
    wife, son = c.heirs.order_by("position")
    with pytest.raises(RuleError) as short:
        deaths.inheritance_decide(
            actor=departed.agency(1),
            claim_id=c.pk,
            decision="approve",
            shares={wife.pk: "1/2", son.pk: "1/3"},
        )
    assert (short.value.code, short.value.field) == ("shares_not_whole", "shares")
    assert short.value.params == {"total": "5/6"}
    with pytest.raises(RuleError) as missing:
        deaths.inheritance_decide(
            actor=departed.agency(1), claim_id=c.pk, decision="approve", shares={wife.pk: "1"}
        )
    assert (missing.value.code, missing.value.field) == ("share_required", f"shares.{son.pk}")
    c.refresh_from_db()
    assert c.status == ClaimStatus.SUBMITTED and c.balance is None
    assert not Payout.objects.exists()


def test_a_claim_waits_while_months_are_unsettled_and_says_which(
    departed: Departed, beijing
) -> None:
    """Still employed in October; died 2025-10-15: October is not billed. Then billed and
    unpaid; then paid, and the claim is decided."""
    Employment.objects.filter(person=departed.person).update(end_date=None)
    death = report(departed, died_on=date(2025, 10, 15))
    c = deaths.inheritance_claim_file(
        actor=departed.agency(1), death_id=death.pk, heirs=[WIFE], documents=[PDF]
    )
    (wife,) = c.heirs.all()
    decide = {
        "actor": departed.agency(1),
        "claim_id": c.pk,
        "decision": "approve",
        "shares": {wife.pk: "1"},
    }
    with pytest.raises(Conflict) as waits:
        deaths.inheritance_decide(**decide)
    assert waits.value.code == "months_not_settled"
    assert waits.value.params == {"unbilled": "2025-10", "unpaid": ""}
    october = bill_and_pay(beijing, Month(2025, 10), pay=False)
    with pytest.raises(Conflict) as unpaid:
        deaths.inheritance_decide(**decide)
    assert unpaid.value.params == {"unbilled": "", "unpaid": "2025-10"}
    assert october.total > 0
    payment_record(
        actor=SYSTEM, employer=beijing, amount=october.total, received_on=date(2025, 11, 10)
    )
    assert deaths.inheritance_decide(**decide).status == ClaimStatus.APPROVED


def test_four_eyes_above_the_threshold(departed: Departed, settings) -> None:
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 500_000  # 5,000.00 < 7,227.00
    c = claim(departed)
    wife, son = c.heirs.order_by("position")
    shares = {wife.pk: "1/2", son.pk: "1/2"}
    c = deaths.inheritance_decide(
        actor=departed.agency(1), claim_id=c.pk, decision="approve", shares=shares
    )
    assert c.status == ClaimStatus.SECOND_APPROVAL and not Payout.objects.exists()
    with pytest.raises(Forbidden) as same:
        deaths.inheritance_decide(actor=departed.agency(1), claim_id=c.pk, decision="approve")
    assert same.value.code == "four_eyes"
    c = deaths.inheritance_decide(actor=departed.agency(2), claim_id=c.pk, decision="approve")
    assert c.status == ClaimStatus.APPROVED
    # 722,700 / 2 = 361,350 each, nothing left over
    assert sorted(Payout.objects.values_list("amount", flat=True)) == [361_350, 361_350]


def test_a_second_claim_is_refused_while_one_is_live(departed: Departed) -> None:
    c = claim(departed)
    with pytest.raises(Conflict) as again:
        deaths.inheritance_claim_file(
            actor=departed.agency(1), death_id=c.death_id, heirs=[WIFE], documents=[PDF]
        )
    assert again.value.code == "claim_already_filed"


def test_a_bad_heir_account_is_refused_on_the_heirs_field(departed: Departed) -> None:
    death = report(departed)
    bad = deaths.HeirDetails(
        "X", "daughter", WIFE.bank.__class__(**{**WIFE.bank.__dict__, "bic": "BNPAFRP"})
    )
    with pytest.raises(RuleError) as refused:
        deaths.inheritance_claim_file(
            actor=departed.agency(1), death_id=death.pk, heirs=[WIFE, bad], documents=[PDF]
        )
    assert refused.value.field == "heirs.1.bic"
    bare = deaths.inheritance_claim_file(
        actor=departed.agency(1), death_id=death.pk, heirs=[WIFE], documents=[]
    )
    (wife,) = bare.heirs.all()
    with pytest.raises(RuleError) as nodocs:
        deaths.inheritance_decide(
            actor=departed.agency(1), claim_id=bare.pk, decision="approve", shares={wife.pk: "1"}
        )
    assert (nodocs.value.code, nodocs.value.field) == ("documents_required", "documents")
    deaths.claim_document_add(actor=departed.agency(1), claim_id=bare.pk, upload=PDF)
    approved = deaths.inheritance_decide(
        actor=departed.agency(1), claim_id=bare.pk, decision="approve", shares={wife.pk: "1"}
    )
    assert approved.status == ClaimStatus.APPROVED


def test_a_rejected_heir_payout_is_reversed_and_issued_again(departed: Departed) -> None:
    c = claim(departed, heirs=(WIFE,))
    (wife,) = c.heirs.all()
    deaths.inheritance_decide(
        actor=departed.agency(1), claim_id=c.pk, decision="approve", shares={wife.pk: "1"}
    )
    services.payment_run(actor=departed.agency(1), region_code="110000")
    payout = Payout.objects.get()
    text = f"end_to_end_id,status,date,reason\n{payout.end_to_end_id},RJCT,2025-12-03,AC04\n"
    assert services.payments_reconcile(actor=departed.agency(1), text=text).rejected == 1
    reversal = Payout.objects.get(reverses=payout)
    assert (reversal.kind, reversal.amount, reversal.heir_id) == ("reversal", -722_700, wife.pk)
    (fresh,) = deaths.inheritance_reissue(actor=departed.agency(1), claim_id=c.pk)
    assert (fresh.amount, fresh.end_to_end_id) == (722_700, f"IH{wife.pk:010d}N002")
    with pytest.raises(Conflict):
        deaths.inheritance_reissue(actor=departed.agency(1), claim_id=c.pk)
    assert PaymentRun.objects.count() == 1


def test_staff_of_another_region_see_nothing(departed: Departed) -> None:
    from tests.portal.factories import make_agency

    c = claim(departed)
    shanghai = actor_for_user(make_agency("officer-sh-d", regions="310000"))
    with pytest.raises(NotFound):
        deaths.inheritance_decide(actor=shanghai, claim_id=c.pk, decision="reject", reason="x")


def _lump_sum_approved(d: Departed):
    case, _ = services.departure_open(actor=d.actor, person_id=d.person.pk, departure_date=LEFT_ON)
    app = services.termination_apply(
        actor=d.actor,
        case_id=case.pk,
        bank_details=WIFE.bank,
        declaration=True,
        password=PASSWORD,
        closing_date=DIED,
    )
    return services.termination_decide(
        actor=d.agency(1), termination_id=app.pk, decision="approve", identity_checked=True
    )


def test_a_lump_sum_under_way_at_death_makes_the_claim_wait(departed: Departed) -> None:
    """Approved before the death and not yet answered by the bank: paying the heirs too would
    pay the balance twice."""
    _lump_sum_approved(departed)
    c = claim(departed, heirs=(WIFE,))
    (wife,) = c.heirs.all()
    with pytest.raises(Conflict) as waits:
        deaths.inheritance_decide(
            actor=departed.agency(1), claim_id=c.pk, decision="approve", shares={wife.pk: "1"}
        )
    assert waits.value.code == "termination_under_way"


def test_a_lump_sum_the_bank_returned_goes_to_the_heirs(departed: Departed) -> None:
    """The bank rejected the lump sum (reversed); then the death is reported: the lump sum is not
    issued again, and the heirs get the balance."""
    app = _lump_sum_approved(departed)
    services.payment_run(actor=departed.agency(1), region_code="110000")
    payout = Payout.objects.get()
    text = f"end_to_end_id,status,date\n{payout.end_to_end_id},RJCT,2025-12-03\n"
    services.payments_reconcile(actor=departed.agency(1), text=text)
    c = claim(departed, heirs=(WIFE,))
    with pytest.raises(Conflict) as again:
        services.payout_reissue(actor=departed.agency(1), termination_id=app.pk)
    assert again.value.code == "person_deceased"
    (wife,) = c.heirs.all()
    c = deaths.inheritance_decide(
        actor=departed.agency(1), claim_id=c.pk, decision="approve", shares={wife.pk: "1"}
    )
    assert (c.status, c.balance) == (ClaimStatus.APPROVED, 722_700)
