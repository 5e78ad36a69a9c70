"""Who sees a passport number whole (people/permissions.py), over every kind of actor: the rule as
its docstring states it, one row per role. How the API and the portal apply it is in
tests/api/test_passport_masking.py."""

from __future__ import annotations

import pytest

from expatsi.access.actors import PUBLIC, SYSTEM, Actor
from expatsi.people.models import Passport
from expatsi.people.permissions import may_see_full_passport, passport_number_for

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
