"""Every audit action the compliance context records has a label in English and in Chinese (the
audit trail shows words, never ``case.issue_order``).

Two ways, so that a new action cannot slip through: the whole life of a case is run and every
action it recorded is looked up; and every dotted action written as a literal anywhere in the
``cases`` package (``action="dispute.open"``) is looked up too.
"""

from __future__ import annotations

import ast
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone, translation

import expatsi.cases
from expatsi.access.actors import SYSTEM, Actor
from expatsi.audit.models import AuditEvent
from expatsi.cases import selectors, services, withdrawals
from expatsi.cases.models import Case, Finding
from expatsi.employers.models import Employer
from expatsi.portal.labels import AUDIT_ACTIONS, audit_action
from tests.cases.conftest import bill, employ, pay, permit, person

pytestmark = pytest.mark.django_db
STAFF = Actor("agency", None, "officer", regions=None)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _labelled_in_both_languages(action: str) -> list[str]:
    problems = []
    if action not in AUDIT_ACTIONS:
        return [f"{action}: no label in portal/labels.py AUDIT_ACTIONS"]
    with translation.override("en"):
        english = audit_action(action)
    with translation.override("zh-hans"):
        chinese = audit_action(action)
    if not english or "_" in english or "." in english:
        problems.append(f"{action}: English label {english!r}")
    if not CJK.search(chinese) or chinese == english:
        problems.append(f"{action}: no Chinese label ({chinese!r})")
    return problems


def _run_the_life_of_a_case(sh: Employer) -> None:
    today = timezone.localdate()
    b = bill(sh, "2025-09", date(2025, 10, 15), total=100_000)
    pay(b, 40_000, date(2025, 10, 10))
    p = person("Weber", "DEU")
    permit(p, today - timedelta(days=90), today + timedelta(days=900))
    employ(p, sh, today - timedelta(days=80))
    services.compliance_scan(actor=STAFF, as_of=today)
    late = Finding.objects.get(rule="not_registered")
    unpaid = Finding.objects.get(rule="unpaid_past_due")
    selectors.finding_get(actor=STAFF, finding_id=late.pk)
    services.finding_dismiss(actor=STAFF, finding_id=late.pk, reason="checked")
    services.finding_confirm(actor=STAFF, finding_id=late.pk, reason="on second thoughts")
    case = services.case_open(actor=STAFF, finding_ids=[unpaid.pk, late.pk])
    selectors.case_get(actor=STAFF, case_id=case.pk)
    services.order_issue(actor=STAFF, case_id=case.pk, deadline=today + timedelta(days=10))
    Case.objects.filter(pk=case.pk).update(order_deadline=today - timedelta(days=1))
    first = services.fine_propose(
        actor=STAFF, case_id=case.pk, kind="arrears_not_paid", amount_fen=60_000, reason="r"
    )
    services.fine_propose(
        actor=STAFF, case_id=case.pk, kind="arrears_not_paid", amount_fen=70_000, reason="r"
    )
    withdrawals.fine_withdraw(actor=STAFF, case_id=case.pk, proposal_id=first.pk, reason="twice")
    services.case_decide(actor=STAFF, case_id=case.pk, outcome="fine", reason="unpaid")
    services.case_close(actor=STAFF, case_id=case.pk, reason="paid")
    opted = person("Opted", "FRA")
    employ(opted, sh, date(2015, 1, 1))
    services.opt_out_record(
        actor=SYSTEM,
        legacy="shanghai_notice_38_2009",
        person_id=opted.pk,
        employer_id=sh.pk,
        signed_on=date(2015, 1, 1),
    )


def test_every_action_of_a_cases_life_has_words_in_both_languages(sh: Employer) -> None:
    _run_the_life_of_a_case(sh)
    recorded = set(AuditEvent.objects.values_list("action", flat=True))
    ours = {a for a in recorded if a.split(".")[0] in ("compliance", "finding", "case", "optout")}
    expected = {
        "compliance.scan",
        "finding.read",
        "finding.dismissed",
        "finding.confirmed",
        "case.opened",
        "case.read",
        "case.issue_order",
        "case.propose_fine",
        "case.withdraw_fine",
        "case.decide",
        "case.close",
        "optout.record",
    }
    assert ours == expected
    problems = [p for action in sorted(ours) for p in _labelled_in_both_languages(action)]
    assert not problems, "\n".join(problems)


def _literal_actions() -> set[str]:
    """Dotted string literals passed as ``action=`` anywhere in the cases package."""
    found: set[str] = set()
    root = Path(expatsi.cases.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                value = kw.value
                if (
                    kw.arg == "action"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and "." in value.value
                ):
                    found.add(value.value)
    return found


def test_every_literal_audit_action_of_the_package_has_words_in_both_languages() -> None:
    actions = _literal_actions()
    assert {"compliance.scan", "finding.read", "case.read", "optout.record"} <= actions
    problems = [p for action in sorted(actions) for p in _labelled_in_both_languages(action)]
    assert not problems, "\n".join(problems)
