"""Storing what the checks found: one code path for a daily scan of everything and an on-demand
scan of one employer.

Per rule, in one transaction: run the check (one query over the scope), read the findings the
rule already has in the scope (one query), then write only the differences —

* a subject, rule and period never found before: a new open finding (bulk insert; the unique
  ``key`` makes a second scan, even a concurrent one, unable to add it twice);
* found again with the same evidence: its figures and "last seen" are refreshed, its status
  stays — a dismissed finding stays dismissed;
* found again with different evidence: the evidence is replaced and a dismissed finding reopens
  (an event records why); an open or confirmed one keeps its status, with an event;
* in the scope but not found any more: marked resolved on the scan day (found again later, it
  is unresolved again). Resolution is what tells staff a finding was put right.

On PostgreSQL the differences are written set-based (``_store_set``): the hits are copied into a
temporary table (COPY) and merged with one statement per kind of difference, instead of a Python
object and a row of a bulk insert per finding (measured at 1,000,000 employees: ~55 s to write
~156,000 new findings through the ORM). SQLite, the test suite's other engine, keeps the row by
row path (``_store_rows``); both write the same rows and counts. No audit event is written per
finding, by either path: the scan's one ``compliance.scan`` event carries every rule's counts, and
a finding's own history is its CaseEvents (written, as before, only when its evidence changes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from expatsi.cases.checks import CHECKS, Hit, Scope
from expatsi.cases.models import CaseEvent, Finding, FindingStatus, Scan
from expatsi.cases.registry import ComplianceRule, registry

CHUNK = 2000


def _canonical(evidence: dict[str, Any]) -> str:
    return json.dumps(evidence, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def evidence_hash(evidence: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(evidence).encode()).hexdigest()


@dataclass
class RuleCounts:
    found: int = 0
    new: int = 0
    changed: int = 0
    reopened: int = 0
    resolved: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "found": self.found,
            "new": self.new,
            "changed": self.changed,
            "reopened": self.reopened,
            "resolved": self.resolved,
        }


@dataclass
class ScanCounts:
    rules: dict[str, RuleCounts] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {k: v.as_dict() for k, v in self.rules.items()}


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _in_scope(scope: Scope) -> Q:
    q = Q()
    if scope.regions is not None:
        q &= Q(region_code__in=scope.regions)
    if scope.employer_id is not None:
        q &= Q(employer_id=scope.employer_id)
    if scope.employer_from is not None or scope.employer_to is not None:
        low, high = _employer_range(scope)
        q &= Q(employer_id__gte=low, employer_id__lte=high)
    return q


def _employer_range(scope: Scope) -> tuple[int, int]:
    """The scope's employer id range with open ends closed (as ``Scope.sql`` closes them)."""
    return scope.employer_from or 0, 2**62 if scope.employer_to is None else scope.employer_to


def store(
    rule: ComplianceRule,
    hits: list[Hit],
    scope: Scope,
    scan: Scan,
    actor_label: str,
    looks_at: Callable[[Scope, ComplianceRule, str], bool] | None = None,
) -> RuleCounts:
    """Write what one rule found in ``scope``: new, refreshed, changed, reopened and resolved
    findings (the module docstring says which is which). One path per engine, same result."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            return _store_set(rule, hits, scope, scan, actor_label, looks_at)
    return _store_rows(rule, hits, scope, scan, actor_label, looks_at)


def _store_rows(
    rule: ComplianceRule,
    hits: list[Hit],
    scope: Scope,
    scan: Scan,
    actor_label: str,
    looks_at: Callable[[Scope, ComplianceRule, str], bool] | None = None,
) -> RuleCounts:
    counts = RuleCounts(found=len(hits))
    by_key = {hit.key(rule.key): hit for hit in hits}
    existing = {
        row["key"]: row
        for row in Finding.objects.filter(_in_scope(scope), rule=rule.key).values(
            "id", "key", "period", "status", "evidence_hash", "resolved_on", "figures", "amount_fen"
        )
    }
    day = scope.as_of
    new: list[Finding] = []
    refresh: list[Finding] = []
    seen_ids: list[int] = []
    events: list[CaseEvent] = []
    for key, hit in by_key.items():
        digest = evidence_hash(hit.evidence)
        old = existing.get(key)
        if old is None:
            new.append(
                Finding(
                    rule=rule.key,
                    key=key,
                    region_code=hit.region_code,
                    employer_id=hit.employer_id,
                    person_id=hit.person_id,
                    period=hit.period,
                    severity=rule.severity,
                    amount_fen=hit.amount_fen,
                    evidence=hit.evidence,
                    evidence_hash=digest,
                    figures=hit.figures,
                    first_scan=scan,
                    last_scan=scan,
                    found_on=day,
                    seen_on=day,
                )
            )
            continue
        seen_ids.append(old["id"])
        if old["evidence_hash"] == digest:
            if old["figures"] != hit.figures or old["amount_fen"] != hit.amount_fen:
                refresh.append(
                    Finding(id=old["id"], figures=hit.figures, amount_fen=hit.amount_fen)
                )
            continue
        counts.changed += 1
        update: dict[str, Any] = {
            "evidence": hit.evidence,
            "evidence_hash": digest,
            "figures": hit.figures,
            "amount_fen": hit.amount_fen,
            "severity": rule.severity,
        }
        detail: dict[str, Any] = {"scan": scan.pk}
        if old["status"] == FindingStatus.DISMISSED:
            counts.reopened += 1
            update |= {"status": FindingStatus.OPEN, "decided_by": None, "decided_at": None}
            detail["why"] = "the evidence changed since it was dismissed"
        Finding.objects.filter(pk=old["id"]).update(**update)
        events.append(
            CaseEvent(
                finding_id=old["id"],
                action="reopened" if "why" in detail else "evidence_changed",
                from_status=old["status"],
                to_status=update.get("status", old["status"]),
                actor_label=actor_label,
                detail=detail,
            )
        )
    for chunk in _chunks(new):
        Finding.objects.bulk_create(chunk, ignore_conflicts=True)
    counts.new = len(new)
    if refresh:
        Finding.objects.bulk_update(refresh, ["figures", "amount_fen"], batch_size=500)
    for chunk in _chunks(seen_ids):
        Finding.objects.filter(pk__in=chunk).update(last_scan=scan, seen_on=day, resolved_on=None)
    gone = [
        row["id"]
        for key, row in existing.items()
        if key not in by_key
        and row["resolved_on"] is None
        and (looks_at is None or looks_at(scope, rule, row["period"]))
    ]
    for chunk in _chunks(gone):
        Finding.objects.filter(pk__in=chunk).update(resolved_on=day)
    counts.resolved = len(gone)
    if events:
        CaseEvent.objects.bulk_create(events)
    return counts


# --- PostgreSQL: set-based ----------------------------------------------------------------------

_HITS = "cases_scan_hits"  # a temporary table, one per rule and transaction

_CREATE_HITS = """
CREATE TEMPORARY TABLE cases_scan_hits (
  key varchar(200) PRIMARY KEY,
  region_code varchar(6) NOT NULL,
  employer_id bigint NOT NULL,
  person_id bigint,
  period varchar(40) NOT NULL,
  amount_fen bigint NOT NULL,
  evidence jsonb NOT NULL,
  evidence_hash varchar(64) NOT NULL,
  figures jsonb NOT NULL
) ON COMMIT DROP
"""

# Found before with other evidence: the evidence replaced, a dismissed finding reopened. The old
# status is read in the same statement (the CTE sees the rows before the update).
_CHANGED = """
WITH old AS (
  SELECT f.id, f.status FROM cases_finding f JOIN cases_scan_hits h ON h.key = f.key
  WHERE f.rule = %s {scope} AND f.evidence_hash <> h.evidence_hash
)
UPDATE cases_finding f SET evidence = h.evidence, evidence_hash = h.evidence_hash,
  figures = h.figures, amount_fen = h.amount_fen, severity = %s,
  status = CASE WHEN old.status = %s THEN %s ELSE f.status END,
  decided_by_id = CASE WHEN old.status = %s THEN NULL ELSE f.decided_by_id END,
  decided_at = CASE WHEN old.status = %s THEN NULL ELSE f.decided_at END,
  last_scan_id = %s, seen_on = %s, resolved_on = NULL
FROM old, cases_scan_hits h
WHERE f.id = old.id AND h.key = f.key
RETURNING f.id, old.status, f.status
"""

# Found again with the same evidence: seen, unresolved; figures and amount refreshed (the status
# stays, so a dismissed finding stays dismissed).
_SEEN = """
UPDATE cases_finding f SET last_scan_id = %s, seen_on = %s, resolved_on = NULL,
  figures = CASE WHEN f.figures = h.figures THEN f.figures ELSE h.figures END,
  amount_fen = h.amount_fen
FROM cases_scan_hits h
WHERE h.key = f.key AND f.rule = %s {scope} AND f.evidence_hash = h.evidence_hash
"""

# Never found before: a new open finding. Every hit is offered and the unique key turns away
# those already on file (found again above, or a finding of the same key outside the scope, or
# one a concurrent scan has just added). No NOT EXISTS over cases_finding here: on an empty,
# analyzed table (a new installation's first scan) PostgreSQL answered it with a nested loop
# that scanned cases_finding once per hit, while this very statement was filling it — quadratic:
# a first scan of 1,000,000 employees stuck for minutes on the 60,000 hits of one rule.
_NEW = """
INSERT INTO cases_finding (rule, key, region_code, employer_id, person_id, period, severity,
  amount_fen, evidence, evidence_hash, figures, status, status_reason, first_scan_id,
  last_scan_id, found_on, seen_on, created_at, updated_at)
SELECT %s, key, region_code, employer_id, person_id, period, %s, amount_fen, evidence,
  evidence_hash, figures, %s, '', %s, %s, %s, %s, %s, %s
FROM cases_scan_hits
ON CONFLICT (key) DO NOTHING
"""

# In the scope, unresolved, not found this time: candidates for resolution (``looks_at`` decides).
_GONE = """
SELECT f.id, f.period FROM cases_finding f
WHERE f.rule = %s {scope} AND f.resolved_on IS NULL
  AND NOT EXISTS (SELECT 1 FROM cases_scan_hits h WHERE h.key = f.key)
"""


def _scope_sql(scope: Scope) -> tuple[str, list[Any]]:
    """`` AND …`` restricting the finding row ``f`` to the scope (as ``_in_scope``)."""
    sql, params = "", list[Any]()
    if scope.regions is not None:
        if not scope.regions:
            return " AND 1 = 0", []
        sql += f" AND f.region_code IN ({', '.join(['%s'] * len(scope.regions))})"
        params += list(scope.regions)
    if scope.employer_id is not None:
        sql += " AND f.employer_id = %s"
        params.append(scope.employer_id)
    if scope.employer_from is not None or scope.employer_to is not None:
        # A partition of the scan: what it resolves ("in scope, not found") is its own range only.
        sql += " AND f.employer_id BETWEEN %s AND %s"
        params += list(_employer_range(scope))
    return sql, params


def _store_set(
    rule: ComplianceRule,
    hits: list[Hit],
    scope: Scope,
    scan: Scan,
    actor_label: str,
    looks_at: Callable[[Scope, ComplianceRule, str], bool] | None = None,
) -> RuleCounts:
    counts = RuleCounts(found=len(hits))
    by_key = {hit.key(rule.key): hit for hit in hits}
    day = scope.as_of
    now = timezone.now()
    where, where_params = _scope_sql(scope)
    dismissed, open_ = FindingStatus.DISMISSED.value, FindingStatus.OPEN.value
    reopen = [dismissed, open_, dismissed, dismissed]
    first_seen: list[Any] = [scan.pk, scan.pk, day, day, now, now]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_HITS}")
        cursor.execute(_CREATE_HITS)
        columns = "key, region_code, employer_id, person_id, period, amount_fen, evidence,"
        columns += " evidence_hash, figures"
        with cursor.cursor.copy(f"COPY {_HITS} ({columns}) FROM STDIN") as copy:
            for key, hit in by_key.items():
                evidence = _canonical(hit.evidence)
                copy.write_row(
                    (
                        key,
                        hit.region_code,
                        hit.employer_id,
                        hit.person_id,
                        hit.period,
                        hit.amount_fen,
                        evidence,
                        hashlib.sha256(evidence.encode()).hexdigest(),
                        json.dumps(hit.figures, ensure_ascii=False),
                    )
                )
        # the row count and the keys are what the merge is planned on: statistics of the JSON
        # columns (every row sampled, up to 30,000) took longer than the merge itself
        cursor.execute(f"ANALYZE {_HITS} (key)")
        cursor.execute(
            _CHANGED.format(scope=where),
            [rule.key, *where_params, rule.severity, *reopen, scan.pk, day],
        )
        changed = cursor.fetchall()
        # Every finding of the rule in scope that was found again, changed or not (the changed
        # ones carry the new evidence hash by now): the rest of the hits are new to the scope.
        cursor.execute(_SEEN.format(scope=where), [scan.pk, day, rule.key, *where_params])
        found_again = cursor.rowcount
        cursor.execute(_NEW, [rule.key, rule.severity, open_, *first_seen])
        # as the row path: a key taken outside the scope counts as new too
        counts.new = len(by_key) - found_again
        cursor.execute(_GONE.format(scope=where), [rule.key, *where_params])
        gone = [
            int(finding_id)
            for finding_id, period in cursor.fetchall()
            if looks_at is None or looks_at(scope, rule, period)
        ]
    for chunk in _chunks(gone):
        Finding.objects.filter(pk__in=chunk).update(resolved_on=day)
    counts.resolved = len(gone)
    counts.changed = len(changed)
    events = []
    for finding_id, before, after in changed:
        detail: dict[str, Any] = {"scan": scan.pk}
        reopened = before == dismissed
        if reopened:
            counts.reopened += 1
            detail["why"] = "the evidence changed since it was dismissed"
        events.append(
            CaseEvent(
                finding_id=finding_id,
                action="reopened" if reopened else "evidence_changed",
                from_status=before,
                to_status=after,
                actor_label=actor_label,
                detail=detail,
            )
        )
    if events:
        CaseEvent.objects.bulk_create(events)
    return counts


def run(scope: Scope, scan: Scan, actor_label: str, rules: list[str] | None = None) -> ScanCounts:
    """Every rule of the registry (or those named), each in its own transaction."""
    reg = registry()
    result = ScanCounts()
    for key in reg.rules:
        if rules is not None and key not in rules:
            continue
        with transaction.atomic():
            result.rules[key] = run_rule(scope, scan, actor_label, key)
    return result


def run_rule(
    scope: Scope, scan: Scan, actor_label: str, key: str, *, pooled: bool = False
) -> RuleCounts:
    """Check one rule over ``scope`` and store what it found. Called inside a transaction (its
    settings are for that transaction only), so a caller can commit what it records of the rule
    (a partition's counts, scan_pool.py) together with the findings. ``pooled``: a partition of a
    queued scan, one of several rules checked at once by the worker pool."""
    reg = registry()
    rule = reg.rules[key]
    if connection.vendor == "postgresql":
        # A check's plan is costed high enough for PostgreSQL to compile it with LLVM,
        # which took longer than running it (measured: 4.1 s of JIT for a 1.5 s query of
        # not_registered at 100,000 people). For this transaction only.
        # The checks group a million people (who was billed which month): with the default
        # 4 MB of work memory those aggregates spilled half a gigabyte to disk.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            if pooled:
                # The pool's workers already keep the cores busy with other rules: parallel
                # workers of one rule's query only contend with them (measured at 1,000,000
                # employees, two workers: the first scan 8.5 s with them, 7.9 s without).
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    check = CHECKS[key]
    hits = check.run(scope, rule, reg.legacy_for(key))
    return store(rule, hits, scope, scan, actor_label, check.looks_at)
