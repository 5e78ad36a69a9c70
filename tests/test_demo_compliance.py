"""The demo's compliance data: after demo_setup the dashboard, the findings and an enforcement case
with its order issued are there to see (and loading again adds none)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from expatsi.cases.models import Case, CaseStatus, Finding, Scan
from expatsi.notify.models import Notification
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


def test_demo_has_findings_and_a_case_with_its_order(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo_setup", stdout=StringIO())
    assert Scan.objects.count() == 1
    assert Finding.objects.exists()
    case = Case.objects.get()
    assert case.status == CaseStatus.ORDERED and case.order_deadline is not None
    assert case.findings.exists()
    assert Notification.objects.filter(kind="order_to_rectify").exists()
    call_command("demo_setup", stdout=StringIO())
    assert (Scan.objects.count(), Case.objects.count()) == (1, 1)

    staff = verified_login(Client(), User.objects.get(username="agency-officer"))
    page = staff.get("/cases/dashboard/")
    assert page.status_code == 200 and page.text.count('<svg class="chart-svg"') == 5
    assert case.number in staff.get("/cases/").text
    assert staff.get(f"/cases/{case.pk}/").status_code == 200
