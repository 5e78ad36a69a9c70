"""Passport numbers are shown whole or masked by role (expatsi/people/permissions.py), in the API
and in the portal: agency whole, the holder whole, HR whole only for the current passport."""

from __future__ import annotations

import pytest

from expatsi.access.actors import PUBLIC, SYSTEM, Actor
from expatsi.access.crypto import masked
from expatsi.people.models import Passport
from expatsi.people.permissions import may_see_full_passport, passport_number_for
from expatsi.people.services import passport_replace
from tests.api.conftest import API, World

pytestmark = pytest.mark.django_db

OLD = "C01X00T47"  # pa's passport in the API tests' world
NEW = "C4J8LM2N1"


@pytest.fixture
def renewed(world: World) -> World:
    """``pa`` has renewed her passport: the old one stays on file as history."""
    passport_replace(actor=SYSTEM, person=world.pa, country="DEU", number=NEW)
    return world


def test_masked_shows_at_most_the_last_four_and_never_the_length() -> None:
    assert masked(OLD) == "****0T47"
    assert masked("AB12345678901234567Z") == "****567Z"
    assert masked("AB123") == "****23"  # never more than half
    assert masked("") == "****"


@pytest.mark.parametrize(
    ("role", "current", "earlier"),
    [
        ("agency", NEW, OLD),
        ("self", NEW, OLD),
        ("hr_a", NEW, "****0T47"),
        ("token_a", NEW, "****0T47"),
    ],
)
def test_the_record_in_the_api(renewed: World, role: str, current: str, earlier: str) -> None:
    path = f"{API}/employees/me" if role == "self" else f"{API}/employees/{renewed.pa.pk}"
    r = renewed.client(role).get(path)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["passport_number"] == current
    assert [(p["number"], p["is_current"]) for p in body["passports"]] == [
        (current, True),
        (earlier, False),
    ]
    if earlier != OLD:
        assert OLD not in r.content.decode()


@pytest.mark.parametrize("role", ["agency", "hr_a", "token_a"])
def test_the_list_shows_the_current_passport_to_hr_and_agency(renewed: World, role: str) -> None:
    r = renewed.client(role).get(f"{API}/employees", {"q": OLD})  # an earlier number still finds
    assert r.status_code == 200
    [item] = r.json()["items"]
    assert item["id"] == renewed.pa.pk and item["passport_number"] == NEW


@pytest.mark.parametrize(("role", "shows_old"), [("agency", True), ("hr_a", False), ("self", True)])
def test_the_record_page_in_the_portal(renewed: World, role: str, shows_old: bool) -> None:
    path = "/me/" if role == "self" else f"/people/{renewed.pa.pk}/"
    r = renewed.client(role).get(path)
    assert r.status_code == 200
    html = r.content.decode()
    assert NEW in html
    assert (OLD in html) is shows_old
    assert ("****0T47" in html) is not shows_old


def test_the_rule_for_every_kind_of_actor(renewed: World) -> None:
    old = Passport.objects.get(person=renewed.pa, is_current=False)
    current = Passport.objects.get(person=renewed.pa, is_current=True)
    hr = Actor("hr", None, "hr", employer_ids=frozenset({renewed.a.pk}))
    holder = Actor("employee", None, "pa", person_id=renewed.pa.pk)
    someone_else = Actor("employee", None, "pb", person_id=renewed.pb.pk)
    assert may_see_full_passport(SYSTEM, renewed.pa.pk, current=False)
    assert may_see_full_passport(holder, renewed.pa.pk, current=False)
    assert not may_see_full_passport(someone_else, renewed.pa.pk, current=True)
    assert may_see_full_passport(hr, renewed.pa.pk, current=True)
    assert not may_see_full_passport(hr, renewed.pa.pk, current=False)
    assert passport_number_for(PUBLIC, current) == "****M2N1"
    assert passport_number_for(hr, old) == "****0T47"
    assert passport_number_for(hr, current) == NEW
