"""Users, employers and hires for portal, import and browser tests, made through models and services."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model

from expatsi.access.actors import SYSTEM, actor_for_user
from expatsi.access.models import AgencyStaff
from expatsi.employers.models import Employer, HrMembership
from expatsi.employers.services import employer_create
from expatsi.insurance.models import Registration
from expatsi.insurance.services import HireData, hire_register
from expatsi.people.models import Person
from expatsi.people.services import PersonData
from expatsi.rules.identifiers import uscc_check_char
from tests.twofactor import enrol

PASSWORD = "Correct-horse-battery-9"


def uscc(n: int) -> str:
    body = f"91110000{n:09d}"
    return body + uscc_check_char(body)


def make_employer(
    n: int = 1, *, name: str = "Rhine Precision (Beijing) Co., Ltd.", region: str = "110000"
) -> Employer:
    code = "91110000600037341L" if n == 1 else uscc(600037341 + n)
    return employer_create(actor=SYSTEM, name=name, uscc=code, region_code=region)


def make_user(username: str, *, password: str = PASSWORD) -> Any:
    user = get_user_model().objects.create_user(username=username, email=f"{username}@example.com")
    user.set_password(password)
    user.save()
    return user


def make_hr(employer: Employer, username: str = "hr") -> Any:
    user = make_user(username)
    HrMembership.objects.create(user=user, employer=employer)
    return user


def make_agency(username: str = "officer", regions: str = "") -> Any:
    """An agency officer with an authenticator (tests.twofactor.TEST_KEY): agency staff must have one."""
    user = make_user(username)
    AgencyStaff.objects.create(user=user, regions=regions)
    enrol(user)
    return user


def hire_data(
    n: int = 1,
    *,
    issued: date | None = None,
    family: str = "Müller",
    nationality: str = "DEU",
    **over: Any,
) -> HireData:
    issued = issued or date.today() - timedelta(days=5)
    person = PersonData(
        family_name=family,
        given_names="Anna",
        sex="female",
        birth_date=date(1990, 4, 12),
        nationality=nationality,
        passport_number=f"C01X{n:05d}",
    )
    values: dict[str, Any] = {
        "person": person,
        "permit_kind": "integrated_card",
        "permit_number": f"IC11002026{n:05d}",
        "permit_issued_on": issued,
        "permit_valid_to": issued + timedelta(days=730),
        "start_date": issued + timedelta(days=10),
        "position": "Engineer",
        "contract_wage": 2_850_000,
        "residence_permit_number": f"E{n:08d}",
        "residence_permit_issued_on": issued,
        "residence_permit_valid_to": issued + timedelta(days=730),
    }
    values.update(over)
    return HireData(**values)


def make_hire(employer: Employer, hr_user: Any, n: int = 1, **over: Any) -> Registration:
    return hire_register(
        actor=actor_for_user(hr_user), employer=employer, data=hire_data(n, **over)
    )


def make_employee(registration: Registration, username: str = "employee") -> Any:
    user = make_user(username)
    Person.objects.filter(pk=registration.person_id).update(user=user)
    return user
