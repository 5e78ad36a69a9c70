"""The roles every permission policy is tested over (tests/<app>/test_permissions.py).

Two tenants: "the" employer in Beijing, employing "the" person, and "the other" employer in
Shanghai, employing the other person. Each role is named by how it stands to the first tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from expatsi.access.actors import PUBLIC, SYSTEM, Actor
from expatsi.employers.models import Employer
from expatsi.insurance.services import employment_end
from expatsi.people.models import Person
from tests.factories import RegisteredEmployerFactory, hire, today

BEIJING = "110000"
SHANGHAI = "310000"

ROLES = (
    "agency_all",  # agency staff of every region
    "agency_region",  # agency staff of the employer's region (Beijing) only
    "agency_other_region",  # agency staff of another region (Shanghai) only
    "hr",  # the employer's HR user, signed in
    "hr_token",  # the employer's API token
    "hr_other",  # HR of the other employer
    "employee_self",  # the person themself
    "employee_other",  # another foreign employee
    "system",  # jobs and the command line
    "public",  # nobody signed in, or a user without a role
)


@dataclass(frozen=True)
class Tenants:
    employer_id: int
    other_employer_id: int
    person_id: int
    other_person_id: int


def roles(t: Tenants) -> dict[str, Actor]:
    return {
        "agency_all": Actor("agency", 901, "officer-all", regions=None),
        "agency_region": Actor("agency", 902, "officer-bj", regions=frozenset({BEIJING})),
        "agency_other_region": Actor("agency", 903, "officer-sh", regions=frozenset({SHANGHAI})),
        "hr": Actor("hr", 904, "hr", employer_ids=frozenset({t.employer_id})),
        "hr_token": Actor(
            "hr", None, "token", employer_ids=frozenset({t.employer_id}), via="token"
        ),
        "hr_other": Actor("hr", 905, "hr-other", employer_ids=frozenset({t.other_employer_id})),
        "employee_self": Actor("employee", 906, "self", person_id=t.person_id),
        "employee_other": Actor("employee", 907, "other", person_id=t.other_person_id),
        "system": SYSTEM,
        "public": PUBLIC,
    }


def only(*names: str) -> list[tuple[str, bool]]:
    """(role, expected) for every role: True for ``names``, False for the rest."""
    unknown = set(names) - set(ROLES)
    assert not unknown, unknown
    return [(role, role in names) for role in ROLES]


AGENCY_OF_REGION = ("agency_all", "agency_region", "system")
EMPLOYER_HR = ("hr", "hr_token")


@dataclass(frozen=True)
class World:
    """Rows for the scope questions: the person works for the employer (Beijing), the other
    person for the other employer (Shanghai); the leaver worked for the employer and has left."""

    employer: Employer
    other_employer: Employer
    person: Person
    other_person: Person
    leaver: Person
    tenants: Tenants

    def name(self, person_id: int) -> str:
        return {
            self.person.pk: "person",
            self.other_person.pk: "other_person",
            self.leaver.pk: "leaver",
        }[person_id]


def make_world() -> World:
    """Built through the services as the system (tests/factories.py; needs the database)."""
    first = RegisteredEmployerFactory(region_code=BEIJING)
    other = RegisteredEmployerFactory(region_code=SHANGHAI)
    person = hire(first).person
    other_person = hire(other).person
    left = hire(first, permit_issued_on=today() - timedelta(days=100))
    employment_end(actor=SYSTEM, employment_id=left.employment_id, on=today() - timedelta(days=30))
    tenants = Tenants(first.pk, other.pk, person.pk, other_person.pk)
    return World(first, other, person, other_person, left.person, tenants)
