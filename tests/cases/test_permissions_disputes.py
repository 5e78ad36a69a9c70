"""cases/permissions.py, the disputes and complaints part: each question over every role
(tests/roles.py). The pages, the API and the services ask these questions; none writes its own."""

from __future__ import annotations

import pytest

from expatsi.access.actors import Actor
from expatsi.cases import permissions
from expatsi.rules.errors import Forbidden
from tests.roles import BEIJING, ROLES, SHANGHAI, Tenants, only, roles

T = Tenants(employer_id=11, other_employer_id=12, person_id=21, other_person_id=22)
ACTORS = roles(T)
# A signed-in user with an account but no role (the public with a login).
ACTORS_WITH_USER = {**ACTORS, "public": Actor("public", 908, "visitor")}


@pytest.mark.parametrize(
    ("role", "expected"),
    only("agency_all", "agency_region", "agency_other_region", "system", "hr", "hr_token",
         "hr_other", "employee_self", "employee_other"),
)  # fmt: skip
def test_who_sees_the_disputes_list(role: str, expected: bool) -> None:
    assert permissions.may_see_disputes(ACTORS[role]) is expected
    if not expected:
        with pytest.raises(Forbidden):
            permissions.require_see_disputes(ACTORS[role])


@pytest.mark.parametrize(
    ("role", "expected"),
    only("agency_all", "agency_region", "system", "hr", "hr_token", "employee_self"),
)
def test_the_parties_and_staff_of_the_region_act_on_a_dispute(role: str, expected: bool) -> None:
    assert (
        permissions.is_party_or_staff(
            ACTORS[role], region_code=BEIJING, employer_id=T.employer_id, person_id=T.person_id
        )
        is expected
    )


@pytest.mark.parametrize(("role", "expected"), only("agency_all", "agency_region", "system"))
def test_only_staff_of_the_region_decide_correct_and_close(role: str, expected: bool) -> None:
    assert permissions.may_decide_dispute(ACTORS[role], BEIJING) is expected


DISPUTE_SCOPE = {
    "agency_all": None,
    "system": None,
    "agency_region": "region_code__in",
    "agency_other_region": "region_code__in",
    "hr": "employer_id__in",
    "hr_token": "employer_id__in",
    "hr_other": "employer_id__in",
    "employee_self": "person_id",
    "employee_other": "person_id",
    "public": "pk__in",
}


@pytest.mark.parametrize("role", ROLES)
def test_which_disputes_each_role_sees(role: str) -> None:
    scope = permissions.dispute_scope(ACTORS[role])
    expected = DISPUTE_SCOPE[role]
    if expected is None:
        assert scope is None
        return
    assert scope is not None
    (key, value), *_ = scope.children  # type: ignore[misc]
    assert key == expected
    wanted = {
        "agency_region": {BEIJING},
        "agency_other_region": {SHANGHAI},
        "hr": {T.employer_id},
        "hr_token": {T.employer_id},
        "hr_other": {T.other_employer_id},
        "employee_self": T.person_id,
        "employee_other": T.other_person_id,
        "public": set(),
    }[role]
    assert (set(value) if isinstance(wanted, set) else value) == wanted


@pytest.mark.parametrize(
    ("role", "expected"),
    only("agency_all", "agency_region", "agency_other_region", "system", "hr", "hr_other",
         "employee_self", "employee_other", "public"),
)  # fmt: skip
def test_who_uses_the_complaints_pages(role: str, expected: bool) -> None:
    """Anyone with an account (the token has no one to answer; the public here has a login)."""
    assert permissions.may_use_complaints(ACTORS_WITH_USER[role]) is expected


def test_an_anonymous_visitor_cannot_file_or_follow_a_complaint() -> None:
    assert not permissions.may_use_complaints(ACTORS["public"])
    assert not permissions.may_file_report(ACTORS["public"])
    with pytest.raises(Forbidden):
        permissions.require_use_complaints(ACTORS["public"])


@pytest.mark.parametrize(("role", "expected"), only("employee_self", "employee_other"))
def test_only_a_foreign_employee_asks_the_agency_to_intervene(role: str, expected: bool) -> None:
    assert permissions.may_request_intervention(ACTORS[role]) is expected


@pytest.mark.parametrize(
    ("role", "expected"),
    only("agency_all", "agency_region", "agency_other_region", "hr", "hr_other",
         "employee_self", "employee_other", "public"),
)  # fmt: skip
def test_anyone_with_an_account_reports_an_employer(role: str, expected: bool) -> None:
    assert permissions.may_file_report(ACTORS_WITH_USER[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only("agency_all", "agency_region", "system"))
def test_only_staff_of_the_region_answer_complaints(role: str, expected: bool) -> None:
    assert permissions.may_answer_complaint(ACTORS[role], BEIJING) is expected


COMPLAINT_SCOPE = {
    "agency_all": None,
    "system": None,
    "agency_region": ("region_code__in", {BEIJING}),
    "agency_other_region": ("region_code__in", {SHANGHAI}),
    "hr": ("submitted_by_id", 904),
    "hr_token": ("pk__in", set()),  # a token is nobody: it filed nothing
    "hr_other": ("submitted_by_id", 905),
    "employee_self": ("submitted_by_id", 906),
    "employee_other": ("submitted_by_id", 907),
    "public": ("pk__in", set()),
}


@pytest.mark.parametrize("role", ROLES)
def test_which_complaints_each_role_sees(role: str) -> None:
    """Staff: their regions; anyone else only what they filed themself — never the employer
    complained about."""
    scope = permissions.complaint_scope(ACTORS[role])
    expected = COMPLAINT_SCOPE[role]
    if expected is None:
        assert scope is None
        return
    assert scope is not None
    (key, value), *_ = scope.children  # type: ignore[misc]
    assert key == expected[0]
    assert (set(value) if isinstance(expected[1], set) else value) == expected[1]
