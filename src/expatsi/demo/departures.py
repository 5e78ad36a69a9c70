"""Demo departures: two people of a Beijing employer who left China, so that the departure pages,
the agency's queue, the payment runs and a closed account show something.

- ``employee-leaving`` left and applied for the lump sum with a signed form: the application
  waits in the agency's queue (and its form can be downloaded there).
- ``employee-paid-out`` left, signed in the portal, was approved, paid in a payment run and
  confirmed by the bank: the account is closed, and the statement starts again from zero.

Run in two steps around the demo's bills: the employments end before the months are billed
(so the months after the departure are not billed), the applications are made once the bills are
paid (every month settled, the lump sum is the credited balance).
"""

from __future__ import annotations

import logging
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction

from expatsi.access.actors import SYSTEM, Actor, actor_for_user
from expatsi.benefits import services as benefits
from expatsi.benefits.models import Payout
from expatsi.insurance.models import CoverageCertificate, Employment, Registration
from expatsi.insurance.services import employment_end
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError

log = logging.getLogger(__name__)

USERS = ("employee-leaving", "employee-paid-out")
# The scanned, signed application form of the pending application (a tiny PDF for the demo).
SIGNED_FORM = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
BANKS = (
    benefits.BankDetails(
        holder="",
        country="FRA",
        iban="FR1420041010050500013M02606",
        bic="PSSTFRPPPAR",
        currency="EUR",
    ),
    benefits.BankDetails(
        holder="",
        country="DEU",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        currency="EUR",
    ),
)


def leavers(today: date, accepted: list[Registration]) -> list[Person]:
    """End the Beijing employments of two people (insured for a while, far from pension age, paying
    into the pension) at the end of the month before last: their billed months are then settled."""
    last_day = Month.of(today).plus(-2).last_day()
    picked: list[Person] = []
    billed_from = Month.of(today).plus(-3).first_day()
    for reg in accepted:
        emp = (
            Employment.objects.filter(person_id=reg.person_id, end_date__isnull=True)
            .select_related("employer")
            .first()
        )
        if (
            emp is not None
            and emp.employer.region_code == "110000"
            and emp.start_date < billed_from
            and reg.person.user_id is None
            and reg.person.birth_date.year >= 1975
            # a certificate of coverage exempts from pension: no account to pay out
            and not CoverageCertificate.objects.filter(person_id=reg.person_id).exists()
        ):
            employment_end(actor=SYSTEM, employment_id=emp.pk, on=last_day)
            picked.append(reg.person)
        if len(picked) == len(USERS):
            break
    return picked


def applications(today: date, people: list[Person], password: str) -> None:
    """Once the bills are paid: one application waiting for review, one paid out."""
    officer = get_user_model().objects.get(username="agency-officer")
    agency = actor_for_user(officer)
    for username, person, bank in zip(USERS, people, BANKS, strict=False):
        try:
            with transaction.atomic():
                _departure(today, username, person, bank, password, agency)
        except RuleError as exc:  # e.g. no policy on file for the months: no bills, no balance
            log.warning("demo departure of %s left out: %s", username, exc)


def _departure(
    today: date,
    username: str,
    person: Person,
    bank: benefits.BankDetails,
    password: str,
    agency: Actor,
) -> None:
    user = get_user_model().objects.create_user(
        username=username, password=password, email=person.email
    )
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    actor: Actor = actor_for_user(user)
    last_day = Month.of(today).plus(-2).last_day()
    case, _ = benefits.departure_open(actor=actor, person_id=person.pk, departure_date=last_day)
    details = benefits.BankDetails(**{**bank.__dict__, "holder": person.full_name})
    if username == "employee-leaving":
        benefits.termination_apply(
            actor=actor,
            case_id=case.pk,
            bank_details=details,
            declaration=True,
            signed_form=SIGNED_FORM,
            closing_date=today,
        )
        return
    app = benefits.termination_apply(
        actor=actor,
        case_id=case.pk,
        bank_details=details,
        declaration=True,
        password=password,
        closing_date=today,
    )
    benefits.termination_decide(
        actor=agency, termination_id=app.pk, decision="approve", identity_checked=True
    )
    benefits.payment_run(actor=agency, region_code=case.region_code, execution_date=today)
    payout = Payout.objects.get(application=app, kind="payout")
    benefits.payments_reconcile(
        actor=agency,
        text=f"end_to_end_id,status,date\n{payout.end_to_end_id},ACSC,{today.isoformat()}\n",
    )
