"""benefits/permissions.py: each question over every role (tests/roles.py).

The pages, the API, the services and the selectors ask these questions; none writes its own."""

from __future__ import annotations

from datetime import date

import pytest

from expatsi.benefits import permissions, selectors
from expatsi.benefits.models import DepartureCase, Trigger
from expatsi.rules.errors import Forbidden
from tests.roles import BEIJING, ROLES, SHANGHAI, Tenants, make_world, only, roles

ACTORS = roles(Tenants(employer_id=11, other_employer_id=12, person_id=21, other_person_id=22))
EMPLOYEES = ("employee_self", "employee_other")
STAFF = ("agency_all", "agency_region", "agency_other_region")


@pytest.mark.parametrize(("role", "expected"), only(*EMPLOYEES))
def test_the_persons_pages(role, expected):
    assert permissions.is_person(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only(*STAFF))
def test_the_agency_pages_are_for_signed_in_staff(role, expected):
    assert permissions.is_staff(ACTORS[role]) is expected
    assert permissions.may_decide_applications(ACTORS[role]) is expected
    assert permissions.may_handle_payouts(ACTORS[role]) is expected
    if not expected:
        with pytest.raises(Forbidden, match="payouts are the agency's"):
            permissions.require_handle_payouts(ACTORS[role])


@pytest.mark.parametrize(("role", "expected"), only(*STAFF, *EMPLOYEES))
def test_applications_are_seen_by_the_person_and_staff(role, expected):
    assert permissions.may_see_applications(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only(*STAFF, *EMPLOYEES))
def test_the_api_is_the_persons_and_the_agencys(role, expected):
    """Employer HR and tokens, jobs and the public are refused (403), told why."""
    assert permissions.may_use_departures(ACTORS[role]) is expected
    if expected:
        permissions.require_use_departures(ACTORS[role])
    else:
        with pytest.raises(Forbidden, match="departures are the person's and the agency's"):
            permissions.require_use_departures(ACTORS[role])


@pytest.mark.parametrize(("role", "expected"), only(*EMPLOYEES))
def test_a_person_declares_their_own_departure(role, expected):
    assert permissions.declares_own_departure(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only(*EMPLOYEES))
def test_a_person_opens_a_departure_only_by_declaring_it(role, expected):
    actor = ACTORS[role]
    assert permissions.may_open_departure_on(actor, Trigger.DECLARED)
    assert permissions.may_open_departure_on(actor, Trigger.CARD_DEREGISTERED) is not expected
    if expected:
        with pytest.raises(Forbidden, match="a person declares their departure"):
            permissions.require_open_departure_on(actor, Trigger.EXIT_RECORDED)


@pytest.mark.parametrize(("role", "expected"), only(*STAFF))
def test_staff_reads_are_audited(role, expected):
    assert permissions.reads_are_audited(ACTORS[role]) is expected


REGIONS_SEEN = {
    "agency_all": {BEIJING, SHANGHAI},
    "agency_region": {BEIJING},
    "agency_other_region": {SHANGHAI},
    "system": {BEIJING, SHANGHAI},
}
CASES_SEEN = {
    "agency_all": {"person", "other_person"},
    "agency_region": {"person"},
    "agency_other_region": {"other_person"},
    "employee_self": {"person"},
    "employee_other": {"other_person"},
    "system": {"person", "other_person"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_which_departures_and_regions_each_role_sees(role):
    world = make_world()
    for person, region in ((world.person, BEIJING), (world.other_person, SHANGHAI)):
        DepartureCase.objects.create(
            person=person,
            region_code=region,
            trigger=Trigger.DECLARED,
            departure_date=date(2026, 1, 31),
            opened_by="test",
        )
    actor = roles(world.tenants)[role]
    seen = {world.name(c.person_id) for c in selectors.cases_visible(actor)}
    assert seen == CASES_SEEN.get(role, set())
    scope = permissions.region_scope(actor)
    rows = DepartureCase.objects.all() if scope is None else DepartureCase.objects.filter(scope)
    assert {c.region_code for c in rows} == REGIONS_SEEN.get(role, set())


# --- death and inheritance -------------------------------------------------------------------------

HR_ANY = ("hr", "hr_token", "hr_other")


@pytest.mark.parametrize(("role", "expected"), only(*STAFF, *HR_ANY))
def test_deaths_are_reported_by_hr_and_agency_staff(role, expected):
    """The person, other employees, jobs and the public are refused (403), told why; which
    person HR may report is the service's question (employed on the date of death)."""
    assert permissions.may_use_deaths(ACTORS[role]) is expected
    if not expected:
        with pytest.raises(Forbidden, match="reported by the employer or at the agency"):
            permissions.require_use_deaths(ACTORS[role])


@pytest.mark.parametrize(("role", "expected"), only(*STAFF))
def test_evidence_balance_and_claims_are_the_agencys(role, expected):
    assert permissions.may_examine_deaths(ACTORS[role]) is expected


@pytest.mark.parametrize(
    ("role", "expected"), only("agency_all", "agency_region", "hr", "hr_token", "hr_other")
)
def test_who_may_report_in_beijing(role, expected):
    assert (
        permissions.death_allowed(ACTORS[role], permissions.DeathAct.REPORT, region_code=BEIJING)
        is expected
    )


@pytest.mark.parametrize(("role", "expected"), only("agency_all", "agency_region"))
def test_who_decides_the_shares_in_beijing(role, expected):
    actor = ACTORS[role]
    for act in (permissions.DeathAct.CLAIM, permissions.DeathAct.DECIDE):
        assert permissions.death_allowed(actor, act, region_code=BEIJING) is expected


@pytest.mark.parametrize("role", ["hr", "hr_token", "hr_other"])
def test_hr_reports_are_the_employers(role):
    assert permissions.reporter_of(ACTORS[role], "family") == "employer"
    assert permissions.reporter_of(ACTORS["agency_all"], "family") == "family"
