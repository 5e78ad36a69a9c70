"""The notify, insurance, audit and security tests' builders, by their old names: employers, hires and
users made with tests.factories (through the services where the tests read what those record)."""

from __future__ import annotations

import itertools
from datetime import date

from django.contrib.auth.models import User

from expatsi.employers.models import Employer
from expatsi.insurance.models import Registration
from tests import factories

_counter = itertools.count(1)


def employer(region: str = "110000", name: str = "Acme Co., Ltd.") -> Employer:
    """Registered through the service: the audit tests read its ``employer.create`` event.

    Its USCC takes a number from the counter the hires' numbers come from, as it always has: a
    test that seeds data in one process and hires again in another (test_backup_restore) relies
    on the second process's numbers not meeting the first's."""
    return factories.RegisteredEmployerFactory(
        region_code=region, name=name, uscc=factories.uscc_for(region, next(_counter))
    )


def hr_user(emp: Employer, username: str, *, email: str = "") -> User:
    user = factories.hr_user(emp, username, email=email)
    assert isinstance(user, User)
    return user


def agency_user(username: str, regions: str = "") -> User:
    return factories.AgencyStaffFactory(
        user__username=username, user__email=f"{username}@example.invalid", regions=regions
    ).user


def hire(
    emp: Employer,
    *,
    permit_issued: date,
    family: str | None = None,
    nationality: str = "DEU",
    birth: date = date(1985, 3, 14),
    sex: str = "male",
    passport: str | None = None,
    residence_valid_to: date | None = None,
    start: date | None = None,
) -> Registration:
    """A hire whose residence permit runs open-ended unless ``residence_valid_to`` is given (the
    reminder tests count on that)."""
    n = next(_counter)
    return factories.hire(
        emp,
        person__family_name=family or f"Person{n}",
        person__given_names="Test",
        person__sex=sex,
        person__birth_date=birth,
        person__nationality=nationality,
        person__passport_number=passport or f"P{n:08d}",
        permit_number=f"IC{n:010d}",
        permit_issued_on=permit_issued,
        start_date=start or permit_issued,
        residence_permit_number=f"E{n:08d}",
        residence_permit_valid_to=residence_valid_to,
    )
