"""Regression tests for the leaks the route-isolation test found, each on its own."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.billing.web.conftest import BillingWorld

pytestmark = pytest.mark.django_db

# Charlie works for the Shanghai employer (B); HR of the Beijing employer (A) knows his passport.
CHARLIES_ROW = "passport_country,passport_number,period_start,wage\nJPN,TK1234567,2025-09,9000\n"


def test_a_declaration_file_naming_another_employers_employee_does_not_show_their_name(
    bworld: BillingWorld,
) -> None:
    r = bworld.client("hr_a").post(
        "/api/v1/billing/declarations/import",
        {
            "employer_id": str(bworld.a.pk),
            "dry_run": "true",
            "file": SimpleUploadedFile("bases.csv", CHARLIES_ROW.encode()),
        },
    )
    assert r.status_code == 200, r.content
    [error] = r.json()["errors"]
    assert error["code"] == "not_employed"
    assert "charlie" not in r.content.decode().casefold()
    assert "TK1234567" in error["message"]  # what the caller sent, to find the row


def test_the_portals_dry_run_does_not_show_it_either(bworld: BillingWorld) -> None:
    r = bworld.client("hr_a").post(
        f"/billing/declarations/import/?employer={bworld.a.pk}",
        {"file": SimpleUploadedFile("bases.csv", CHARLIES_ROW.encode())},
    )
    assert r.status_code == 200
    assert "is not employed by" in r.content.decode()  # the row's error is shown
    assert "charlie" not in r.content.decode().casefold()
