"""The monthly billing run's engine: one set-based code path for ten people or ten million.

Called through :mod:`expatsi.billing.services` (``billing_run``, ``billing_recalculate``), which
check who may bill the region and resolve its policy once; the engine takes that policy and the
actor and records, with each run it starts, the audit event naming who started it.

For a region and month, employers are taken in batches. For each batch, in one transaction: read
who is billable with their bases (one query), compute every line with the rules engine's batch
function, compare with what the employers' bills for that month already say (one query), and write
the difference — a regular bill where there was none, an adjustment bill where amounts changed,
nothing where nothing changed. So the run is idempotent (a second run writes nothing), resumable (a
run killed mid-way leaves whole batches; starting again finishes the rest and ends in the state of
an uninterrupted run), and retroactive changes (late declarations, new policy figures) become
adjustment lines, never edits to issued lines.

Who is billed for month M at employer E (CONVENTION, see national/conventions.toml): an employment
of E that covers any day of M, unless it starts after the 1st while another employer's employment
covers the 1st (then the old employer pays M and the new one starts next month). The base is the
latest declaration for the contribution year, else the contract wage.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.billing.models import (
    Bill,
    BillingJob,
    BillingPartition,
    BillingRun,
    BillKind,
    BillLine,
    PolicySnapshot,
    RunStatus,
    lease_cutoff,
)
from expatsi.billing.provenance import bill_record, snapshot_for
from expatsi.billing.writer import medical_summaries, write_lines
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment
from expatsi.rules.agreements import agreements, default_work_injury_rate
from expatsi.rules.contributions import contributions_batch, exemption_masks
from expatsi.rules.dates import Month
from expatsi.rules.money import format_yuan
from expatsi.rules.policy import POLICY_DIR
from expatsi.rules.regions import INSURANCES, Period, RegionPolicy

MEDICAL = INSURANCES.index("medical")

log = logging.getLogger(__name__)
IntArray = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]
REASON_CODES = {"within_limits": 0, "raised_to_lower_limit": 1, "capped_at_upper_limit": 2}


def batch_size() -> int:
    return max(1, int(settings.EXPATSI_BILLING_BATCH))


def partition_count() -> int:
    return max(1, int(settings.EXPATSI_BILLING_PARTITIONS))


def partition_attempts() -> int:
    return max(1, int(settings.EXPATSI_BILLING_PARTITION_ATTEMPTS))


@cache
def _file_digest(file: str) -> str:
    return hashlib.sha256((POLICY_DIR / file).read_bytes()).hexdigest()[:12]


def policy_version(policy: RegionPolicy, first: str) -> str:
    """Names the exact policy data used: region, period, and a hash of the file's bytes."""
    return f"{policy.code}:{first}:{_file_digest(policy.file)}"


# --- reading ----------------------------------------------------------------------------------


# Joins rather than correlated subqueries, so that PostgreSQL can hash-join a million rows. At most
# one work-injury rating covers a day (ratings are effective-dated without overlap); the latest
# declaration of a contribution year is the one with the highest id.
_COHORT_SQL = """
SELECT e.employer_id, e.person_id, e.start_date, CAST(p.nationality AS {char3}) AS nationality,
  COALESCE(d.wage, e.contract_wage) AS wage,
  CASE WHEN c.person_id IS NULL THEN 0 ELSE 1 END AS cert,
  COALESCE(r.rate_ppm, 0) AS wi
FROM insurance_employment e
JOIN people_person p ON p.id = e.person_id
LEFT JOIN (
  SELECT d1.person_id, d1.employer_id, d1.wage FROM billing_basedeclaration d1
  JOIN (SELECT MAX(id) AS mid FROM billing_basedeclaration WHERE period_start = %s
        GROUP BY person_id, employer_id) m ON m.mid = d1.id
) d ON d.person_id = e.person_id AND d.employer_id = e.employer_id
LEFT JOIN (
  SELECT DISTINCT person_id FROM insurance_coveragecertificate WHERE valid_from <= %s AND valid_to >= %s
) c ON c.person_id = e.person_id
LEFT JOIN (
  SELECT employer_id, rate_ppm FROM employers_workinjuryrating
  WHERE effective_from <= %s AND (effective_to IS NULL OR effective_to >= %s)
) r ON r.employer_id = e.employer_id
WHERE e.employer_id IN ({employers})
  AND e.start_date <= %s AND (e.end_date IS NULL OR e.end_date >= %s)
  AND NOT (e.start_date > %s AND EXISTS (
        SELECT 1 FROM insurance_employment o
        WHERE o.person_id = e.person_id AND o.employer_id <> e.employer_id
          AND o.start_date <= %s AND (o.end_date IS NULL OR o.end_date >= %s)))
"""
_PG_EPOCH = date(2000, 1, 1).toordinal()
# PostgreSQL: the whole cohort comes back as one row of seven byte strings (each column's values
# packed big-endian by the server), read with np.frombuffer: no Python object per person. All
# aggregates of one query consume the rows in the same order, so the columns line up.
_PG_PACKED = """
SELECT string_agg(int8send(employer_id), ''), string_agg(int8send(person_id), ''),
       string_agg(int4send(start_date - DATE '2000-01-01'), ''), string_agg(convert_to(nationality, 'UTF8'), ''),
       string_agg(int8send(wage), ''), string_agg(int4send(cert), ''), string_agg(int4send(wi), '')
FROM ({cohort}) q
"""


@dataclass(frozen=True)
class Cohort:
    employer: IntArray
    person: IntArray
    nationality: npt.NDArray[np.str_]
    wage: IntArray
    certificate: npt.NDArray[np.bool_]
    work_injury: IntArray  # 0: no rating on file


def _params(month: Month, period: Period, employer_ids: list[int]) -> list[Any]:
    first, last = month.first_day(), month.last_day()
    return [
        str(period.span.first),
        first,
        first,
        first,
        first,
        *employer_ids,
        last,
        first,
        first,
        first,
        first,
    ]


def _read_pg(sql: str, params: list[Any]) -> tuple[bytes, ...] | None:
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("SET LOCAL jit = off")  # compiling this query costs more than running it
        raw.execute(_PG_PACKED.format(cohort=sql), params)
        row = raw.fetchone()
    if row is None or row[0] is None:
        return None
    return tuple(bytes(col) for col in row)


def load_cohort(month: Month, period: Period, employer_ids: list[int]) -> Cohort:
    marks = ", ".join(["%s"] * len(employer_ids))
    params = _params(month, period, employer_ids)
    if connection.vendor == "postgresql":
        packed = _read_pg(_COHORT_SQL.format(employers=marks, char3="char(3)"), params)
        if packed is None:
            packed = (b"",) * 7
        employer = np.frombuffer(packed[0], dtype=">i8").astype(np.int64)
        person = np.frombuffer(packed[1], dtype=">i8").astype(np.int64)
        start = np.frombuffer(packed[2], dtype=">i4").astype(np.int64)
        nationality = np.frombuffer(packed[3], dtype="S3").astype("U3")
        wage = np.frombuffer(packed[4], dtype=">i8").astype(np.int64)
        cert = np.frombuffer(packed[5], dtype=">i4").astype(np.bool_)
        wi = np.frombuffer(packed[6], dtype=">i4").astype(np.int64)
    else:
        with connection.cursor() as cursor:
            cursor.execute(_COHORT_SQL.format(employers=marks, char3="text"), params)
            fetched = cursor.fetchall()
        employer = np.array([r[0] for r in fetched], dtype=np.int64)
        person = np.array([r[1] for r in fetched], dtype=np.int64)
        start = np.array(
            [date.fromisoformat(str(r[2])).toordinal() - _PG_EPOCH for r in fetched], dtype=np.int64
        )
        nationality = np.array([r[3] for r in fetched], dtype="U3")
        wage = np.array([r[4] for r in fetched], dtype=np.int64)
        cert = np.array([bool(r[5]) for r in fetched], dtype=np.bool_)
        wi = np.array([r[6] for r in fetched], dtype=np.int64)
    # Versions of one employment (a change mid-month) appear more than once: keep the latest start
    # per (employer, person).
    order = np.lexsort((start, person, employer))
    employer, person = employer[order], person[order]
    last = np.ones(len(order), dtype=np.bool_)
    if len(order) > 1:
        last[:-1] = (employer[1:] != employer[:-1]) | (person[1:] != person[:-1])
    keep = order[last]
    return Cohort(
        employer=employer[last],
        person=person[last],
        nationality=nationality[keep],
        wage=wage[keep],
        certificate=cert[keep],
        work_injury=wi[keep],
    )


def employers_to_bill(
    code: str, month: Month, lowest: int | None = None, highest: int | None = None
) -> list[int]:
    """The employers to bill (or to check for adjustments), in id order; ``lowest``/``highest``
    bound the ids (a partition's range)."""
    first, last = month.first_day(), month.last_day()
    billable = Employment.objects.filter(employer__region_code=code, start_date__lte=last).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=first)
    )
    billed = Bill.objects.filter(region_code=code, month=str(month))
    if lowest is not None:
        billable, billed = (
            billable.filter(employer_id__gte=lowest),
            billed.filter(employer_id__gte=lowest),
        )
    if highest is not None:
        billable, billed = (
            billable.filter(employer_id__lte=highest),
            billed.filter(employer_id__lte=highest),
        )
    ids = set(billable.values_list("employer_id", flat=True)) | set(
        billed.values_list("employer_id", flat=True)
    )
    return sorted(ids)


# --- computing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lines:
    """Target lines: one row per (person, insurance), as parallel arrays."""

    employer: IntArray
    person: IntArray
    insurance: IntArray
    base: IntArray
    employer_rate: IntArray
    employee_rate: IntArray
    employer_amount: IntArray
    employee_amount: IntArray
    flags: IntArray


def compute(
    policy: RegionPolicy,
    month: Month,
    period: Period,
    cohort: Cohort,
    masks: dict[str, npt.NDArray[np.bool_]] | None = None,
) -> Lines:
    has_rating = cohort.work_injury > 0
    wi: IntArray | None = None
    if len(cohort.person):
        wi = np.where(
            has_rating, cohort.work_injury, default_work_injury_rate(policy.work_injury_factor)
        )
    if masks is None:
        masks = exemption_masks(month, cohort.nationality, cohort.certificate)
    batch = contributions_batch(
        policy=policy, month=month, wages=cohort.wage, work_injury_rates=wi, exempt=masks
    )
    n = len(cohort.person)
    k = len(INSURANCES)
    cols: dict[str, list[IntArray]] = {c: [] for c in Lines.__dataclass_fields__}
    for idx, name in enumerate(INSURANCES):
        rule = period.rules[name]
        reason = np.where(
            cohort.wage < rule.base_lower, 1, np.where(cohort.wage > rule.base_upper, 2, 0)
        )
        flags = (reason << BillLine.REASON_SHIFT).astype(np.int64)
        flags |= np.where(masks[name], BillLine.FLAG_EXEMPT, 0)
        if rule.merged_into is not None:
            flags |= BillLine.FLAG_MERGED
        if name == "work_injury":
            flags |= np.where(has_rating, 0, BillLine.FLAG_DEFAULT_WORK_INJURY)
        er_rate = (
            wi
            if rule.employer_rate is None and wi is not None
            else np.full(n, rule.employer_rate or 0, dtype=np.int64)
        )
        if rule.merged_into is not None:
            er_rate = np.zeros(n, dtype=np.int64)
        cols["employer"].append(cohort.employer)
        cols["person"].append(cohort.person)
        cols["insurance"].append(np.full(n, idx, dtype=np.int64))
        cols["base"].append(batch.base[name])
        cols["employer_rate"].append(np.asarray(er_rate, dtype=np.int64))
        cols["employee_rate"].append(
            np.full(n, 0 if rule.merged_into else rule.employee_rate, dtype=np.int64)
        )
        cols["employer_amount"].append(batch.employer[name])
        cols["employee_amount"].append(batch.employee[name])
        cols["flags"].append(flags)
    # Interleave so that one person's five lines sit together: person-major order.
    out = {
        c: np.stack(v, axis=1).reshape(n * k) if n else np.zeros(0, dtype=np.int64)
        for c, v in cols.items()
    }
    return Lines(**out)


# --- writing ----------------------------------------------------------------------------------


@dataclass
class RunResult:
    run: BillingRun
    regular_bills: int = 0
    adjustment_bills: int = 0
    lines: int = 0


def _existing(
    employer_ids: list[int], month: Month
) -> dict[tuple[int, int, int], tuple[int, int, int, bool]]:
    """(employer, person, insurance) → (employer sum, employee sum, last base, decided) over issued
    bills; ``decided``: a decision's correction fixed the amounts (BillLine.FLAG_DECIDED)."""
    if not employer_ids:
        return {}
    marks = ", ".join(["%s"] * len(employer_ids))
    sums_sql = f"""
        SELECT b.employer_id, l.person_id, l.insurance, SUM(l.employer_amount), SUM(l.employee_amount), MAX(l.id),
               MAX(l.flags & {BillLine.FLAG_DECIDED})
        FROM billing_billline l JOIN billing_bill b ON b.id = l.bill_id
        WHERE b.month = %s AND b.employer_id IN ({marks})
        GROUP BY b.employer_id, l.person_id, l.insurance
    """  # noqa: S608 - placeholders only
    with connection.cursor() as cursor:
        cursor.execute(sums_sql, [str(month), *employer_ids])
        sums = cursor.fetchall()
        last_ids = [row[5] for row in sums]
        bases: dict[int, int] = {}
        for start in range(0, len(last_ids), 5000):
            chunk = last_ids[start : start + 5000]
            cursor.execute(
                f"SELECT id, base FROM billing_billline WHERE id IN ({', '.join(['%s'] * len(chunk))})",  # noqa: S608
                chunk,
            )
            bases.update(cursor.fetchall())
    return {(r[0], r[1], r[2]): (int(r[3]), int(r[4]), bases[r[5]], bool(r[6])) for r in sums}


PolicyFields = Callable[[int, bool], dict[str, Any]]


def _policy_fields(
    snapshot: PolicySnapshot,
    cohort: Cohort,
    masks: dict[str, npt.NDArray[np.bool_]],
) -> PolicyFields:
    """For each employer of the batch: the bill's policy, summary status and sources. What only
    some bills used is found from the cohort: employees exempted under an agreement, employers
    with no work-injury rating (the assumed rate is a CONVENTION)."""

    by_country = agreements()
    no_rating = set(np.unique(cohort.employer[cohort.work_injury <= 0]).tolist())
    exempt = np.zeros(len(cohort.person), dtype=np.bool_)
    for mask in masks.values():
        exempt |= mask
    used: dict[int, set[str]] = {}
    for e, nat in zip(
        cohort.employer[exempt].tolist(), cohort.nationality[exempt].tolist(), strict=True
    ):
        used.setdefault(int(e), set()).add(str(nat))
    memo: dict[tuple[bool, bool, tuple[str, ...]], tuple[str, dict[str, Any]]] = {}

    def fields(employer_id: int, adjustment: bool) -> dict[str, Any]:
        countries = tuple(sorted(c for c in used.get(employer_id, ()) if c in by_country))
        key = (adjustment, employer_id in no_rating, countries)
        if key not in memo:
            memo[key] = bill_record(
                snapshot.data,
                adjustment=adjustment,
                default_work_injury=key[1],
                agreements=[by_country[c] for c in countries],
            )
        status, sources = memo[key]
        return {"policy": snapshot, "policy_status": status, "policy_sources": sources}

    return fields


def _write_batch(
    policy: RegionPolicy,
    month: Month,
    period: Period,
    employer_ids: list[int],
    run: BillingRun,
    reason: str,
    issued_on: date,
    snapshot: PolicySnapshot,
    version: str,
    partition: BillingPartition | None = None,
) -> tuple[int, int, int, int]:
    """One transaction: lock the employers, compute, diff, write. Returns (regular, adjustment, lines, people).

    Within a ``partition``, its counters are written (the run's are summed from them after the
    commit, :func:`_sum_partitions`), and its row is locked first and the batch is skipped when the partition's
    ``done_through`` already covers it (the same partition worked twice): each batch is written
    and counted once, and the cursor moves in the batch's own transaction."""
    code = policy.code
    due = policy.due_date(month)
    adjustment_due = policy.adjustment_due_date(month, issued_on)
    with transaction.atomic():
        if partition is not None:
            done_through = (
                BillingPartition.objects.select_for_update()
                .filter(pk=partition.pk)
                .values_list("done_through", flat=True)
                .get()
            )
            if max(employer_ids) <= done_through:
                return 0, 0, 0, 0
        list(
            Employer.objects.select_for_update()
            .filter(pk__in=employer_ids)
            .values_list("pk", flat=True)
        )
        cohort = load_cohort(month, period, employer_ids)
        masks = exemption_masks(month, cohort.nationality, cohort.certificate)
        lines = compute(policy, month, period, cohort, masks)
        fields = _policy_fields(snapshot, cohort, masks)
        existing = _existing(employer_ids, month)
        billed = {e for (e, _, _) in existing}
        regular_employers = sorted(set(employer_ids) - billed)
        n_regular = n_adjust = n_lines = 0
        # Fast path: employers with no bill this month get a regular bill of all their lines.
        if regular_employers:
            mask = np.isin(lines.employer, np.array(regular_employers, dtype=np.int64))
            bill_ids = _create_bills(
                code, month, version, due, run, lines, mask, BillKind.REGULAR, "", fields
            )
            if bill_ids:
                sel = {c: getattr(lines, c)[mask] for c in Lines.__dataclass_fields__}
                sel["bill_id"] = np.array(
                    [bill_ids[e] for e in sel["employer"].tolist()], dtype=np.int64
                )
                sel["person_id"] = sel["person"]
                n_lines += write_lines(sel)
                n_regular += len(bill_ids)
        if billed:
            a_bills, a_lines = _adjust(
                code,
                month,
                version,
                adjustment_due,
                run,
                lines,
                existing,
                sorted(billed),
                reason,
                fields,
            )
            n_adjust += a_bills
            n_lines += a_lines
        if partition is None:
            BillingRun.objects.filter(pk=run.pk).update(
                employers_done=F("employers_done") + len(employer_ids),
                people=F("people") + len(cohort.person),
                lines_written=F("lines_written") + n_lines,
                heartbeat_at=timezone.now(),
            )
        else:
            # The partition's own row, not the run's: two workers' batches would otherwise queue
            # on the run's row lock through their commits (and the deferred foreign-key checks).
            BillingPartition.objects.filter(pk=partition.pk).update(
                done_through=max(employer_ids),
                employers_done=F("employers_done") + len(employer_ids),
                people=F("people") + len(cohort.person),
                lines_written=F("lines_written") + n_lines,
                heartbeat_at=timezone.now(),
            )
    return n_regular, n_adjust, n_lines, len(cohort.person)


def _create_bills(
    code: str,
    month: Month,
    version: str,
    due: date,
    run: BillingRun,
    lines: Lines,
    mask: npt.NDArray[np.bool_],
    kind: str,
    reason: str,
    fields: PolicyFields,
) -> dict[int, int]:
    employers = lines.employer[mask]
    if not len(employers):
        return {}
    uniq, inverse = np.unique(employers, return_inverse=True)
    er_tot = np.bincount(inverse, weights=lines.employer_amount[mask]).astype(np.int64)
    ee_tot = np.bincount(inverse, weights=lines.employee_amount[mask]).astype(np.int64)
    medical = mask & (lines.insurance == MEDICAL)
    summary = medical_summaries(lines.employer[medical], lines.person[medical])
    bills = [
        Bill(
            employer_id=int(e),
            region_code=code,
            month=str(month),
            kind=kind,
            number=f"{code}-{month}-{int(e):08d}",
            run=run,
            policy_version=version,
            employer_total=int(er_tot[i]),
            employee_total=int(ee_tot[i]),
            due_date=due,
            reason=reason,
            medical_people=None if summary is None else summary.get(int(e), (0, 0))[0],
            medical_hash=None if summary is None else summary.get(int(e), (0, 0))[1],
            **fields(int(e), kind == BillKind.ADJUSTMENT),
        )
        for i, e in enumerate(uniq)
    ]
    created = Bill.objects.bulk_create(bills)
    if any(b.pk is None for b in created):  # backends that cannot return ids
        by_number = dict(
            Bill.objects.filter(number__in=[b.number for b in bills]).values_list("number", "id")
        )
        return {b.employer_id: by_number[b.number] for b in bills}
    return {b.employer_id: int(b.pk) for b in created}


def _adjust(
    code: str,
    month: Month,
    version: str,
    due: date,
    run: BillingRun,
    lines: Lines,
    existing: dict[tuple[int, int, int], tuple[int, int, int, bool]],
    employers: list[int],
    reason: str,
    fields: PolicyFields,
) -> tuple[int, int]:
    """Adjustment bills holding only the differences, each line saying old → new and why. A
    person-insurance whose amounts a decision fixed is left as decided (billing/corrections.py)."""
    target: dict[tuple[int, int, int], int] = {}
    sel = np.isin(lines.employer, np.array(employers, dtype=np.int64))
    idx = np.nonzero(sel)[0]
    for i in idx.tolist():
        target[(int(lines.employer[i]), int(lines.person[i]), int(lines.insurance[i]))] = i
    keys = sorted(set(target) | {k for k in existing if k[0] in set(employers)})
    rows: dict[int, list[tuple[int, int, int, int, int, int, int, int, str]]] = {}
    why = reason or "recalculated: inputs or policy figures changed since the last bill"
    for key in keys:
        old_er, old_ee, old_base, decided = existing.get(key, (0, 0, 0, False))
        if decided:
            continue
        found = target.get(key)
        if found is None:
            new_er = new_ee = new_base = er_rate = ee_rate = flags = 0
        else:
            i = found
            new_er, new_ee = int(lines.employer_amount[i]), int(lines.employee_amount[i])
            new_base, er_rate, ee_rate = (
                int(lines.base[i]),
                int(lines.employer_rate[i]),
                int(lines.employee_rate[i]),
            )
            flags = int(lines.flags[i])
        if new_er == old_er and new_ee == old_ee:
            continue
        ins = INSURANCES[key[2]]
        note = (
            f"{ins}: base {format_yuan(old_base)} → {format_yuan(new_base)}; employer {format_yuan(old_er)} → "
            f"{format_yuan(new_er)}; employee {format_yuan(old_ee)} → {format_yuan(new_ee)}. {why}"
        )[:300]
        rows.setdefault(key[0], []).append(
            (
                key[1],
                key[2],
                new_base,
                er_rate,
                ee_rate,
                new_er - old_er,
                new_ee - old_ee,
                flags,
                note,
            )
        )
    n_lines = 0
    for employer_id, items in rows.items():
        count = Bill.objects.filter(
            employer_id=employer_id, month=str(month), kind=BillKind.ADJUSTMENT
        ).count()
        bill = Bill.objects.create(
            employer_id=employer_id,
            region_code=code,
            month=str(month),
            kind=BillKind.ADJUSTMENT,
            number=f"{code}-{month}-{employer_id:08d}-A{count + 1}",
            run=run,
            policy_version=version,
            employer_total=sum(r[5] for r in items),
            employee_total=sum(r[6] for r in items),
            due_date=due,
            reason=why[:300],
            **fields(employer_id, True),
        )
        cols = {
            "bill_id": np.full(len(items), bill.pk, dtype=np.int64),
            "person_id": np.array([r[0] for r in items], dtype=np.int64),
            "insurance": np.array([r[1] for r in items], dtype=np.int64),
            "base": np.array([r[2] for r in items], dtype=np.int64),
            "employer_rate": np.array([r[3] for r in items], dtype=np.int64),
            "employee_rate": np.array([r[4] for r in items], dtype=np.int64),
            "employer_amount": np.array([r[5] for r in items], dtype=np.int64),
            "employee_amount": np.array([r[6] for r in items], dtype=np.int64),
            "flags": np.array([r[7] for r in items], dtype=np.int64),
        }
        n_lines += write_lines(cols, notes=[r[8] for r in items])
    return len(rows), n_lines


# --- the run ----------------------------------------------------------------------------------


def _one_run_per_month[**P](func: Callable[P, RunResult]) -> Callable[P, RunResult]:
    """Two runs of one region and month (the CLI and a background job, say) queue, not interleave:
    on PostgreSQL the run holds a session advisory lock on (region, month), so the second waits
    for the first and then finds nothing left to write. SQLite lets one writer in at a time and
    its connections wait for the lock (settings.database_from_url), batch by batch."""

    @functools.wraps(func)
    def locked(*args: P.args, **kwargs: P.kwargs) -> RunResult:
        if connection.vendor != "postgresql":
            return func(*args, **kwargs)
        region_code, month = cast(RegionPolicy, kwargs["policy"]).code, kwargs["month"]
        digest = hashlib.sha256(f"expatsi.billing_run:{region_code}:{month}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s::bigint)", [key])
            row = cursor.fetchone()
            if not (row and row[0]):
                log.info("billing %s %s: waiting for the run in progress", region_code, month)
                cursor.execute("SELECT pg_advisory_lock(%s::bigint)", [key])
        try:
            return func(*args, **kwargs)
        finally:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s::bigint)", [key])
            except DatabaseError:  # an aborted outer transaction: the lock goes with the connection
                log.warning("billing %s %s: run lock not released", region_code, month)

    return locked


def mark_interrupted(runs: QuerySet[BillingRun]) -> int:
    """Record as interrupted the running runs among ``runs`` whose lease expired (their worker is
    gone). Returns how many. Their bills stay: they are whole batches, and a new run completes them."""
    cutoff = lease_cutoff()
    stale = runs.filter(status=RunStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    return stale.update(status=RunStatus.INTERRUPTED, finished_at=timezone.now())


def plan_partitions(employers: list[int], count: int) -> list[tuple[int, int, int]]:
    """Split the sorted ``employers`` into at most ``count`` contiguous id ranges of at least one
    batch each: (lowest id, highest id, employers). The ranges cover every id, so an employer
    that appears while the run works (a higher id) falls in the last one."""
    if not employers:
        return []
    count = max(1, min(count, -(-len(employers) // batch_size())))
    bounds = [len(employers) * i // count for i in range(count + 1)]
    plan = []
    for i in range(count):
        lowest = 0 if i == 0 else employers[bounds[i]]
        highest = employers[bounds[i + 1]] - 1 if i < count - 1 else 2**62
        plan.append((lowest, highest, bounds[i + 1] - bounds[i]))
    return plan


def _start(
    *,
    actor: Actor,
    policy: RegionPolicy,
    month: Month,
    kind: str,
    employers: list[int],
    job: BillingJob | None,
    reason: str,
    partitions: int = 1,
) -> BillingRun:
    """The run's record, its partitions and its audit event, in one transaction: no bill is ever
    written by a run whose starter the audit trail does not name, and the trail names the run once
    however many partitions and workers bill it."""
    with transaction.atomic():
        plan = plan_partitions(employers, partitions)
        run = BillingRun.objects.create(
            region_code=policy.code,
            month=str(month),
            kind=kind,
            employers_total=len(employers),
            started_by=actor.label[:200],
            heartbeat_at=timezone.now(),
            job=job,
            attempt=job.attempt if job is not None else 1,
            # Nothing to bill: done at once.
            status=RunStatus.RUNNING if plan else RunStatus.DONE,
            finished_at=None if plan else timezone.now(),
        )
        BillingPartition.objects.bulk_create(
            BillingPartition(
                run=run,
                number=i,
                employer_from=lowest,
                employer_to=highest,
                employers_total=total,
            )
            for i, (lowest, highest, total) in enumerate(plan)
        )
        audit_record(
            actor=actor,
            action=f"billing.{kind}",
            object_type="billing_run",
            object_id=run.pk,
            detail={
                "region": policy.code,
                "month": str(month),
                "employers": len(employers),
                "job": job.key if job is not None else None,
                "attempt": run.attempt,
                "reason": reason[:300],
                "partitions": len(plan),
            },
        )
    return run


def start_month(
    *,
    actor: Actor,
    policy: RegionPolicy,
    month: Month,
    reason: str = "",
    kind: str = "run",
    job: BillingJob | None = None,
    partitions: int | None = None,
) -> BillingRun:
    """Record a run of ``policy``'s region for ``month`` split into partitions (default
    :func:`partition_count`), for workers to bill with :func:`work_partition`. Earlier runs of the
    month whose lease expired are recorded as interrupted first."""
    period = policy.period_for(month)
    snapshot_for(policy, period, policy_version(policy, str(period.span.first)))
    mark_interrupted(BillingRun.objects.filter(region_code=policy.code, month=str(month)))
    return _start(
        actor=actor,
        policy=policy,
        month=month,
        kind=kind,
        employers=employers_to_bill(policy.code, month),
        job=job,
        reason=reason,
        partitions=partition_count() if partitions is None else partitions,
    )


def _partition_key(partition_id: int) -> int:
    digest = hashlib.sha256(f"expatsi.billing_partition:{partition_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _sum_partitions(run: BillingRun) -> None:
    """The run's progress fields := the sum over its partitions (each counts its committed batches
    once), and a heartbeat. A short statement of its own after each batch: recomputed, not added,
    so a worker killed between a batch and this leaves nothing to correct."""
    sums = BillingPartition.objects.filter(run_id=run.pk)
    BillingRun.objects.filter(pk=run.pk).update(
        employers_done=Coalesce(
            Subquery(
                sums.values("run_id").annotate(v=Sum("employers_done")).values("v")[:1],
                output_field=models.PositiveIntegerField(),
            ),
            0,
        ),
        people=Coalesce(
            Subquery(
                sums.values("run_id").annotate(v=Sum("people")).values("v")[:1],
                output_field=models.PositiveIntegerField(),
            ),
            0,
        ),
        lines_written=Coalesce(
            Subquery(
                sums.values("run_id").annotate(v=Sum("lines_written")).values("v")[:1],
                output_field=models.BigIntegerField(),
            ),
            0,
        ),
        heartbeat_at=timezone.now(),
    )


def _try_partition_lock(partition_id: int) -> bool:
    """PostgreSQL: a session advisory lock on the partition, held while a worker bills it. A killed
    worker's connection closes and its lock goes at once, so a partition marked running whose lock
    is free has lost its worker (no lease to wait for). Elsewhere (SQLite: one worker) always True."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s::bigint)", [_partition_key(partition_id)])
        row = cursor.fetchone()
    return bool(row and row[0])


def _release_partition_lock(partition_id: int) -> None:
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s::bigint)", [_partition_key(partition_id)])
    except DatabaseError:  # an aborted outer transaction: the lock goes with the connection
        log.warning("billing partition %s: lock not released", partition_id)


def orphaned_partitions(run: BillingRun) -> list[int]:
    """Partitions of ``run`` that a worker started and lost (killed, crashed): marked running, tried
    at least once, and on PostgreSQL their lock is free; elsewhere their heartbeat is older than
    the lease. Partitions still queued (never tried) are not orphans: a worker will claim them."""
    started = run.partitions.filter(status=RunStatus.RUNNING, attempts__gt=0).order_by("number")
    if connection.vendor != "postgresql":
        # no heartbeat: its last attempt raised and it waits to be tried again (_work_partition)
        started = started.filter(Q(heartbeat_at__lt=lease_cutoff()) | Q(heartbeat_at__isnull=True))
    found = []
    for pk in started.values_list("pk", flat=True):
        if connection.vendor == "postgresql":
            if not _try_partition_lock(pk):
                continue
            _release_partition_lock(pk)
        found.append(pk)
    return found


def partition_awaits_retry(partition_id: int) -> bool:
    """Whether the partition's last attempt raised and it is to be tried again (see
    :func:`_work_partition`): still running, its run too, with no heartbeat."""
    return BillingPartition.objects.filter(
        pk=partition_id,
        status=RunStatus.RUNNING,
        heartbeat_at__isnull=True,
        attempts__gt=0,
        run__status=RunStatus.RUNNING,
    ).exists()


def work_partition(
    *,
    policy: RegionPolicy,
    partition_id: int,
    reason: str = "",
    issued_on: date | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Bill one partition (skipped while another live worker holds it), then any partition of the
    same run whose worker was lost: see :func:`_work_partition` and :func:`orphaned_partitions`."""
    result = _locked_partition(policy, partition_id, reason, issued_on, progress)
    if result is None:
        return RunResult(BillingPartition.objects.select_related("run").get(pk=partition_id).run)
    if progress is None:
        for orphan in orphaned_partitions(result.run):
            log.warning(
                "billing run %s: partition %s lost its worker, retried", result.run.pk, orphan
            )
            try:
                again = _locked_partition(policy, orphan, reason, issued_on, None)
            except Exception:
                # the orphan's own row records the failure (and whether it is tried again); this
                # worker's partition is done and must not be reported as failed
                log.exception("billing run %s: partition %s failed again", result.run.pk, orphan)
                continue
            if again is not None:
                result.regular_bills += again.regular_bills
                result.adjustment_bills += again.adjustment_bills
                result.lines += again.lines
        result.run.refresh_from_db()
    return result


def _locked_partition(
    policy: RegionPolicy,
    partition_id: int,
    reason: str,
    issued_on: date | None,
    progress: Progress | None,
) -> RunResult | None:
    if not _try_partition_lock(partition_id):
        return None  # a live worker is on it
    try:
        return _work_partition(policy, partition_id, reason, issued_on, progress)
    finally:
        _release_partition_lock(partition_id)


def _work_partition(
    policy: RegionPolicy,
    partition_id: int,
    reason: str,
    issued_on: date | None,
    progress: Progress | None,
) -> RunResult:
    """Bill one partition of a run, batch by batch from where it stands (``done_through``): a
    partition whose worker was killed, or whose task is delivered twice, is worked again with no
    bill or line written twice. The last partition to finish marks the run done. A failure is
    tried again, up to ``EXPATSI_BILLING_PARTITION_ATTEMPTS`` attempts in all (a lost connection
    or a deadlock must not fail a national run); the last one marks the partition and the run
    failed. A partition of a run no longer running (failed, or recorded
    as interrupted when its job was resumed under a new run) is left alone."""
    issued_on = issued_on or timezone.localdate()
    with transaction.atomic():
        part = (
            BillingPartition.objects.select_for_update().select_related("run").get(pk=partition_id)
        )
        run = part.run
        result = RunResult(run)
        if part.status == RunStatus.DONE or run.status != RunStatus.RUNNING:
            return result
        BillingPartition.objects.filter(pk=part.pk).update(
            attempts=F("attempts") + 1,
            status=RunStatus.RUNNING,
            heartbeat_at=timezone.now(),
            error="",
        )
    month = Month.parse(run.month)
    period = policy.period_for(month)
    version = policy_version(policy, str(period.span.first))
    snapshot = snapshot_for(policy, period, version)
    employers = employers_to_bill(
        policy.code, month, max(part.employer_from, part.done_through + 1), part.employer_to
    )
    size = batch_size()
    done_before = part.employers_done
    try:
        for start in range(0, len(employers), size):
            chunk = employers[start : start + size]
            BillingRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
            regular, adjust, lines, _ = _write_batch(
                policy, month, period, chunk, run, reason, issued_on, snapshot, version, part
            )
            _sum_partitions(run)
            result.regular_bills += regular
            result.adjustment_bills += adjust
            result.lines += lines
            if progress:
                done = done_before + min(start + size, len(employers))
                progress(min(done, run.employers_total), run.employers_total)
    except Exception as exc:
        now = timezone.now()
        if part.attempts + 1 < partition_attempts():
            # Tried again from its last committed batch, by its task queued again
            # (tasks.billing_partition) or by the next worker to finish another partition
            # (orphaned_partitions): left running, its heartbeat cleared, the error kept to show.
            BillingPartition.objects.filter(pk=part.pk).update(
                error=str(exc)[:2000], heartbeat_at=None
            )
            raise
        BillingPartition.objects.filter(pk=part.pk).update(
            status=RunStatus.FAILED, error=str(exc)[:2000], heartbeat_at=now
        )
        BillingRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=str(exc)[:2000], finished_at=now
        )
        raise
    with transaction.atomic():
        locked = BillingRun.objects.select_for_update().get(pk=run.pk)
        BillingPartition.objects.filter(pk=part.pk).update(
            status=RunStatus.DONE, heartbeat_at=timezone.now()
        )
        _sum_partitions(run)
        if locked.status == RunStatus.RUNNING and not (
            locked.partitions.exclude(status=RunStatus.DONE).exists()
        ):
            BillingRun.objects.filter(pk=run.pk).update(
                status=RunStatus.DONE, finished_at=timezone.now()
            )
    run.refresh_from_db()
    return result


@_one_run_per_month
def run_month(
    *,
    actor: Actor,
    policy: RegionPolicy,
    month: Month,
    progress: Progress | None = None,
    reason: str = "",
    kind: str = "run",
    job: BillingJob | None = None,
    issued_on: date | None = None,
) -> RunResult:
    """Bill ``policy``'s region for ``month`` in this process; safe to run again at any time.
    Starting again after an interrupted run resumes it: the interrupted run is recorded as such,
    and this run writes only what is still missing. ``issued_on`` (default today) dates the
    adjustment bills: each is due by the region's adjustment rule counted from that day, not on
    the month's old due date. The same code as a job's workers run, with one partition.

    The caller has checked that ``actor`` may bill the region (:mod:`expatsi.billing.services`)."""
    run = start_month(
        actor=actor, policy=policy, month=month, reason=reason, kind=kind, job=job, partitions=1
    )
    result = RunResult(run)
    for part in run.partitions.order_by("number"):
        done = work_partition(
            policy=policy,
            partition_id=part.pk,
            reason=reason,
            issued_on=issued_on,
            progress=progress,
        )
        result.regular_bills += done.regular_bills
        result.adjustment_bills += done.adjustment_bills
        result.lines += done.lines
    run.refresh_from_db()
    return result


def billed_months(region_code: str, first: Month, last: Month) -> list[Month]:
    """The months from ``first`` to ``last`` with bills in the region: what a recalculation re-runs."""
    months = (
        Bill.objects.filter(region_code=region_code, month__gte=str(first), month__lte=str(last))
        .values_list("month", flat=True)
        .distinct()
    )
    return sorted(Month.parse(m) for m in months)


def recalculation_reason(policy: RegionPolicy, month: Month) -> str:
    """What an adjustment bill of a recalculation says: the policy period it was recomputed with."""
    period = policy.period_for(month)
    return (
        f"recalculated with policy {period.span.first}…{period.span.last or ''} "
        f"({policy_version(policy, str(period.span.first))})"
    )
