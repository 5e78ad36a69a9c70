"""Small builders for tests that need employers, hires and users (through the services)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from django.contrib.auth.models import User

from expatsi.access.actors import SYSTEM
from expatsi.access.models import AgencyStaff
from expatsi.employers.models import Employer, EmployerKind
from expatsi.employers.services import employer_create, hr_user_add
from expatsi.insurance.models import Registration
from expatsi.insurance.services import HireData, hire_register
from expatsi.people.models import DocumentKind
from expatsi.people.services import PersonData
from expatsi.rules.identifiers import uscc_check_char

_counter = itertools.count(1)


def uscc(region: str = "110000") -> str:
    body = f"91{region}{next(_counter):09d}"
    return body + uscc_check_char(body)


def employer(region: str = "110000", name: str = "Acme Co., Ltd.") -> Employer:
    return employer_create(
        actor=SYSTEM, name=name, uscc=uscc(region), region_code=region, kind=EmployerKind.DOMESTIC
    )


def hr_user(emp: Employer, username: str, *, email: str = "") -> User:
    user = hr_user_add(
        actor=SYSTEM, employer=emp, username=username, email=email or f"{username}@example.invalid"
    )
    assert isinstance(user, User)
    return user


def agency_user(username: str, regions: str = "") -> User:
    user = User.objects.create_user(username=username, email=f"{username}@example.invalid")
    AgencyStaff.objects.create(user=user, regions=regions)
    return user


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
    n = next(_counter)
    return hire_register(
        actor=SYSTEM,
        employer=emp,
        data=HireData(
            person=PersonData(
                family_name=family or f"Person{n}",
                given_names="Test",
                sex=sex,
                birth_date=birth,
                nationality=nationality,
                passport_number=passport or f"P{n:08d}",
            ),
            permit_kind=DocumentKind.INTEGRATED_CARD,
            permit_number=f"IC{n:010d}",
            permit_issued_on=permit_issued,
            permit_valid_to=permit_issued + timedelta(days=730),
            start_date=start or permit_issued,
            position="Engineer",
            contract_wage=3_000_000,
            residence_permit_number=f"E{n:08d}",
            residence_permit_issued_on=permit_issued,
            residence_permit_valid_to=residence_valid_to,
        ),
    )
