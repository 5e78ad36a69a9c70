"""employers/permissions.py: each question over every role (tests/roles.py)."""

from __future__ import annotations

import pytest

from expatsi.employers import permissions
from expatsi.employers.models import Employer
from expatsi.employers.selectors import employers_visible
from expatsi.rules.errors import NotFound
from tests.roles import (
    AGENCY_OF_REGION,
    BEIJING,
    EMPLOYER_HR,
    SHANGHAI,
    Tenants,
    make_world,
    only,
    roles,
)

EMPLOYER = Employer(pk=11, region_code=BEIJING, name="Rhine")
OTHER = Employer(pk=12, region_code=SHANGHAI, name="Yangtze")
ACTORS = roles(Tenants(employer_id=11, other_employer_id=12, person_id=21, other_person_id=22))


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION, *EMPLOYER_HR))
def test_may_act_for_the_employer(role, expected):
    assert permissions.may_act_for(ACTORS[role], EMPLOYER) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION, *EMPLOYER_HR))
def test_require_act_for_answers_not_found(role, expected):
    if expected:
        permissions.require_act_for(ACTORS[role], EMPLOYER)
    else:
        with pytest.raises(NotFound):
            permissions.require_act_for(ACTORS[role], EMPLOYER)


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION))
def test_employers_are_registered_and_rated_by_agency_staff_of_their_region(role, expected):
    actor = ACTORS[role]
    assert permissions.may_register_employer(actor, BEIJING) is expected
    assert permissions.may_rate_work_injury(actor, EMPLOYER) is expected


@pytest.mark.parametrize(("role", "expected"), only("system"))
def test_only_the_system_adds_hr_users_directly(role, expected):
    assert permissions.may_add_hr_user(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION, "hr"))
def test_hr_users_are_invited_by_agency_staff_or_signed_in_hr_never_a_token(role, expected):
    assert permissions.may_invite_hr(ACTORS[role], EMPLOYER) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION, *EMPLOYER_HR))
def test_api_tokens_are_seen_and_revoked_by_its_hr_and_region_staff(role, expected):
    assert permissions.may_manage_api_tokens(ACTORS[role], EMPLOYER) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION, "hr"))
def test_api_tokens_are_created_by_signed_in_hr_or_region_staff(role, expected):
    assert permissions.may_create_api_token(ACTORS[role], EMPLOYER) is expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("agency_all", {"first", "other"}),
        ("agency_region", {"first"}),
        ("agency_other_region", {"other"}),
        ("hr", {"first"}),
        ("hr_token", {"first"}),
        ("hr_other", {"other"}),
        ("employee_self", {"first"}),  # the employer they work for
        ("employee_other", {"other"}),
        ("system", {"first", "other"}),
        ("public", set()),
    ],
)
def test_which_employers_each_role_sees(role, sees):
    world = make_world()
    names = {world.employer.pk: "first", world.other_employer.pk: "other"}
    visible = employers_visible(roles(world.tenants)[role])
    assert {names[e.pk] for e in visible} == sees
    assert visible.count() == len(sees)  # one row per employer, however many employments
