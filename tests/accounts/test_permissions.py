"""accounts/permissions.py: a second factor is changed by its own user, or by the system (the
administrator's ``expatsi access reset-2fa``) — never by anyone else from a web session."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from expatsi.accounts.permissions import may_manage_second_factor
from tests.roles import Tenants, only, roles

ACTORS = roles(Tenants(employer_id=11, other_employer_id=12, person_id=21, other_person_id=22))


@pytest.mark.parametrize(("role", "expected"), only("hr", "system"))
def test_ones_own_second_factor_only(role, expected):
    user = SimpleNamespace(pk=ACTORS["hr"].user_id)  # the HR user's own account
    assert may_manage_second_factor(ACTORS[role], user) is expected
