"""A small world of two tenants for the API tests, and a signed-in client for every role.

Employer A is in Beijing (110000), employer B in Shanghai (310000). ``pa`` (German) works for A
with a submitted registration; ``pa2`` works for A with no registration yet; ``pb`` (Japanese)
works for B. Roles: agency staff for every region, agency staff limited to Shanghai, HR of A, HR
of B, an API token of A, ``pa`` signed in as themself, ``pb`` as "another employee", anonymous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from expatsi.access.actors import SYSTEM
from expatsi.employers.models import ApiToken, Employer
from expatsi.employers.services import api_token_create
from expatsi.insurance.cardlink import CARD_KINDS
from expatsi.insurance.models import Employment, Registration
from expatsi.insurance.services import employment_start
from expatsi.people.models import Person
from expatsi.people.services import PersonData, document_add, person_find_or_create
from expatsi.rules.errors import RuleError
from expatsi.rules.identifiers import uscc_check_char
from tests.factories import (
    AgencyStaffFactory,
    HrMembershipFactory,
    PersonDataFactory,
    RegisteredEmployerFactory,
    UserFactory,
    card_for,
    hire,
)
from tests.twofactor import verified_login

ROLES = ("agency", "agency_sh", "hr_a", "hr_b", "token_a", "self", "other", "anon")
API = "/api/v1"


def uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


USCC_A = "91110000600037341L"
USCC_B = uscc("91310000MA1FL8X3P")
USCC_NEW_SH = uscc("91310115MA1H7GQ2T")
USCC_NEW_BJ = uscc("91110105MA0012345")


def today() -> date:
    return timezone.localdate()


_serial = iter(range(100_000, 999_999))


def hire_payload(employer_id: int, *, on_file: bool = True, **overrides: Any) -> dict[str, Any]:
    """A valid body for ``POST /registrations/hire`` (and ``POST /employees``): a new person unless
    ``person`` is overridden.

    A hire names the person's card on file (issue #10), so with ``on_file`` the card the body names
    is put on file first for the employer and person (:func:`tests.factories.card_for`, with the
    body's dates) — as in production, where the card application brings the person on file
    before the hire. Not when the employer does not exist or the person's details are not valid
    (the hire is refused before it looks for the card)."""
    n = next(_serial)
    person = {
        "family_name": "Dubois",
        "given_names": "Claire",
        "sex": "female",
        "birth_date": "1988-04-12",
        "nationality": "FRA",
        "passport_number": f"21FR{n}",
        "email": f"claire.{n}@example.org",
    }
    body: dict[str, Any] = {
        "employer_id": employer_id,
        "person": person,
        "permit_kind": "integrated_card",
        "permit_number": f"IC{n}",
        "permit_issued_on": (today() - timedelta(days=10)).isoformat(),
        "permit_valid_to": (today() + timedelta(days=700)).isoformat(),
        "residence_permit_number": f"RP{n}",
        "residence_permit_issued_on": (today() - timedelta(days=8)).isoformat(),
        "residence_permit_valid_to": (today() + timedelta(days=700)).isoformat(),
        "start_date": (today() - timedelta(days=5)).isoformat(),
        "position": "Process engineer",
        "contract_wage": "32000.00",
    }
    body.update(overrides)
    if on_file:
        _card_on_file(body)
    return body


def _card_on_file(body: dict[str, Any]) -> None:
    if body.get("permit_kind", "integrated_card") not in CARD_KINDS:
        return
    employer = Employer.objects.filter(pk=body.get("employer_id")).first()
    if employer is None:
        return
    try:
        person = PersonData(
            **{**body["person"], "birth_date": date.fromisoformat(body["person"]["birth_date"])}
        )
        issued = date.fromisoformat(body["permit_issued_on"])
        valid_to = date.fromisoformat(body["permit_valid_to"])
        with transaction.atomic():
            card_for(
                employer,
                person,
                body["permit_number"],
                issued=issued,
                valid_to=valid_to,
                legacy=body.get("permit_kind") == "work_permit",
            )
    except (TypeError, ValueError, KeyError, RuleError, IntegrityError):
        return


def _hire(
    employer: Employer,
    *,
    family: str,
    given: str,
    sex: str,
    birth: date,
    nationality: str,
    passport: str,
    permit: str,
    end: date | None = None,
) -> Registration:
    return hire(
        employer,
        person__family_name=family,
        person__given_names=given,
        person__sex=sex,
        person__birth_date=birth,
        person__nationality=nationality,
        person__passport_number=passport,
        permit_number=permit,
        permit_issued_on=today() - timedelta(days=20),
        permit_valid_to=today() + timedelta(days=600),
        residence_permit_number="R" + permit,
        residence_permit_issued_on=today() - timedelta(days=18),
        residence_permit_valid_to=today() + timedelta(days=600),
        start_date=today() - timedelta(days=15),
        end_date=end,
    )


@dataclass
class World:
    a: Employer
    b: Employer
    pa: Person
    pa2: Person
    pb: Person
    ra: Registration
    rb: Registration
    ea: Employment
    ea2: Employment
    eb: Employment
    token_a: ApiToken
    token_a_secret: str
    spare_token_a: ApiToken
    users: dict[str, Any] = field(default_factory=dict)

    def client(self, role: str, **kwargs: Any) -> Client:
        if role == "token_a":
            return Client(headers={"Authorization": f"Bearer {self.token_a_secret}"}, **kwargs)
        c = Client(**kwargs)
        if role != "anon":
            verified_login(c, self.users[role])
        return c


@pytest.fixture
def world(db: Any) -> World:
    a = RegisteredEmployerFactory(
        name="Rheinmetall Beijing Co., Ltd.", uscc=USCC_A, region_code="110000"
    )
    b = RegisteredEmployerFactory(
        name="Sakura Trading (Shanghai) Co., Ltd.", uscc=USCC_B, region_code="310000"
    )
    ra = _hire(
        a,
        family="Schmidt",
        given="Anna",
        sex="female",
        birth=date(1985, 3, 14),
        nationality="DEU",
        passport="C01X00T47",
        permit="IC110001",
        end=today() + timedelta(days=3 * 365),
    )
    rb = _hire(
        b,
        family="Tanaka",
        given="Hiroshi",
        sex="male",
        birth=date(1979, 11, 2),
        nationality="JPN",
        passport="TK1234567",
        permit="IC310001",
    )
    pa2 = PersonDataFactory(
        family_name="Smith",
        given_names="John",
        sex="male",
        birth_date=date(1990, 6, 30),
        nationality="USA",
        passport_number="561234987",
    )
    person2, _ = person_find_or_create(actor=SYSTEM, data=pa2)
    document_add(
        actor=SYSTEM,
        person=person2,
        kind="work_permit",
        number="WP110002",
        issued_on=today() - timedelta(days=3),
    )
    document_add(
        actor=SYSTEM,
        person=person2,
        kind="residence_permit",
        number="E11000002",
        # Obtained after entry (not yet valid today): registrable from its first day,
        # not eligible today.
        issued_on=today() + timedelta(days=5),
    )
    ea2 = employment_start(
        actor=SYSTEM,
        person=person2,
        employer=a,
        start_date=today() - timedelta(days=1),
        position="Analyst",
        contract_wage=2_500_000,
    )
    token, secret = api_token_create(actor=SYSTEM, employer_id=a.pk, name="HR system")
    spare, _ = api_token_create(actor=SYSTEM, employer_id=a.pk, name="old payroll")

    users = {
        role: UserFactory(username=f"{role}-user", email=f"{role}@example.org")
        for role in ("agency", "agency_sh", "hr_a", "hr_b", "self", "other")
    }
    AgencyStaffFactory(user=users["agency"], regions="")
    AgencyStaffFactory(user=users["agency_sh"], regions="310000")
    HrMembershipFactory(user=users["hr_a"], employer=a)
    HrMembershipFactory(user=users["hr_b"], employer=b)
    Person.objects.filter(pk=ra.person_id).update(user=users["self"])
    Person.objects.filter(pk=rb.person_id).update(user=users["other"])
    return World(
        a=a,
        b=b,
        pa=ra.person,
        pa2=person2,
        pb=rb.person,
        ra=ra,
        rb=rb,
        ea=ra.employment,
        ea2=ea2,
        eb=rb.employment,
        token_a=token,
        token_a_secret=secret,
        spare_token_a=spare,
        users=users,
    )


@pytest.fixture
def as_role(world: World):
    def make(role: str, **kwargs: Any) -> Client:
        return world.client(role, **kwargs)

    return make
