"""Users, employers and hires for portal, import and browser tests, by their old names: made with
tests.factories (the employer and the hire through the services, as HR and the agency make them)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from expatsi.access.actors import actor_for_user
from expatsi.cards.models import Card
from expatsi.employers.models import Employer
from expatsi.insurance.models import Registration
from expatsi.insurance.services import HireData, hire_register
from expatsi.people.models import Person
from expatsi.people.services import PersonData
from expatsi.rules.identifiers import uscc_check_char
from tests.factories import (
    AgencyStaffFactory,
    HireDataFactory,
    HrMembershipFactory,
    RegisteredEmployerFactory,
    UserFactory,
    card_for,
    card_on_file,
)
from tests.twofactor import enrol

PASSWORD = "Correct-horse-battery-9"


def uscc(n: int) -> str:
    body = f"91110000{n:09d}"
    return body + uscc_check_char(body)


def make_employer(
    n: int = 1, *, name: str = "Rhine Precision (Beijing) Co., Ltd.", region: str = "110000"
) -> Employer:
    code = "91110000600037341L" if n == 1 else uscc(600037341 + n)
    return RegisteredEmployerFactory(name=name, uscc=code, region_code=region)


def make_user(username: str, *, password: str = PASSWORD) -> Any:
    return UserFactory(username=username, email=f"{username}@example.com", password=password)


def make_hr(employer: Employer, username: str = "hr") -> Any:
    return HrMembershipFactory(user=make_user(username), employer=employer).user


def make_agency(username: str = "officer", regions: str = "") -> Any:
    """An agency officer with an authenticator (tests.twofactor.TEST_KEY): agency staff must have one."""
    user = AgencyStaffFactory(user=make_user(username), regions=regions).user
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
    """Numbers follow ``n`` (passport C01X0000n, card IC110020260000n), so tests can name them;
    every date follows ``issued`` (an override of one date moves no other)."""
    issued = issued or date.today() - timedelta(days=5)
    values: dict[str, Any] = {
        "person__family_name": family,
        "person__given_names": "Anna",
        "person__sex": "female",
        "person__birth_date": date(1990, 4, 12),
        "person__nationality": nationality,
        "person__passport_number": f"C01X{n:05d}",
        "permit_number": f"IC11002026{n:05d}",
        "permit_issued_on": issued,
        "permit_valid_to": issued + timedelta(days=730),
        "start_date": issued + timedelta(days=10),
        "contract_wage": 2_850_000,
        "residence_permit_number": f"E{n:08d}",
        "residence_permit_issued_on": issued,
        "residence_permit_valid_to": issued + timedelta(days=730),
    }
    values.update(over)
    return HireDataFactory(**values)


def make_hire(employer: Employer, hr_user: Any, n: int = 1, **over: Any) -> Registration:
    """A hire by ``hr_user``, naming the person's card on file (put there first, as
    :func:`tests.factories.hire` does)."""
    data = hire_data(n, **over)
    card_on_file(employer, data)
    return hire_register(actor=actor_for_user(hr_user), employer=employer, data=data)


def card_for_form(employer: Employer, post: dict[str, Any]) -> Card:
    """The card a hire-form post names (``permit_number``), on file for the person posted, issued
    on the post's ``permit_issued_on`` (the form has no date fields: the card's dates count)."""
    return card_for(
        employer,
        PersonData(
            family_name=post["family_name"],
            given_names=post.get("given_names", ""),
            sex=post["sex"],
            birth_date=date.fromisoformat(post["birth_date"]),
            nationality=post["nationality"],
            passport_number=post["passport_number"],
        ),
        post["permit_number"],
        issued=date.fromisoformat(post["permit_issued_on"]),
        valid_to=date.fromisoformat(post["permit_valid_to"]),
    )


def make_employee(registration: Registration, username: str = "employee") -> Any:
    user = make_user(username)
    Person.objects.filter(pk=registration.person_id).update(user=user)
    return user
