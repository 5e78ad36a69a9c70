"""People and pensions for the pension tests.

``retiree``: a man born 1 February 1966 who worked in Beijing from January 2016 to December 2030,
credited 1,000.00 yuan to his individual account every month (180 months, one bill each). His
statutory age: original month 2026-02 (60), m = 13 months after 2025-01, delay = floor(13/4) + 1
= 4 months → 60y4m from 2026-06; the minimum for 2026 is 180 months.

``awarded_pension``: a pension written directly (the award arithmetic is tested on its own) for
the tests of the monthly run, suspension, back pay and death, which run in 2026.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from expatsi.benefits.models import BankAccount, Pension, PensionStatus
from expatsi.benefits.services import BankDetails
from expatsi.billing.models import AccountCredit
from expatsi.employers.models import Employer
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from tests.billing.conftest import employ, make_person
from tests.factories import BillFactory
from tests.portal.factories import make_user

IBAN = "FR1420041010050500013M02606"
FRENCH = BankDetails(
    holder="Jean Martin",
    country="FRA",
    iban="FR14 2004 1010 0505 0001 3M02 606",
    bic="PSSTFRPPPAR",
    currency="EUR",
)


def credit_months(
    person: Person, employer: Employer, first: Month, count: int, amount: int
) -> None:
    """``count`` monthly credits of ``amount`` fen from ``first``, each from its own bill."""
    m = first
    for _ in range(count):
        bill = BillFactory(employer=employer, month=str(m))
        AccountCredit.objects.create(person=person, month=str(m), amount=amount, bill=bill)
        m = m.plus(1)


def retiree(
    employer: Employer, *, months: int = 180, username: str = "martin", born: date | None = None
) -> tuple[Person, Any]:
    person = make_person("Martin", "FRA", birth=born or date(1966, 2, 1))
    employ(person, employer, 30000, start=date(2016, 1, 1), end=date(2030, 12, 31))
    credit_months(person, employer, Month(2016, 1), months, 100_000)
    user = make_user(username)
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return person, user


def awarded_pension(
    person: Person,
    *,
    first_month: str = "2026-01",
    total: int = 100_000,
    verified_on: date = date(2025, 8, 1),
    proof_due: date = date(2026, 8, 1),
    region: str = "110000",
) -> Pension:
    account = BankAccount.objects.create(
        person=person,
        holder="Jean Martin",
        country="FRA",
        iban=IBAN,
        bic="PSSTFRPPPAR",
        currency="EUR",
    )
    return Pension.objects.create(
        person=person,
        region_code=region,
        applied_on=date(2025, 12, 1),
        applied_by="test",
        first_month=first_month,
        basic=total // 2,
        account=total - total // 2,
        total=total,
        lines=[],
        figures_status="SECONDARY",
        bank_account=account,
        status=PensionStatus.AWARDED,
        verified_on=verified_on,
        proof_due=proof_due,
    )


def pensioner(employer: Employer, username: str = "dupont") -> tuple[Person, Any, Pension]:
    """A pensioner living in France with a Beijing pension of 1,000.00 a month from 2026-01."""
    person = make_person("Dupont", "FRA", birth=date(1960, 3, 1))
    employ(person, employer, 30000, start=date(2010, 1, 1), end=date(2020, 2, 29))
    user = make_user(username)
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return person, user, awarded_pension(person)


__all__ = ["FRENCH", "IBAN", "awarded_pension", "credit_months", "pensioner", "retiree"]
