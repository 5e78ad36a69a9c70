"""An overseas employer's country without the company is refused on ``seconded_by`` (it used to be
dropped silently)."""

from __future__ import annotations

from tests.api.conftest import API, World, hire_payload


def test_a_country_without_the_overseas_company_is_refused(world: World) -> None:
    body = hire_payload(world.a.pk, seconded_by_country="DEU")
    r = world.client("hr_a").post(
        f"{API}/registrations/hire", body, content_type="application/json"
    )
    assert r.status_code == 400, r.content
    assert r.json()["field"] == "seconded_by"


def test_an_overseas_assignment_is_kept(world: World) -> None:
    body = hire_payload(world.a.pk, seconded_by="Rhine Precision GmbH", seconded_by_country="deu")
    r = world.client("hr_a").post(
        f"{API}/registrations/hire", body, content_type="application/json"
    )
    assert r.status_code == 201, r.content
