"""insurance/permissions.py: each question over every role (tests/roles.py).

The scope questions (which people, employments and registrations) are asked through the selectors
that apply them, on a world of two tenants and a person who has left the employer."""

from __future__ import annotations

import pytest

from expatsi.employers.models import Employer
from expatsi.insurance import permissions, selectors
from expatsi.insurance.models import Registration
from expatsi.rules.errors import Forbidden, NotFound
from tests.roles import (
    AGENCY_OF_REGION,
    BEIJING,
    EMPLOYER_HR,
    ROLES,
    Tenants,
    make_world,
    only,
    roles,
)

EMPLOYER = Employer(pk=11, region_code=BEIJING, name="Rhine")
REGISTRATION = Registration(pk=31, employer=EMPLOYER, person_id=21)
ACTORS = roles(Tenants(employer_id=11, other_employer_id=12, person_id=21, other_person_id=22))
AGENCY = ("agency_all", "agency_region", "agency_other_region", "system")
ALL_HR = ("hr", "hr_token", "hr_other")

# Who sees whose record. Agency staff see people ever employed in their regions (the leaver too);
# HR only the people their employer employs now.
SEES_PEOPLE = {
    "agency_all": {"person", "other_person", "leaver"},
    "agency_region": {"person", "leaver"},
    "agency_other_region": {"other_person"},
    "hr": {"person"},
    "hr_token": {"person"},
    "hr_other": {"other_person"},
    "employee_self": {"person"},
    "employee_other": {"other_person"},
    "system": {"person", "other_person", "leaver"},
    "public": set(),
}


@pytest.fixture
def world(db):
    return make_world()


@pytest.mark.parametrize("role", ROLES)
def test_which_people_each_role_sees(world, role):
    visible = selectors.persons_visible(roles(world.tenants)[role])
    assert {world.name(p.pk) for p in visible} == SEES_PEOPLE[role]


@pytest.mark.parametrize("role", ROLES)
def test_which_employments_and_registrations_each_role_sees(world, role):
    """The same people's employments and registrations: HR not the leaver's (ended)."""
    actor = roles(world.tenants)[role]
    employments = {world.name(e.person_id) for e in selectors.employments_visible(actor)}
    registrations = {world.name(r.person_id) for r in selectors.registrations_visible(actor)}
    assert employments == SEES_PEOPLE[role]
    assert registrations == SEES_PEOPLE[role]


@pytest.mark.parametrize(
    ("role", "expected"), only(*AGENCY, *ALL_HR, "employee_self", "employee_other")
)
def test_may_see_people_at_all(role, expected):
    assert permissions.may_see_people(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION, *EMPLOYER_HR))
def test_hires_employments_and_registrations_are_filed_by_its_hr_or_region_staff(role, expected):
    actor = ACTORS[role]
    assert permissions.may_file_for(actor, EMPLOYER) is expected
    if expected:
        permissions.require_file_for(actor, EMPLOYER)
    else:
        with pytest.raises(NotFound):  # never a hint that the employer exists
            permissions.require_file_for(actor, EMPLOYER)


@pytest.mark.parametrize(("role", "expected"), only(*ALL_HR))
def test_the_hire_pages_are_the_hr_users(role, expected):
    assert permissions.may_use_hire_pages(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY, *ALL_HR))
def test_certificates_of_coverage_are_filed_by_hr_or_agency_staff(role, expected):
    assert permissions.may_file_certificate(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY))
def test_the_decision_queue_is_the_agencys(role, expected):
    assert permissions.may_decide_registrations(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION))
def test_a_registration_is_decided_by_agency_staff_of_its_region(role, expected):
    assert permissions.may_decide_registration(ACTORS[role], REGISTRATION) is expected


@pytest.mark.parametrize(
    ("role", "refusal"),
    [
        ("agency_all", None),
        ("agency_region", None),
        ("system", None),
        ("hr", Forbidden),  # its own employer's HR learns that only the agency decides
        ("hr_token", Forbidden),
        ("agency_other_region", NotFound),
        ("hr_other", NotFound),
        ("employee_self", NotFound),
        ("employee_other", NotFound),
        ("public", NotFound),
    ],
)
def test_who_learns_what_when_refused_a_decision(role, refusal):
    actor = ACTORS[role]
    if refusal is None:
        assert permissions.require_decide_registration(actor, REGISTRATION, 31) is REGISTRATION
    else:
        with pytest.raises(refusal):
            permissions.require_decide_registration(actor, REGISTRATION, 31)
    with pytest.raises(NotFound):  # no such registration: nobody learns more
        permissions.require_decide_registration(actor, None, 31)
