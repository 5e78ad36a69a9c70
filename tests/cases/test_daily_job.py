"""The daily job runs the compliance checks over everything; run again, it adds nothing."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from expatsi.cases.models import Finding
from expatsi.cli import main
from expatsi.employers.models import Employer
from tests.cases.conftest import bill

pytestmark = pytest.mark.django_db


def test_run_daily_runs_the_checks_once(
    sh: Employer, bj: Employer, capsys: Any, settings: Any
) -> None:
    # The scan is queued for the worker pool; an in-process backend runs its partitions here
    # (tests/cases/test_scan_pool.py follows a scan queued for real workers).
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    bill(sh, "2025-09", date(2025, 10, 15), total=100_000)
    bill(bj, "2025-09", date(2025, 10, 15), total=100_000)
    assert main(["jobs", "run-daily", "--today", "2025-11-20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["compliance"]["unpaid_past_due"]["new"] == 2
    assert main(["jobs", "run-daily", "--today", "2025-11-20", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["compliance"]["unpaid_past_due"] == {
        "found": 2,
        "new": 0,
        "changed": 0,
        "reopened": 0,
        "resolved": 0,
    }
    assert Finding.objects.count() == 2
