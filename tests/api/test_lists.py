"""Pagination on the lists, and the registration filters by status and deadline status."""

from __future__ import annotations

from datetime import timedelta

import pytest

from expatsi.insurance.models import Registration
from expatsi.insurance.selectors import registration_deadline_status
from tests.api.conftest import API, World, hire_payload, today


def test_limit_and_offset(world: World) -> None:
    agency = world.client("agency")
    page1 = agency.get(f"{API}/employees", {"limit": 2}).json()
    page2 = agency.get(f"{API}/employees", {"limit": 2, "offset": 2}).json()
    assert page1["count"] == page2["count"] == 3
    assert len(page1["items"]) == 2
    assert len(page2["items"]) == 1
    assert {p["id"] for p in page1["items"]}.isdisjoint({p["id"] for p in page2["items"]})


@pytest.fixture
def spread(world: World) -> dict[str, int]:
    """One registration in every deadline state, by moving deadlines and deciding some."""
    hr = world.client("hr_a")
    ids = []
    for _ in range(5):
        r = hr.post(
            f"{API}/registrations/hire", hire_payload(world.a.pk), content_type="application/json"
        )
        assert r.status_code == 201
        ids.append(r.json()["id"])
    t = today()
    overdue, due_soon, on_time, late, in_time = ids
    Registration.objects.filter(pk=overdue).update(deadline=t - timedelta(days=1))
    Registration.objects.filter(pk=due_soon).update(deadline=t + timedelta(days=7))
    Registration.objects.filter(pk=on_time).update(deadline=t + timedelta(days=8))
    Registration.objects.filter(pk=late).update(deadline=t - timedelta(days=3))
    Registration.objects.filter(pk=in_time).update(deadline=t)
    agency = world.client("agency")
    for pk in (late, in_time):
        assert (
            agency.post(
                f"{API}/registrations/{pk}/accept", {}, content_type="application/json"
            ).status_code
            == 200
        )
    Registration.objects.filter(pk=world.ra.pk).update(status="rejected")
    return {
        "overdue": overdue,
        "due_soon": due_soon,
        "on_time": on_time,
        "registered_late": late,
        "registered_on_time": in_time,
        "rejected": world.ra.pk,
    }


@pytest.mark.parametrize(
    "status",
    ["overdue", "due_soon", "on_time", "registered_late", "registered_on_time", "rejected"],
)
def test_deadline_status_filter_agrees_with_the_rule(
    world: World, spread: dict[str, int], status: str
) -> None:
    items = (
        world.client("hr_a")
        .get(f"{API}/registrations", {"deadline_status": status})
        .json()["items"]
    )
    assert spread[status] in {i["id"] for i in items}
    for item in items:
        assert item["deadline_status"]["status"] == status
        reg = Registration.objects.get(pk=item["id"])
        assert registration_deadline_status(reg, today()).status == status


def test_registered_late_says_how_late(world: World, spread: dict[str, int]) -> None:
    item = world.client("hr_a").get(f"{API}/registrations/{spread['registered_late']}").json()
    assert item["deadline_status"] == {
        "status": "registered_late",
        "days_left": None,
        "days_late": 3,
    }


def test_status_filter(world: World, spread: dict[str, int]) -> None:
    items = (
        world.client("agency").get(f"{API}/registrations", {"status": "accepted"}).json()["items"]
    )
    assert {i["id"] for i in items} == {spread["registered_late"], spread["registered_on_time"]}
