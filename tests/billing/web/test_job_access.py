"""A billing job is shown only if it exists and the caller may see its region: an unknown key, or a
job of another region, is a 404 on the page, on its JSON poll and in the API, never "queued"."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from tests.billing.web.conftest import API, post_json


def _paths(key: str) -> list[str]:
    return [
        reverse("billing:job", args=[key]),
        reverse("billing:job_status", args=[key]),
        f"{API}/jobs/{key}",
    ]


@pytest.mark.parametrize("key", [uuid.uuid4().hex, "nonsense", "0" * 32])
def test_an_unknown_job_key_is_404_everywhere(bworld, key) -> None:
    agency = bworld.client("agency")
    for path in _paths(key):
        r = agency.get(path)
        assert r.status_code == 404, (path, r.status_code, r.content[:200])
        assert b"queued" not in r.content and b"Waiting for a worker" not in r.content


def test_a_job_of_another_region_is_404_and_its_own_region_sees_it_queued(bworld) -> None:
    r = post_json(
        bworld.client("agency"), f"{API}/runs", {"region_code": "110000", "month": "2025-09"}
    )
    assert r.status_code == 202, r.content
    key = r.json()["job"]
    assert r.json()["status"] == "queued"  # no worker in this test
    for path in _paths(key):
        assert bworld.client("agency").get(path).status_code == 200, path
        assert bworld.client("agency_sh").get(path).status_code == 404, path
    assert bworld.client("agency").get(f"{API}/jobs/{key}").json()["status"] == "queued"
    for role in ("hr_a", "bravo"):
        assert bworld.client(role).get(f"{API}/jobs/{key}").status_code == 404
