"""``POST /employees`` answers a late hire's warnings like ``POST /registrations/hire`` does."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import API, World, hire_payload, today


def test_a_late_hire_via_employees_carries_its_warning(world: World) -> None:
    issued = today() - timedelta(days=60)
    body = hire_payload(
        world.a.pk,
        permit_issued_on=issued.isoformat(),
        residence_permit_issued_on=issued.isoformat(),
        start_date=issued.isoformat(),
    )
    r = world.client("hr_a").post(f"{API}/employees", body, content_type="application/json")
    assert r.status_code == 201, r.content
    (w,) = r.json()["warnings"]
    assert w["code"] == "late_registration"
    assert w["overdue_days"] >= 30 - 1  # deadline 30 days after issue, later if a holiday ends it
    assert w["months_owed"] >= 2
    assert float(w["owed_amount"]) > 0 and "late_fee_exposure" in w
    assert "Art. 86" in w["basis"]


def test_an_on_time_hire_via_employees_has_no_warning(world: World) -> None:
    r = world.client("hr_a").post(
        f"{API}/employees", hire_payload(world.a.pk), content_type="application/json"
    )
    assert r.status_code == 201, r.content
    assert r.json()["warnings"] == []
