"""A foreigner who worked in Beijing from July to September 2025 at 30,000 yuan a month, every
month billed and paid, then left: the ledger the lump-sum tests work out by hand.

Pension base 30,000.00 (inside Beijing's 2025 limits 7,162–35,811), employee pension 8% =
2,400.00 a month, credited to the individual account for 2025-07, 2025-08 and 2025-09.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from expatsi.access.actors import SYSTEM, Actor, actor_for_user
from expatsi.billing.models import Bill
from expatsi.billing.services import billing_run, payment_record
from expatsi.employers.models import Employer
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from tests.billing.conftest import beijing, employ, make_person  # noqa: F401 - fixture by name
from tests.portal.factories import PASSWORD, make_agency, make_user

MONTHS = (Month(2025, 7), Month(2025, 8), Month(2025, 9))
LEFT_ON = date(2025, 9, 30)


def bill_and_pay(employer: Employer, month: Month, *, pay: bool = True) -> Bill:
    billing_run(actor=SYSTEM, region_code=employer.region_code, month=month)
    bill = Bill.objects.get(employer=employer, month=str(month), kind="regular")
    if pay:
        payment_record(
            actor=SYSTEM,
            employer=employer,
            amount=bill.total,
            received_on=month.plus(1).first_day().replace(day=10),
            reference=bill.number,
        )
    return bill


@dataclass
class Departed:
    employer: Employer
    person: Person
    user: Any
    actor: Actor
    officer: Any
    officer2: Any

    def agency(self, which: int = 1) -> Actor:
        return actor_for_user(self.officer if which == 1 else self.officer2)


@pytest.fixture
def departed(beijing: Employer) -> Departed:  # noqa: F811 - the fixture imported above
    person = make_person("Lefebvre", "FRA", birth=date(1985, 1, 15))
    employ(person, beijing, 30000, start=date(2025, 7, 1), end=LEFT_ON)
    for m in MONTHS:
        bill_and_pay(beijing, m)
    user = make_user("lefebvre")
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return Departed(
        employer=beijing,
        person=person,
        user=user,
        actor=actor_for_user(user),
        officer=make_agency("officer-one", regions="110000"),
        officer2=make_agency("officer-two", regions="110000"),
    )


__all__ = ["PASSWORD", "Departed", "bill_and_pay", "departed"]
