"""Issue #11 gaps: a rejected life certificate is told to the person; programme payments to a bank
in China; four eyes for programme payments; the monthly pension run without a person."""

from __future__ import annotations

import json
from datetime import date

import pytest

from expatsi.access.actors import actor_for_user
from expatsi.audit.models import AuditEvent
from expatsi.benefits import proof_of_life
from expatsi.benefits.models import Payout, ProofStatus
from expatsi.cli import main
from expatsi.notify.messages import render
from expatsi.notify.models import Notification
from tests.benefits.pension_world import pensioner
from tests.portal.factories import make_agency

PDF = b"%PDF-1.4 life certificate"


def test_a_rejected_life_certificate_is_told_to_the_person_with_the_reason(
    beijing, django_capture_on_commit_callbacks
) -> None:
    _person, user, pension = pensioner(beijing)
    officer = actor_for_user(make_agency("officer-one", regions="110000"))
    proof = proof_of_life.proof_upload(
        actor=actor_for_user(user),
        pension_id=pension.pk,
        route="embassy",
        document=PDF,
        verified_on=date(2026, 8, 20),
        today=date(2026, 8, 25),
    )
    with django_capture_on_commit_callbacks(execute=True):
        proof_of_life.proof_review(
            actor=officer,
            proof_id=proof.pk,
            decision="reject",
            reason="The consulate's stamp is missing",
        )
    proof.refresh_from_db()
    assert proof.status == ProofStatus.REJECTED
    note = Notification.objects.get(user=user, kind="proof_of_life_rejected")
    text = f"{note.subject} {note.body}"
    assert "The consulate's stamp is missing" in text
    assert "not accepted" in text
    subject, body = render("proof_of_life_rejected", note.params, "zh-hans")
    assert "not accepted" not in subject + body and "The consulate's stamp is missing" in body


# --- the monthly pension run without a person (CLI and the daily job) ------------------------------


def _cli(capsys, *words: str) -> tuple[int, dict]:
    code = main([*words, "--json"])
    out = capsys.readouterr().out
    return code, (json.loads(out) if code == 0 else {})


def test_pension_run_from_the_shell_pays_each_month_once(beijing, capsys) -> None:
    """Pension 1,000.00 a month from 2026-01: the run for 2026-03 pays January–March (3 ×
    1,000.00 = 3,000.00) in Beijing; the same command again pays nothing."""
    _person, _user, pension = pensioner(beijing)
    code, out = _cli(capsys, "benefits", "pension-run", "--month", "2026-03")
    assert code == 0
    assert (out["month"], out["payouts"], out["amount"]) == ("2026-03", 3, "3000.00")
    assert [r["region"] for r in out["regions"]] == ["110000"]
    assert out["regions"][0]["payment_run"] is not None
    code, again = _cli(
        capsys, "benefits", "pension-run", "--month", "2026-03", "--region", "110000"
    )
    assert code == 0 and again["payouts"] == 0 and again["regions"][0]["payment_run"] is None
    assert Payout.objects.filter(pension=pension).count() == 3
    assert AuditEvent.objects.filter(
        action="pension.payout", actor_label__contains="pension-run"
    ).exists()


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (("--month", "2026-13"), "month"),
        (("--month", "March"), "YYYY-MM"),
        (("--month", "2026-03", "--region", "12"), "region"),
        (("--month", "2026-03", "--region", "999999"), "999999"),
        ((), "--month"),
    ],
)
def test_pension_run_bad_input_exits_2_with_a_message(beijing, capsys, words, said) -> None:
    try:
        code = main(["benefits", "pension-run", *words])
    except SystemExit as exc:  # argparse: a missing option
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert said in err
    assert not Payout.objects.exists()


def test_the_daily_job_runs_the_previous_month_on_the_configured_day(
    beijing, capsys, settings
) -> None:
    settings.EXPATSI_PENSION_RUN_DAY = 5
    # The run is queued per region for the worker pool; an in-process backend runs it here
    # (tests/benefits/test_pension_tasks.py follows runs queued for real workers).
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    _person, _user, pension = pensioner(beijing)
    code, out = _cli(capsys, "jobs", "run-daily", "--today", "2026-04-04")
    assert code == 0 and out["pension_run"] is None
    assert not Payout.objects.filter(pension=pension).exists()
    code, out = _cli(capsys, "jobs", "run-daily", "--today", "2026-04-05")
    assert code == 0, out
    assert (out["pension_run"]["month"], out["pension_run"]["payouts"]) == ("2026-03", 3)
    code, out = _cli(capsys, "jobs", "run-daily", "--today", "2026-04-05")  # again: nothing twice
    assert out["pension_run"]["payouts"] == 0
    assert Payout.objects.filter(pension=pension).count() == 3
    settings.EXPATSI_PENSION_RUN_DAY = 0
    code, out = _cli(capsys, "jobs", "run-daily", "--today", "2026-05-05")
    assert out["pension_run"] is None
