"""cases/permissions.py: each question over every role (tests/roles.py).

The pages, the API, the services and the selectors ask these questions; none writes its own."""

from __future__ import annotations

from datetime import date

import pytest

from expatsi.cases import permissions, selectors
from expatsi.cases.models import Case, CaseStatus, Scan
from expatsi.rules.errors import Forbidden
from tests.roles import BEIJING, ROLES, SHANGHAI, Tenants, make_world, only, roles

ACTORS = roles(Tenants(employer_id=11, other_employer_id=12, person_id=21, other_person_id=22))
AGENCY = ("agency_all", "agency_region", "agency_other_region", "system")
ALL_HR = ("hr", "hr_token", "hr_other")


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY))
def test_staff_and_jobs(role, expected):
    assert permissions.is_staff(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY, *ALL_HR))
def test_the_list_of_cases_is_for_staff_and_employer_hr(role, expected):
    assert permissions.may_list_cases(ACTORS[role]) is expected
    if expected:
        permissions.require_list_cases(ACTORS[role])
    else:
        with pytest.raises(Forbidden, match="only agency staff and employer HR see cases"):
            permissions.require_list_cases(ACTORS[role])


@pytest.mark.parametrize(
    ("role", "expected"), only("agency_all", "agency_region", "agency_other_region", *ALL_HR)
)
def test_the_menu_offers_the_cases_to_signed_in_staff_and_hr(role, expected):
    assert permissions.may_see_orders(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only("agency_all", "agency_region", "system"))
def test_who_may_scan_a_region(role, expected):
    assert permissions.may_scan_region(ACTORS[role], BEIJING) is expected


SCAN_REGIONS = {"agency_region": (BEIJING,), "agency_other_region": (SHANGHAI,)}


@pytest.mark.parametrize("role", list(AGENCY))
def test_a_scan_over_every_region_covers_the_actors_regions(role):
    assert permissions.regions_to_scan(ACTORS[role]) == SCAN_REGIONS.get(role)


REGIONS_SEEN = {
    "agency_all": {BEIJING, SHANGHAI},
    "agency_region": {BEIJING},
    "agency_other_region": {SHANGHAI},
    "system": {BEIJING, SHANGHAI},
}
CASES_SEEN = {
    **{
        role: {"open", "ordered", "other_open", "other_ordered"}
        for role in ("agency_all", "system")
    },
    "agency_region": {"open", "ordered"},
    "agency_other_region": {"other_open", "other_ordered"},
    "hr": {"ordered"},  # never a case still open: HR learn of it with the order
    "hr_token": {"ordered"},
    "hr_other": {"other_ordered"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_which_cases_and_scans_each_role_sees(role):
    world = make_world()
    names = {}
    for prefix, employer in (("", world.employer), ("other_", world.other_employer)):
        Scan.objects.create(as_of=date(2026, 1, 31), region_code=employer.region_code)
        for status in (CaseStatus.OPEN, CaseStatus.ORDERED):
            case = Case.objects.create(
                number=f"T-{employer.pk}-{status}",
                region_code=employer.region_code,
                employer=employer,
                status=status,
                opened_by="test",
            )
            names[case.pk] = f"{prefix}{status}"
    actor = roles(world.tenants)[role]
    assert {names[c.pk] for c in selectors.cases_visible(actor)} == CASES_SEEN.get(role, set())
    assert {s.region_code for s in selectors.scans_visible(actor)} == REGIONS_SEEN.get(role, set())
