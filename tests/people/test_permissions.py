"""people/permissions.py over every kind of actor: who sees a passport number whole (the rule as
its docstring states it, one row per role; how the API and the portal apply it is in
tests/api/test_passport_masking.py), who registers people, who imports entry/exit records, whose
own record. Which people an actor sees at all is insurance's question
(tests/insurance/test_permissions.py)."""

from __future__ import annotations

import pytest

from expatsi.access.actors import PUBLIC, SYSTEM, Actor
from expatsi.people import permissions
from expatsi.people.models import Passport
from expatsi.people.permissions import may_see_full_passport, passport_number_for
from expatsi.rules.errors import Forbidden
from tests.roles import ROLES, Tenants, only, roles

HOLDER_ID = 7
AGENCY = Actor("agency", 1, "officer", regions=None)
AGENCY_SH = Actor("agency", 2, "officer-sh", regions=frozenset({"310000"}))
HR = Actor("hr", 3, "hr", employer_ids=frozenset({11}))
TOKEN = Actor("hr", None, "token ab12cd34 (payroll)", employer_ids=frozenset({11}), via="token")
HOLDER = Actor("employee", 4, "holder", person_id=HOLDER_ID)
OTHER_EMPLOYEE = Actor("employee", 5, "other", person_id=HOLDER_ID + 1)
EMPLOYEE_WITHOUT_RECORD = Actor("employee", 6, "nobody", person_id=None)

# (actor, sees the current passport whole, sees an earlier passport whole)
MATRIX = [
    pytest.param(SYSTEM, True, True, id="system"),
    pytest.param(AGENCY, True, True, id="agency"),
    pytest.param(AGENCY_SH, True, True, id="agency of one region"),
    pytest.param(HR, True, False, id="hr"),
    pytest.param(TOKEN, True, False, id="api token"),
    pytest.param(HOLDER, True, True, id="the holder"),
    pytest.param(OTHER_EMPLOYEE, False, False, id="another employee"),
    pytest.param(EMPLOYEE_WITHOUT_RECORD, False, False, id="employee without a record"),
    pytest.param(PUBLIC, False, False, id="public"),
]


def passport(number: str, *, current: bool) -> Passport:
    return Passport(person_id=HOLDER_ID, country="DEU", number=number, is_current=current)


@pytest.mark.parametrize(("actor", "current", "earlier"), MATRIX)
def test_who_sees_a_passport_number_whole(actor: Actor, current: bool, earlier: bool) -> None:
    assert may_see_full_passport(actor, HOLDER_ID, current=True) is current
    assert may_see_full_passport(actor, HOLDER_ID, current=False) is earlier
    shown_current = passport_number_for(actor, passport("C4J8LM2N1", current=True))
    shown_earlier = passport_number_for(actor, passport("C01X00T47", current=False))
    assert shown_current == ("C4J8LM2N1" if current else "****M2N1")
    assert shown_earlier == ("C01X00T47" if earlier else "****0T47")


def test_an_unknown_kind_of_actor_sees_the_masked_number() -> None:
    stranger = Actor("visitor", None, "?")  # type: ignore[arg-type]
    assert passport_number_for(stranger, passport("C4J8LM2N1", current=True)) == "****M2N1"


# --- over the roles of tests/roles.py ------------------------------------------------------------

ACTORS = roles(Tenants(employer_id=11, other_employer_id=12, person_id=21, other_person_id=22))
ALL_AGENCY = ("agency_all", "agency_region", "agency_other_region", "system")
ALL_HR = ("hr", "hr_token", "hr_other")


@pytest.mark.parametrize(("role", "expected"), only(*ALL_AGENCY, *ALL_HR))
def test_people_are_registered_by_agency_staff_and_hr(role: str, expected: bool) -> None:
    """A new person, a new passport, a document: never by the foreign employee themself."""
    actor = ACTORS[role]
    assert permissions.may_register_people(actor) is expected
    if not expected:
        with pytest.raises(Forbidden):
            permissions.require_register_people(actor)


@pytest.mark.parametrize(("role", "expected"), only(*ALL_AGENCY))
def test_the_entry_exit_import_is_the_agencys(role: str, expected: bool) -> None:
    assert permissions.may_import_entry_exit(ACTORS[role]) is expected


@pytest.mark.parametrize("role", ROLES)
def test_whose_own_record(role: str) -> None:
    own = {"employee_self": 21, "employee_other": 22}.get(role)
    assert permissions.own_person_id(ACTORS[role]) == own
    assert permissions.own_person_id(EMPLOYEE_WITHOUT_RECORD) is None
