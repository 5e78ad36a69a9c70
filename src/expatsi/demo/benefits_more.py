"""Demo deaths, pensions and benefit programmes, so that these pages show something:

- ``employee-pensioner`` retired and went home: a pension awarded and paid abroad (to a German
  IBAN), the next proof of life due in about three weeks (the reminder is in the inbox).
- A Beijing employee died last month: the death is reported at the counter by the family, and the
  heirs' claim (a spouse abroad, a child with a bank account in China) waits for the agency to
  decide the shares.
- ``employee-programme`` applied for a benefit programme: the application waits in the agency's
  queue.

Run in two steps around the demo's bills, as the departures are (demo/departures.py): the
pensioner's employment ends before the months are billed, the rest is done once they are paid. A
step that cannot be done (no programme open on the demo's day, no bills for lack of a policy) is
left out with a warning: the rest of the demo stands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from expatsi.access.actors import SYSTEM, actor_for_user
from expatsi.audit.services import audit_record
from expatsi.benefits import death, programmes, proof_of_life
from expatsi.benefits.models import (
    BankAccount,
    DeathReport,
    Pension,
    PensionStatus,
    Reporter,
)
from expatsi.benefits.services import BankDetails
from expatsi.billing.models import Bill
from expatsi.billing.services import billing_run, credit_paid_bills, payment_record
from expatsi.insurance.models import CoverageCertificate, Employment, Registration
from expatsi.insurance.services import employment_end
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from expatsi.rules.deadlines import deadline
from expatsi.rules.errors import RuleError
from expatsi.web.uploads import Upload

log = logging.getLogger(__name__)

PENSIONER = "employee-pensioner"
APPLICANT = "employee-programme"
# a tiny PDF standing for a scanned certificate
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
GERMAN_BANK = BankDetails(
    holder="", country="DEU", iban="DE89370400440532013000", bic="COBADEFFXXX", currency="EUR"
)
CHINESE_BANK = BankDetails(
    holder="",
    country="CHN",
    account_number="6222 0212 3456 7890 123",
    bic="ICBKCNBJ",
    currency="CNY",
)


def _open_employment(reg: Registration) -> Employment | None:
    return (
        Employment.objects.filter(person_id=reg.person_id, end_date__isnull=True)
        .select_related("employer")
        .first()
    )


def _candidates(accepted: list[Registration], taken: set[int]) -> list[Registration]:
    """Beijing employees with no login, working now, not picked for another story."""
    found = []
    for reg in accepted:
        if reg.person_id in taken or reg.person.user_id is not None:
            continue
        emp = _open_employment(reg)
        if emp is not None and emp.employer.region_code == "110000":
            found.append(reg)
    return found


def retire(today: date, accepted: list[Registration], taken: list[Person]) -> Person | None:
    """Before the bills: the oldest Beijing employee retires at the end of the month before last."""
    pool = _candidates(accepted, {p.pk for p in taken})
    pool = [
        r
        for r in pool
        if not CoverageCertificate.objects.filter(person_id=r.person_id).exists()
        and (_open_employment(r) or Employment()).start_date < Month.of(today).plus(-3).first_day()
    ]
    if not pool:
        return None
    reg = min(pool, key=lambda r: r.person.birth_date)
    emp = _open_employment(reg)
    assert emp is not None
    employment_end(actor=SYSTEM, employment_id=emp.pk, on=Month.of(today).plus(-2).last_day())
    return reg.person


def stories(
    today: date,
    accepted: list[Registration],
    pensioner: Person | None,
    taken: list[Person],
    password: str,
) -> None:
    """Once the bills are paid: the pension, the death and the programme application."""
    steps: tuple[tuple[str, Callable[[], None]], ...] = (
        ("pension", lambda: _pension(today, pensioner, password)),
        ("death", lambda: _death(today, accepted, taken, pensioner)),
        ("programme", lambda: _programme(today, accepted, password)),
    )
    for name, step in steps:
        try:
            with transaction.atomic():
                step()
        except RuleError as exc:
            log.warning("demo %s left out: %s", name, exc)


def _login(person: Person, username: str, password: str) -> None:
    user = get_user_model().objects.create_user(
        username=username, password=password, email=person.email
    )
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()


def _pension(today: date, person: Person | None, password: str) -> None:
    """An award on file from before the demo's records (written as it stands, not re-worked from
    contributions the demo does not hold), paid abroad; the last proof of life almost a year old."""
    if person is None:
        raise RuleError("no_candidate", "no Beijing employee to retire", "")
    _login(person, PENSIONER, password)
    account = BankAccount.objects.create(
        person=person,
        holder=person.full_name,
        country=GERMAN_BANK.country,
        iban=GERMAN_BANK.iban,
        bic=GERMAN_BANK.bic,
        currency=GERMAN_BANK.currency,
    )
    verified = today - timedelta(days=345)
    pension = Pension.objects.create(
        person=person,
        region_code="110000",
        applied_on=Month.of(today).plus(-2).first_day(),
        applied_by="demo data",
        by_agency=True,
        first_month=str(Month.of(today).plus(-1)),
        basic=180_000,
        account=62_000,
        total=242_000,
        lines=[],
        figures_status="UNCONFIRMED",
        bank_account=account,
        status=PensionStatus.AWARDED,
        reviewed_by_label="demo data",
        verified_on=verified,
        proof_due=deadline(proof_of_life.CLOCK, verified).due,
    )
    audit_record(
        actor=SYSTEM,
        action="pension.approve",
        object_type="pension",
        object_id=pension.pk,
        person_id=person.pk,
        detail={"total": pension.total, "demo": True},
    )
    proof_of_life.proofs_daily(actor=SYSTEM, today=today)  # the reminder in the inbox


def _death(
    today: date, accepted: list[Registration], taken: list[Person], pensioner: Person | None
) -> None:
    skip = {p.pk for p in taken} | ({pensioner.pk} if pensioner else set())
    died_on = Month.of(today).plus(-1).first_day() + timedelta(days=11)
    pool = [
        r
        for r in _candidates(accepted, skip)
        if (_open_employment(r) or Employment()).start_date < Month.of(today).plus(-3).first_day()
        and not DeathReport.objects.filter(person_id=r.person_id).exists()
    ]
    if not pool:
        raise RuleError("no_candidate", "no Beijing employee for the death story", "")
    person = pool[-1].person
    officer = actor_for_user(get_user_model().objects.get(username="agency-officer"))
    report = death.death_report(
        actor=officer,
        person_id=person.pk,
        died_on=died_on,
        evidence=Upload("death-certificate.pdf", PDF),
        reporter=Reporter.FAMILY,
        reporter_name="Anna " + person.family_name,
        relationship="spouse",
        note="Reported at the counter with the hospital's death certificate.",
    )
    death.inheritance_claim_file(
        actor=officer,
        death_id=report.pk,
        heirs=[
            death.HeirDetails(
                name="Anna " + person.family_name,
                relationship="spouse",
                bank=BankDetails(
                    **{**GERMAN_BANK.__dict__, "holder": "Anna " + person.family_name}
                ),
            ),
            death.HeirDetails(
                name="Li Ming",
                relationship="child",
                bank=BankDetails(**{**CHINESE_BANK.__dict__, "holder": "Li Ming"}),
            ),
        ],
        documents=[Upload("certificate-of-inheritance.pdf", PDF)],
    )


def _earlier_month(today: date) -> None:
    """The programmes ask for three contribution months and the demo's bills settle two by its
    day: Beijing is billed for the month before them too, paid on time and credited."""
    month = Month.of(today).plus(-4)
    billing_run(actor=SYSTEM, region_code="110000", month=month)
    for bill in Bill.objects.filter(
        employer__region_code="110000", month=str(month), kind="regular"
    ).select_related("employer"):
        if bill.total > 0:
            payment_record(
                actor=SYSTEM,
                employer=bill.employer,
                amount=bill.total,
                received_on=min(bill.due_date, today),
                reference=bill.number,
            )
    credit_paid_bills(actor=SYSTEM)


def _programme(today: date, accepted: list[Registration], password: str) -> None:
    """The first Beijing employee who qualifies for an open programme applies."""
    if not any(p.open_on(today) for p in programmes.programmes().values()):
        raise RuleError("no_programme", f"no programme is open on {today}", "")
    _earlier_month(today)
    for reg in accepted:
        person = reg.person
        if person.user_id is not None or DeathReport.objects.filter(person=person).exists():
            continue
        for prog in programmes.programmes().values():
            if programmes.eligibility(person, prog, today).eligible:
                _login(person, APPLICANT, password)
                user = get_user_model().objects.get(username=APPLICANT)
                programmes.programme_apply(
                    actor=actor_for_user(user),
                    programme=prog.code,
                    bank_details=BankDetails(
                        **{**CHINESE_BANK.__dict__, "holder": person.full_name}
                    ),
                    on=today,
                )
                return
    raise RuleError("no_candidate", "nobody qualifies for a programme open on this day", "")
