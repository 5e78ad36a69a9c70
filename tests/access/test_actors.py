"""Who is acting (access/actors.py): one user is one kind of actor, chosen in a fixed order (agency
before HR before employee), and only what the user's rows say: an ended HR membership gives no HR
rights, an officer's regions are exactly those on file."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from expatsi.access.actors import PUBLIC, SYSTEM, Actor, actor_for_token, actor_for_user
from tests.factories import (
    AgencyStaffFactory,
    EmployerFactory,
    HrMembershipFactory,
    PersonFactory,
    UserFactory,
)


@pytest.mark.django_db
def test_anonymous_and_users_without_a_role_are_the_public() -> None:
    anonymous = actor_for_user(AnonymousUser(), ip="203.0.113.9")
    assert (anonymous.kind, anonymous.user_id, anonymous.ip) == ("public", None, "203.0.113.9")
    assert actor_for_user(None).kind == "public"
    user = UserFactory(username="nobody")
    assert (actor_for_user(user).kind, actor_for_user(user).label) == ("public", "nobody")


@pytest.mark.django_db
def test_an_officers_regions_are_those_on_file_and_none_means_all() -> None:
    everywhere = actor_for_user(AgencyStaffFactory(regions="").user)
    assert everywhere.kind == "agency" and everywhere.regions is None
    assert everywhere.covers_region("110000") and everywhere.covers_region("310000")
    shanghai = actor_for_user(AgencyStaffFactory(regions=" 310000, ,320000").user)
    assert shanghai.regions == frozenset({"310000", "320000"})
    assert shanghai.covers_region("310000") and not shanghai.covers_region("110000")


@pytest.mark.django_db
def test_a_superuser_is_agency_staff_of_every_region() -> None:
    root = UserFactory(is_superuser=True)
    actor = actor_for_user(root)
    assert actor.kind == "agency" and actor.regions is None and actor.is_agency


@pytest.mark.django_db
def test_hr_acts_for_the_employers_of_active_memberships_only() -> None:
    a, b = EmployerFactory(), EmployerFactory()
    membership = HrMembershipFactory(employer=a)
    HrMembershipFactory(user=membership.user, employer=b, active=False)
    actor = actor_for_user(membership.user, via="api")
    assert (actor.kind, actor.employer_ids, actor.via) == ("hr", frozenset({a.pk}), "api")
    assert not actor.covers_region(a.region_code) and not actor.is_agency


@pytest.mark.django_db
def test_an_ended_membership_leaves_an_employee_an_employee() -> None:
    membership = HrMembershipFactory(active=False)
    person = PersonFactory(user=membership.user)
    actor = actor_for_user(membership.user)
    assert (actor.kind, actor.person_id, actor.employer_ids) == ("employee", person.pk, frozenset())


@pytest.mark.django_db
def test_agency_comes_before_hr_and_hr_before_employee() -> None:
    membership = HrMembershipFactory()
    PersonFactory(user=membership.user)
    assert actor_for_user(membership.user).kind == "hr"
    AgencyStaffFactory(user=membership.user, regions="110000")
    membership.user.refresh_from_db()
    assert actor_for_user(membership.user).kind == "agency"


def test_an_api_token_acts_as_hr_of_its_one_employer() -> None:
    token = type("Token", (), {"prefix": "ab12cd34", "name": "payroll", "employer_id": 7})()
    actor = actor_for_token(token, ip="198.51.100.7")
    assert (actor.kind, actor.user_id, actor.employer_ids) == ("hr", None, frozenset({7}))
    assert actor.via == "token" and actor.label == "token ab12cd34 (payroll)"


def test_only_the_system_and_agency_staff_cover_regions() -> None:
    assert SYSTEM.covers_region("110000") and SYSTEM.is_agency
    assert not PUBLIC.covers_region("110000") and not PUBLIC.is_agency
    employee = Actor("employee", 1, "e", person_id=3)
    assert not employee.covers_region("110000")
