"""cards/permissions.py: each question over every role (tests/roles.py).

The card page and the services ask the same questions (the page used to copy the filing rule):
what the page offers is what the service accepts."""

from __future__ import annotations

from datetime import date

import pytest

from expatsi.cards import permissions, selectors
from expatsi.cards.models import Card
from expatsi.employers.models import Employer
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

ACTORS = roles(Tenants(employer_id=11, other_employer_id=12, person_id=21, other_person_id=22))
AGENCY = ("agency_all", "agency_region", "agency_other_region", "system")
ALL_HR = ("hr", "hr_token", "hr_other")


def card(*, dissolved: bool = False) -> Card:
    """The person's card with the employer (not saved: the questions read only its fields)."""
    employer = Employer(
        pk=11, region_code=BEIJING, dissolved_on=date(2026, 1, 31) if dissolved else None
    )
    return Card(pk=41, person_id=21, employer=employer)


@pytest.mark.parametrize(
    ("role", "expected"), only(*AGENCY, *ALL_HR, "employee_self", "employee_other")
)
def test_card_pages_are_for_anyone_with_a_role(role, expected):
    assert permissions.may_list_cards(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only("employee_self"))
def test_the_holder(role, expected):
    assert permissions.is_holder(ACTORS[role], card()) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION, *EMPLOYER_HR))
def test_first_applications_are_filed_by_the_employers_hr_or_region_staff(role, expected):
    employer = card().employer
    assert permissions.may_apply(ACTORS[role], employer) is expected
    if not expected:
        with pytest.raises(NotFound):
            permissions.require_apply(ACTORS[role], employer)


FILED_AS = {
    "agency_all": "agency",
    "agency_region": "agency",
    "system": "agency",
    "hr": "employer",
    "hr_token": "employer",
}


@pytest.mark.parametrize("role", ROLES)
def test_who_files_for_a_card_while_the_employer_exists(role):
    actor, the_card = ACTORS[role], card()
    assert permissions.filing_role(actor, the_card) == FILED_AS.get(role)
    assert permissions.may_file(actor, the_card) is (role in FILED_AS)
    if role in FILED_AS:
        assert permissions.require_filing_role(actor, the_card) == FILED_AS[role]
    elif role == "employee_self":
        with pytest.raises(Forbidden) as refused:  # told why: the employer files
            permissions.require_filing_role(actor, the_card)
        assert refused.value.code == "employer_files"
    else:
        with pytest.raises(NotFound):
            permissions.require_filing_role(actor, the_card)


@pytest.mark.parametrize("role", ROLES)
def test_the_holder_files_once_the_employer_is_gone(role):
    expected = {**FILED_AS, "employee_self": "foreigner"}.get(role)
    assert permissions.filing_role(ACTORS[role], card(dissolved=True)) == expected


@pytest.mark.parametrize("dissolved", [False, True])
@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION, *EMPLOYER_HR))
def test_the_photo_is_provided_by_the_employer_or_the_agency_never_the_holder(
    role, expected, dissolved
):
    actor, the_card = ACTORS[role], card(dissolved=dissolved)
    assert permissions.may_set_photo(actor, the_card) is expected
    if expected:
        permissions.require_set_photo(actor, the_card)
    elif role == "employee_self":
        with pytest.raises(Forbidden) as refused:
            permissions.require_set_photo(actor, the_card)
        assert refused.value.code == "employer_files"
    else:
        with pytest.raises(NotFound):
            permissions.require_set_photo(actor, the_card)


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY))
def test_the_decision_queue_is_the_agencys(role, expected):
    assert permissions.may_decide_applications(ACTORS[role]) is expected


@pytest.mark.parametrize(
    ("role", "refusal"),
    [
        ("agency_all", None),
        ("agency_region", None),
        ("system", None),
        ("agency_other_region", NotFound),
        ("hr", Forbidden),  # HR and employees are told that only the agency decides
        ("hr_token", Forbidden),
        ("hr_other", Forbidden),
        ("employee_self", Forbidden),
        ("employee_other", Forbidden),
        ("public", NotFound),
    ],
)
def test_applications_are_decided_by_agency_staff_of_the_region(role, refusal):
    actor, the_card = ACTORS[role], card()
    assert permissions.may_decide(actor, the_card) is (refusal is None)
    if refusal is None:
        permissions.require_decide(actor, the_card, 51)
    else:
        with pytest.raises(refusal):
            permissions.require_decide(actor, the_card, 51)


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY))
def test_older_permits_are_imported_by_agency_staff(role, expected):
    assert permissions.may_import_legacy_permits(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only(*AGENCY_OF_REGION))
def test_an_older_permit_is_imported_by_staff_of_the_employers_region(role, expected):
    assert permissions.may_import_legacy_permit(ACTORS[role], card().employer) is expected


# Each person of the world holds the card their hire rests on (put on file through the card
# steps, each with its first-entry application); the leaver's card, with the employer it was
# issued for, is the employer's as the person's is.
SEES_CARDS = {
    "agency_all": {"person", "other_person", "leaver"},
    "agency_region": {"person", "leaver"},
    "agency_other_region": {"other_person"},
    "hr": {"person", "leaver"},
    "hr_token": {"person", "leaver"},
    "hr_other": {"other_person"},
    "employee_self": {"person"},
    "employee_other": {"other_person"},
    "system": {"person", "other_person", "leaver"},
    "public": set(),
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_which_cards_and_applications_each_role_sees(role):
    world = make_world()
    actor = roles(world.tenants)[role]
    assert {world.name(c.person_id) for c in selectors.cards_visible(actor)} == SEES_CARDS[role]
    applications = selectors.applications_visible(actor)
    assert {world.name(a.card.person_id) for a in applications} == SEES_CARDS[role]
