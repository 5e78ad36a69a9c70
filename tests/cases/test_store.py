"""Storing what a rule found (cases/scan.py): the row-by-row path and, on PostgreSQL, the
set-based one must write the same findings, events and counts. Every test runs on each path the
engine has, with the same assertions: a re-run adds nothing, a dismissed finding stays dismissed
until its evidence changes, a finding not found any more is resolved (unless the rule did not
look at its period) and found again is unresolved, and nothing outside the scope is touched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from expatsi.cases import scan as scan_module
from expatsi.cases.checks import Hit, Scope
from expatsi.cases.models import CaseEvent, Finding, Scan
from expatsi.cases.registry import ComplianceRule, registry
from expatsi.employers.models import Employer
from tests.cases.conftest import person

pytestmark = pytest.mark.django_db

DAY = date(2025, 11, 20)
RULE = "billed_after_exit"
Store = Callable[..., scan_module.RuleCounts]


@pytest.fixture(params=["rows", "set"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "set" and connection.vendor != "postgresql":
        pytest.skip("the set-based path is PostgreSQL's")
    return scan_module._store_set if request.param == "set" else scan_module._store_rows


def rule() -> ComplianceRule:
    return registry().rules[RULE]


def hit(employer: Employer, person_id: int, month: str, **evidence: Any) -> Hit:
    return Hit(
        employer_id=employer.pk,
        person_id=person_id,
        period=month,
        region_code=employer.region_code,
        evidence={"month": month, "port": "PVG", **evidence},
        figures={"days_abroad": 40},
        amount_fen=120_000,
    )


def run(
    store: Store,
    hits: list[Hit],
    day: date = DAY,
    scope: Scope | None = None,
    looks_at: Callable[[Scope, ComplianceRule, str], bool] | None = None,
) -> tuple[Scan, dict[str, int]]:
    record = Scan.objects.create(as_of=day, started_by="test")
    counts = store(rule(), hits, scope or Scope(as_of=day), record, "test", looks_at)
    return record, counts.as_dict()


def counts(found: int = 0, **kwargs: int) -> dict[str, int]:
    return {"found": found, "new": 0, "changed": 0, "reopened": 0, "resolved": 0} | kwargs


def test_new_findings_then_a_rerun_adds_nothing(store: Store, sh: Employer) -> None:
    a, b = person("A").pk, person("B").pk
    first, got = run(store, [hit(sh, a, "2025-08"), hit(sh, b, "2025-08"), hit(sh, a, "2025-08")])
    assert got == counts(3, new=2)  # found counts hits; the same key twice is one finding
    f = Finding.objects.get(person_id=a)
    assert (f.rule, f.key, f.status, f.severity) == (
        RULE,
        f"{RULE}|{sh.pk}|{a}|2025-08",
        "open",
        rule().severity,
    )
    assert (f.found_on, f.seen_on, f.first_scan_id, f.last_scan_id) == (
        DAY,
        DAY,
        first.pk,
        first.pk,
    )
    assert (f.amount_fen, f.figures, f.resolved_on) == (120_000, {"days_abroad": 40}, None)
    assert f.evidence_hash == scan_module.evidence_hash(f.evidence)
    later = DAY + timedelta(days=1)
    moved = hit(sh, a, "2025-08")
    moved.figures, moved.amount_fen = (
        {"days_abroad": 41},
        130_000,
    )  # the calendar moved: not evidence
    second, got = run(store, [moved, hit(sh, b, "2025-08")], later)
    assert got == counts(2)
    assert Finding.objects.count() == 2 and not CaseEvent.objects.exists()
    f.refresh_from_db()
    assert (f.figures, f.amount_fen, f.seen_on, f.found_on) == (
        {"days_abroad": 41},
        130_000,
        later,
        DAY,
    )
    assert (f.first_scan_id, f.last_scan_id) == (first.pk, second.pk)


def test_dismissed_stays_dismissed_until_its_evidence_changes(store: Store, sh: Employer) -> None:
    a = person("A").pk
    run(store, [hit(sh, a, "2025-08")])
    decided = timezone.now()
    Finding.objects.update(status="dismissed", status_reason="a trip", decided_at=decided)
    _, got = run(store, [hit(sh, a, "2025-08")], DAY + timedelta(days=1))
    assert got == counts(1)
    f = Finding.objects.get()
    assert (f.status, f.status_reason, f.decided_at) == ("dismissed", "a trip", decided)
    assert not CaseEvent.objects.exists()
    again, got = run(store, [hit(sh, a, "2025-08", port="SHA")], DAY + timedelta(days=2))
    assert got == counts(1, changed=1, reopened=1)
    f.refresh_from_db()
    assert (f.status, f.decided_at, f.evidence["port"]) == ("open", None, "SHA")
    assert f.evidence_hash == scan_module.evidence_hash(f.evidence)
    event = CaseEvent.objects.get()
    assert (event.finding_id, event.action, event.from_status, event.to_status) == (
        f.pk,
        "reopened",
        "dismissed",
        "open",
    )
    assert event.detail == {"scan": again.pk, "why": "the evidence changed since it was dismissed"}
    assert event.actor_label == "test"


def test_changed_evidence_of_an_open_finding_is_an_event(store: Store, sh: Employer) -> None:
    a = person("A").pk
    run(store, [hit(sh, a, "2025-08")])
    Finding.objects.update(status="confirmed")
    record, got = run(store, [hit(sh, a, "2025-08", port="SHA")])
    assert got == counts(1, changed=1)
    f = Finding.objects.get()
    assert (f.status, f.evidence["port"], f.last_scan_id) == ("confirmed", "SHA", record.pk)
    event = CaseEvent.objects.get()
    assert (event.action, event.from_status, event.to_status, event.detail) == (
        "evidence_changed",
        "confirmed",
        "confirmed",
        {"scan": record.pk},
    )


def test_resolved_when_gone_and_unresolved_when_found_again(store: Store, sh: Employer) -> None:
    a, b = person("A").pk, person("B").pk
    run(store, [hit(sh, a, "2025-08"), hit(sh, b, "2025-08")])
    later = DAY + timedelta(days=3)
    _, got = run(store, [hit(sh, b, "2025-08")], later)
    assert got == counts(1, resolved=1)
    assert Finding.objects.get(person_id=a).resolved_on == later
    _, got = run(store, [hit(sh, b, "2025-08")], later)
    assert got == counts(1)  # already resolved: not again
    _, got = run(store, [hit(sh, a, "2025-08"), hit(sh, b, "2025-08")], later)
    assert got == counts(2)
    assert Finding.objects.get(person_id=a).resolved_on is None
    assert Finding.objects.count() == 2


def test_only_the_periods_and_scope_looked_at_are_resolved(
    store: Store, sh: Employer, sh2: Employer, bj: Employer
) -> None:
    a = person("A").pk
    run(
        store,
        [
            hit(sh, a, "2025-01"),
            hit(sh, a, "2025-08"),
            hit(sh2, a, "2025-08"),
            hit(bj, a, "2025-08"),
        ],
    )
    _, got = run(
        store,
        [],
        scope=Scope(as_of=DAY, regions=("310000",), employer_id=sh.pk),
        looks_at=lambda _scope, _rule, period: period >= "2025-06",
    )
    assert got == counts(0, resolved=1)
    resolved = Finding.objects.filter(resolved_on__isnull=False)
    assert [(f.employer_id, f.period) for f in resolved] == [(sh.pk, "2025-08")]
    # a Shanghai scan neither resolves Beijing's finding nor takes a Beijing finding's key as its own
    _, got = run(store, [hit(sh2, a, "2025-08")], scope=Scope(as_of=DAY, regions=("310000",)))
    assert got == counts(1, resolved=1)
    assert Finding.objects.get(employer=bj).resolved_on is None
    assert Finding.objects.get(employer=sh2).resolved_on is None
    assert Finding.objects.count() == 4


def test_new_findings_are_inserted_without_reading_the_findings_once_per_hit(
    sh: Employer,
) -> None:
    """A new installation's first scan: the findings table is empty and its statistics say so.
    The statement that inserts the new findings must not read cases_finding for each hit (a
    nested loop over a table the statement itself is filling is quadratic: a first scan of
    1,000,000 employees stuck for minutes); the unique key alone turns duplicates away."""
    if connection.vendor != "postgresql":
        pytest.skip("the set-based path is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_finding")
    people = [person(f"P{i}").pk for i in range(300)]
    plans: list[str] = []

    def explain_inserts(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "INSERT INTO cases_finding " in sql and not sql.startswith("EXPLAIN"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql, params)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain_inserts):
        _, got = run(scan_module._store_set, [hit(sh, p, "2025-08") for p in people])
    assert got == counts(300, new=300)
    assert Finding.objects.count() == 300
    [plan] = plans
    assert "Scan on cases_finding" not in plan, plan
