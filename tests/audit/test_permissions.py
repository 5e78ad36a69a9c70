"""audit/permissions.py: who reads the audit trail, over every role (tests/roles.py)."""

from __future__ import annotations

import pytest

from expatsi.audit import permissions
from tests.roles import Tenants, only, roles

ACTORS = roles(Tenants(employer_id=11, other_employer_id=12, person_id=21, other_person_id=22))


@pytest.mark.parametrize(
    ("role", "expected"), only("agency_all", "agency_region", "agency_other_region", "system")
)
def test_the_audit_trail_is_read_by_agency_staff_only(role, expected):
    assert permissions.may_read_audit_trail(ACTORS[role]) is expected


@pytest.mark.parametrize(("role", "expected"), only("agency_all", "system"))
def test_all_of_it_unscoped_by_staff_of_every_region(role, expected):
    assert permissions.reads_whole_audit_trail(ACTORS[role]) is expected
