"""The compliance checks: one SQL query per rule over the whole population in scope.

Each check reads every subject it concerns in one statement (joins and ``EXISTS``, no loop per
person) and returns :class:`Hit` rows; amounts that need the contribution rules are then computed
for all hits at once with the rules engine's NumPy batch. Severity, parameters and the fines a
finding can lead to come from ``policies/compliance.toml`` (``registry.py``); the regional legacy
rules there (Shanghai Notice No. 38 [2009]) suspend a check for people with an opt-out on file
while they were in force.

The SQL is the subset SQLite and PostgreSQL share: dates are compared as values or, against a
bill's ``YYYY-MM`` month, as ISO text (``CAST(d AS TEXT) < month || '-01'``), which orders the
same way.

``evidence`` is what a finding rests on and what "its evidence changed" means (a dismissed finding
reopens when it does); ``figures`` are the numbers that move with the calendar alone (late fees,
months counted) and never reopen anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection

from expatsi.rules.contributions import contributions_batch
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.penalties import fine_range, late_fee
from expatsi.rules.regions import INSURANCES, region, regions

if TYPE_CHECKING:
    from expatsi.cases.registry import ComplianceRule, LegacyRule

PERMIT_KINDS = ("work_permit", "integrated_card", "press_card")
WORK_DOCUMENT_KINDS = (*PERMIT_KINDS, "permanent_resident_id")
FLAG_EXEMPT = 1  # BillLine.FLAG_EXEMPT: the billing run exempted this line under an agreement
# Every person billed for a month has a medical line: a regular bill carries all five insurances,
# and an adjustment from nothing carries medical, which no agreement exempts (agreements.py
# NEVER_EXEMPT) and whose base is never 0. Looking for it alone reads a fifth of the lines.
MEDICAL = INSURANCES.index("medical")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which employers a scan looks at, as of which day. ``regions`` None: every region.
    ``employer_from``/``employer_to``: only employer ids in that range, both ends included (a
    partition of a scan shared by several workers, cases/scan_pool.py); None: no bound."""

    as_of: date
    regions: tuple[str, ...] | None = None
    employer_id: int | None = None
    employer_from: int | None = None
    employer_to: int | None = None

    def sql(self, alias: str = "emp") -> tuple[str, list[Any]]:
        """`` AND …`` restricting the employer row ``alias`` to the scope."""
        parts: list[str] = []
        params: list[Any] = []
        if self.regions is not None:
            if not self.regions:
                return " AND 1 = 0", []
            parts.append(f"{alias}.region_code IN ({', '.join(['%s'] * len(self.regions))})")
            params += list(self.regions)
        if self.employer_id is not None:
            parts.append(f"{alias}.id = %s")
            params.append(self.employer_id)
        if self.employer_from is not None or self.employer_to is not None:
            parts.append(f"{alias}.id BETWEEN %s AND %s")
            params += [
                self.employer_from or 0,
                2**62 if self.employer_to is None else self.employer_to,
            ]
        return "".join(f" AND {p}" for p in parts), params

    def region_codes(self) -> list[str]:
        return sorted(self.regions) if self.regions is not None else sorted(regions())


@dataclass(slots=True)
class Hit:
    employer_id: int
    person_id: int | None
    period: str
    region_code: str
    evidence: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)
    amount_fen: int = 0

    def key(self, rule: str) -> str:
        return f"{rule}|{self.employer_id}|{self.person_id or ''}|{self.period}"


@dataclass(frozen=True, slots=True)
class Check:
    run: Callable[[Scope, ComplianceRule, list[LegacyRule]], list[Hit]]
    params: tuple[str, ...] = ()
    # Whether a run as of the scope's day looks at ``period`` at all: a finding it did not look
    # at is not resolved by its absence (a month beyond the lookback may still be unbilled).
    looks_at: Callable[[Scope, ComplianceRule, str], bool] | None = None
    # Relative cost of the check and the store of its findings at scale (tenths of a second that
    # a worker of the pool spent on the rule in a first scan of 1,000,000 employees, two workers,
    # bench/compliance.py): a queued scan hands the heaviest rules to the workers first, so that
    # no worker starts a long rule when the others are nearly done.
    weight: int = 1


# --- helpers ------------------------------------------------------------------------------------


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def _day(value: Any) -> date | None:
    """A date column as read: a date on PostgreSQL, ISO text on SQLite."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _iso(value: Any) -> str | None:
    d = _day(value)
    return d.isoformat() if d else None


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _policy_month(code: str, month: Month) -> Month | None:
    """``month`` if the region's policy covers it, else the nearest month it covers (an estimate
    for a month before the first or after the last period on file); None without a policy."""
    try:
        policy = region(code)
    except RuleError:
        return None
    if not policy.periods:
        return None
    firsts = [p.span.first for p in policy.periods]
    lasts = [p.span.last for p in policy.periods]
    if any(p.span.contains(month) for p in policy.periods):
        return month
    earliest = min(firsts)
    if month < earliest:
        return earliest
    latest = max((m for m in lasts if m is not None), default=None)
    return latest if latest is not None else month


def monthly_premiums(code: str, month: Month, wages: Sequence[int]) -> tuple[list[int], str]:
    """Employer plus employee contributions for one month on each wage (the rules engine's batch,
    default work-injury rate, no exemption), and the policy month used ("" without a policy)."""
    if not wages:
        return [], ""
    used = _policy_month(code, month)
    if used is None:
        return [0] * len(wages), ""
    batch = contributions_batch(
        region_code=code, month=used, wages=np.asarray(list(wages), dtype=np.int64)
    )
    total = batch.employer_total + batch.employee_total
    return [int(x) for x in total.tolist()], str(used)


def _estimate(hits: list[Hit], wages: list[int], months_of: Callable[[Hit], Month]) -> list[int]:
    """One month's premiums per hit, computed in one batch per (region, month)."""
    out = [0] * len(hits)
    groups: dict[tuple[str, Month], list[int]] = {}
    for i, hit in enumerate(hits):
        groups.setdefault((hit.region_code, months_of(hit)), []).append(i)
    for (code, month), idx in groups.items():
        amounts, used = monthly_premiums(code, month, [wages[i] for i in idx])
        for i, amount in zip(idx, amounts, strict=True):
            out[i] = amount
            hits[i].figures["policy_month"] = used
    return out


def _legacy_clause(
    legacy: list[LegacyRule],
    person: str,
    employer: str,
    region_alias: str,
    when: Callable[[LegacyRule], bool],
) -> tuple[str, list[Any]]:
    """`` AND NOT (…)`` leaving out people with an opt-out on file under a legacy rule for which
    ``when`` holds (the rule still suspends the obligation at the point the check looks at)."""
    sql, params = "", []
    for lr in legacy:
        if not when(lr):
            continue
        sql += (
            f" AND NOT ({region_alias}.region_code = %s AND EXISTS (SELECT 1 FROM cases_optout o "  # noqa: S608
            f"WHERE o.legacy = %s AND o.person_id = {person} AND o.employer_id = {employer} "
            "AND o.signed_on <= %s))"
        )
        params += [lr.region, lr.key, lr.in_force_to]
    return sql, params


def _opted_out_column(
    legacy: list[LegacyRule], person: str, employer: str, region_alias: str
) -> tuple[str, list[Any]]:
    """A column naming the legacy rule under which the person had opted out ('' if none)."""
    if not legacy:
        return "''", []
    whens, params = [], []
    for lr in legacy:
        whens.append(
            f"WHEN {region_alias}.region_code = %s AND EXISTS (SELECT 1 FROM cases_optout o "  # noqa: S608
            f"WHERE o.legacy = %s AND o.person_id = {person} AND o.employer_id = {employer} "
            "AND o.signed_on <= %s) THEN %s"
        )
        params += [lr.region, lr.key, lr.in_force_to, lr.key]
    return f"CASE {' '.join(whens)} ELSE '' END", params


def _legacy_evidence(legacy: list[LegacyRule], key: str) -> dict[str, str]:
    lr = next(x for x in legacy if x.key == key)
    return {
        "key": lr.key,
        "document": lr.document,
        "in_force_to": lr.in_force_to.isoformat(),
        "obligation_from": lr.obligation_from.isoformat(),
    }


# --- active permit, no registration after 30 days ----------------------------------------------

# The employments in force with no registration first (a hash anti-join of the employments and
# the registrations, materialized: a few in a hundred), then the permits and cards of those few,
# each by the person's index (scalar subqueries, ``(SELECT 1 … LIMIT 1) IS NOT NULL``, rather than
# EXISTS, which PostgreSQL answered by hashing every document and card of the region). Measured
# at 1,000,000 people: 4.0 s when every employment in force was first checked for a permit (those
# hashes) and then looked up, one by one, in the registrations. The engagement an employment
# continues is looked up the same way, for those few (a LEFT JOIN hashed all 1,000,000
# employments for them: 1.33 s -> 0.93 s in one process without parallel workers, as the pool
# runs it).
_NOT_REGISTERED = """
WITH open AS MATERIALIZED (
  SELECT e.employer_id, e.person_id, e.contract_wage, emp.region_code,
    COALESCE((SELECT eng.start_date FROM insurance_employment eng WHERE eng.id = e.engagement_id),
      e.start_date) AS engaged_from
  FROM insurance_employment e
  JOIN employers_employer emp ON emp.id = e.employer_id
  WHERE e.start_date <= %s AND (e.end_date IS NULL OR e.end_date >= %s)
    AND NOT EXISTS (SELECT 1 FROM insurance_registration r
       WHERE r.person_id = e.person_id AND r.employer_id = e.employer_id
         AND r.status IN ('submitted', 'accepted'))
    {scope}
)
SELECT e.employer_id, e.person_id, e.region_code, e.engaged_from, e.contract_wage,
  (SELECT MIN(d.issued_on) FROM people_document d
     WHERE d.person_id = e.person_id AND d.kind IN ({kinds})) AS first_permit,
  (SELECT MIN(c.valid_from) FROM cards_card c
     WHERE c.person_id = e.person_id AND c.status IN ('active', 'expired', 'deregistered')) AS first_card,
  (SELECT MAX(d.number) FROM people_document d
     WHERE d.person_id = e.person_id AND d.kind IN ({kinds})
       AND d.valid_from <= %s AND (d.valid_to IS NULL OR d.valid_to >= %s)) AS permit_number,
  (SELECT MAX(c.card_number) FROM cards_card c
     WHERE c.person_id = e.person_id AND c.status = 'active'
       AND (c.valid_to IS NULL OR c.valid_to >= %s)) AS card_number,
  {opted_out} AS opted_out
FROM open e
WHERE e.engaged_from <= %s
  AND ((SELECT 1 FROM people_document d
         WHERE d.person_id = e.person_id AND d.kind IN ({kinds})
           AND d.valid_from <= %s AND (d.valid_to IS NULL OR d.valid_to >= %s) LIMIT 1) IS NOT NULL
       OR (SELECT 1 FROM cards_card c
         WHERE c.person_id = e.person_id AND c.status = 'active'
           AND (c.valid_from IS NULL OR c.valid_from <= %s) AND (c.valid_to IS NULL OR c.valid_to >= %s)
         LIMIT 1) IS NOT NULL)
  AND ((SELECT 1 FROM people_document d
         WHERE d.person_id = e.person_id AND d.kind IN ({kinds}) AND d.issued_on <= %s
         LIMIT 1) IS NOT NULL
       OR (SELECT 1 FROM cards_card c
         WHERE c.person_id = e.person_id AND c.valid_from <= %s LIMIT 1) IS NOT NULL)
  {legacy}
"""


def not_registered(scope: Scope, rule: ComplianceRule, legacy: list[LegacyRule]) -> list[Hit]:
    """An employment in force with a permit (or an active card, or a permanent resident ID) in
    force, and no registration submitted or accepted by that employer, although the later of the
    start of employment and the first permit is more than ``days`` days back (SIL Art. 58).

    Under a legacy rule an opted-out person's clock starts on its ``obligation_from`` day."""
    d = scope.as_of
    days = rule.param("days")
    cutoff = d - timedelta(days=days)
    kinds = list(WORK_DOCUMENT_KINDS)
    opted_sql, opted_params = _opted_out_column(legacy, "e.person_id", "e.employer_id", "e")
    legacy_sql, legacy_params = _legacy_clause(
        legacy, "e.person_id", "e.employer_id", "e", lambda lr: lr.obligation_from > cutoff
    )
    scope_sql, scope_params = scope.sql()
    sql = _NOT_REGISTERED.format(
        kinds=_marks(kinds), opted_out=opted_sql, legacy=legacy_sql, scope=scope_sql
    )
    params = [
        d,
        d,  # employment in force
        *scope_params,
        *kinds,  # first_permit
        *kinds,  # permit_number
        d,
        d,
        d,  # card_number
        *opted_params,
        cutoff,
        *kinds,
        d,
        d,
        d,
        d,
        *kinds,
        cutoff,
        cutoff,
        *legacy_params,
    ]
    hits: list[Hit] = []
    wages: list[int] = []
    for row in _rows(sql, params):
        employer_id, person_id, code, engaged, wage, first_permit, first_card = row[:7]
        permit_number, card_number, opted = row[7:10]
        permit_day = min(x for x in (_day(first_permit), _day(first_card)) if x)
        clock = max(_day(engaged) or d, permit_day)
        evidence: dict[str, Any] = {
            "employment_start": _iso(engaged),
            "permit": permit_number or card_number or "",
            "permit_issued_on": permit_day.isoformat(),
            "clock_starts": clock.isoformat(),
        }
        if opted:
            lr_evidence = _legacy_evidence(legacy, str(opted))
            clock = max(clock, date.fromisoformat(lr_evidence["obligation_from"]))
            evidence["legacy"] = lr_evidence
            evidence["clock_starts"] = clock.isoformat()
        deadline = clock + timedelta(days=days)
        if deadline >= d:
            continue
        evidence["deadline"] = deadline.isoformat()
        hit = Hit(
            employer_id=employer_id,
            person_id=person_id,
            period=_iso(engaged) or "",
            region_code=code,
            evidence=evidence,
            figures={"days_late": (d - deadline).days},
        )
        hit.figures["months"] = Month.of(d).minus(Month.of(clock)) + 1
        hits.append(hit)
        wages.append(int(wage))
    monthly = _estimate(hits, wages, lambda h: Month.of(d))
    for hit, amount in zip(hits, monthly, strict=True):
        hit.figures["monthly_premiums_fen"] = amount
        hit.amount_fen = amount * int(hit.figures["months"])
    return hits


# --- registered, month not billed ---------------------------------------------------------------


def _paid_elsewhere(start: str) -> str:
    """The billing run's rule for a month an employment starts after the 1st: the employer the
    person already worked for on the 1st pays it, so the new employer's month is not unbilled.
    ``start`` is the column of the employment's start date; ``r`` the registration, ``months``
    the month checked."""
    return f"""({start} > months.first_day AND EXISTS (
          SELECT 1 FROM insurance_employment o
          WHERE o.person_id = r.person_id AND o.employer_id <> r.employer_id
            AND o.start_date <= months.first_day
            AND (o.end_date IS NULL OR o.end_date >= months.first_day)))"""  # noqa: S608 - a column of ours


# SQLite (and PostgreSQL before the pre-check below, _NOT_BILLED_PG): set-based in two passes,
# each a hash join over the whole region: the months each registered person was billed at each
# employer, folded into one bit mask per (employer, person) (one row per person instead of one per
# person and month), joined to the registrations once (materialized:
# PostgreSQL underestimates the registration-employment join and otherwise hashes every month of
# every person), then the months of employment whose bit is not set. A month missing is decided
# per row before the grouping, so only the few unbilled rows are grouped. Measured (bench/
# compliance.py, twelve billed months, shared machine): at 100,000 people 14.8 s before (a
# DISTINCT of every person-month billed, anti-joined to every person-month expected), 5.3 s with
# the masks; at 1,000,000, back to back, 55.8 s before and 28.9 s as here (17–55 s as the load
# varied; 86 s with the registrations not materialized).
_NOT_BILLED = """
WITH months(m, first_day, last_day, bit) AS (VALUES {months}),
billed AS (
  SELECT b.employer_id, l.person_id, {mask} AS mask
  FROM billing_bill b
  JOIN employers_employer emp ON emp.id = b.employer_id
  JOIN months ON months.m = b.month
  JOIN billing_billline l ON l.bill_id = b.id AND l.insurance = {medical}
  WHERE emp.region_code = %s {scope}
  GROUP BY b.employer_id, l.person_id
),
registered AS MATERIALIZED (
  SELECT r.employer_id, r.person_id, r.insurance_start, e.start_date, e.end_date,
    e.contract_wage, bl.mask
  FROM insurance_registration r
  JOIN employers_employer emp ON emp.id = r.employer_id
  JOIN insurance_employment e ON e.person_id = r.person_id AND e.employer_id = r.employer_id
  LEFT JOIN billed bl ON bl.employer_id = r.employer_id AND bl.person_id = r.person_id
  WHERE r.status = 'accepted' AND emp.region_code = %s {scope}
    AND (bl.mask IS NULL OR bl.mask <> %s)
),
unbilled AS (
  SELECT r.employer_id, r.person_id, months.m, MAX(r.contract_wage) AS wage
  FROM registered r
  JOIN months ON r.insurance_start <= months.last_day
    AND (r.mask IS NULL OR (r.mask & months.bit) = 0)
    AND r.start_date <= months.last_day
    AND (r.end_date IS NULL OR r.end_date >= months.first_day)
  WHERE NOT {paid_by_r}
    {legacy}
  GROUP BY r.employer_id, r.person_id, months.m
)
SELECT x.employer_id, x.m, COUNT(*), {people}
FROM unbilled x
GROUP BY x.employer_id, x.m
"""


# PostgreSQL: proving that an employer-month was billed for everyone it should be is cheap, and
# only the employer-months where it cannot be proved are looked at person by person. Per employer
# and month, the people the billing run bills (employments covering the month, the same rule of
# who pays a month: billing/run.py) are compared with the medical lines on the employer's bills of
# the month, by count and by the sum of a 64-bit hash of the person id (``hashint8extended``).
# Both sides are cheap: an employment is the span of months it covers, and the spans are grouped
# per employer (a few distinct spans each) before they meet the months: no row per person and
# month. The billed side is the pair the billing run wrote on each bill (Bill.medical_people,
# medical_hash: no line read at all; measured at 1,000,000 employees: 1.9 s of the rule's 3.2 s
# went to counting 12 M medical lines); a bill without it (written before the pair existed, an
# adjustment, a correction) has its lines counted on the bill's range of the partial medical
# index (no grouping of millions of lines per person). Equal pairs mean the
# same people, except by a 64-bit coincidence of pseudo-random hashes; the registered people whose
# months this rule checks are among those employed, so then none of them was missed. Where the
# pairs differ (someone missing, billed twice, an adjustment, an employment changed since the run)
# the registered people of that employer-month are checked one by one against that index.
_NOT_BILLED_PG = """
WITH months(m, first_day, last_day, bit) AS (VALUES {months}),
mk AS (
  SELECT m, first_day, last_day,
    CAST(date_part('year', first_day) * 12 + date_part('month', first_day) AS integer) AS k
  FROM months
),
span AS (
  SELECT e.employer_id, hashint8extended(e.person_id, 0) AS h,
    GREATEST(CAST(%s AS integer), CAST(date_part('year', e.start_date) * 12
      + date_part('month', e.start_date) AS integer)
      + CASE WHEN date_part('day', e.start_date) > 1 AND EXISTS (
          SELECT 1 FROM insurance_employment o
          WHERE o.person_id = e.person_id AND o.employer_id <> e.employer_id
            AND o.start_date <= CAST(date_trunc('month', e.start_date) AS date)
            AND (o.end_date IS NULL
                 OR o.end_date >= CAST(date_trunc('month', e.start_date) AS date)))
        THEN 1 ELSE 0 END) AS lo,
    LEAST(CAST(%s AS integer), COALESCE(CAST(date_part('year', e.end_date) * 12
      + date_part('month', e.end_date) AS integer), CAST(%s AS integer))) AS hi
  FROM insurance_employment e
  JOIN employers_employer emp ON emp.id = e.employer_id
  WHERE e.start_date <= %s AND (e.end_date IS NULL OR e.end_date >= %s)
    AND emp.region_code = %s {scope}
),
spans AS (
  SELECT employer_id, lo, hi, COUNT(*) AS n, SUM(h) AS h FROM span
  WHERE lo <= hi GROUP BY employer_id, lo, hi
),
employed AS (
  SELECT sp.employer_id, mk.m, SUM(sp.n) AS n, SUM(sp.h) AS h
  FROM spans sp JOIN mk ON mk.k BETWEEN sp.lo AND sp.hi
  GROUP BY sp.employer_id, mk.m
),
billed AS (
  SELECT b.employer_id, b.month AS m, SUM(COALESCE(b.medical_people, s.n)) AS n,
    SUM(COALESCE(b.medical_hash, s.h)) AS h
  FROM billing_bill b
  JOIN employers_employer emp ON emp.id = b.employer_id
  JOIN mk ON mk.m = b.month
  CROSS JOIN LATERAL (
    SELECT COUNT(*) AS n, SUM(hashint8extended(l.person_id, 0)) AS h FROM billing_billline l
    WHERE b.medical_people IS NULL AND l.bill_id = b.id AND l.insurance = {medical}) s
  WHERE emp.region_code = %s {scope}
  GROUP BY b.employer_id, b.month
),
differ AS MATERIALIZED (
  SELECT x.employer_id, x.m FROM employed x
  LEFT JOIN billed bl ON bl.employer_id = x.employer_id AND bl.m = x.m
  WHERE bl.n IS NULL OR bl.n <> x.n OR bl.h <> x.h
),
unbilled AS (
  SELECT r.employer_id, r.person_id, months.m, MAX(e.contract_wage) AS wage
  FROM differ d
  JOIN months ON months.m = d.m
  JOIN insurance_registration r ON r.employer_id = d.employer_id AND r.status = 'accepted'
    AND r.insurance_start <= months.last_day
  JOIN insurance_employment e ON e.person_id = r.person_id AND e.employer_id = r.employer_id
    AND e.start_date <= months.last_day AND (e.end_date IS NULL OR e.end_date >= months.first_day)
  WHERE NOT EXISTS (SELECT 1 FROM billing_bill b JOIN billing_billline l ON l.bill_id = b.id
          AND l.insurance = {medical} AND l.person_id = r.person_id
          WHERE b.employer_id = r.employer_id AND b.month = months.m)
    AND NOT {paid_by_e}
    {legacy}
  GROUP BY r.employer_id, r.person_id, months.m
)
SELECT x.employer_id, x.m, COUNT(*), {people}
FROM unbilled x
GROUP BY x.employer_id, x.m
"""


def _month_groups(months: list[Month]) -> list[list[Month]]:
    """At most 62 months a query: a month is a bit of a BIGINT mask."""
    return [months[i : i + 62] for i in range(0, len(months), 62)]


def _mask_column() -> str:
    """The OR of a group's month bits. A month can be on several bills of an employer (an
    adjustment beside the regular bill): SQLite, which has no BIT_OR, adds each bit once."""
    if connection.vendor == "postgresql":
        return "BIT_OR(months.bit)"
    return "SUM(DISTINCT months.bit)"


def _people_column() -> str:
    """The unbilled people of a group as 'person:wage,…' (no portable array aggregate)."""
    item = "CAST(x.person_id AS TEXT) || ':' || CAST(x.wage AS TEXT)"
    if connection.vendor == "postgresql":
        return f"string_agg({item}, ',')"
    return f"group_concat({item}, ',')"


def months_not_billed(scope: Scope, rule: ComplianceRule, legacy: list[LegacyRule]) -> list[Hit]:
    """Months of employment of registered people, from their insurance start, whose bill is past
    its due date and carries no line for them at that employer (who pays a month is decided as
    the billing run decides it: the employer whose employment covers its first day). One finding
    per employer and month, naming the people (a month missed by the billing run is one finding,
    not one per person); only the last ``lookback_months``."""
    d = scope.as_of
    lookback = rule.param("lookback_months")
    hits: list[Hit] = []
    wages: list[list[int]] = []
    for code in scope.region_codes():
        try:
            policy = region(code)
        except RuleError:
            continue
        last = Month.of(d)
        months = [last.plus(-i) for i in range(lookback) if policy.due_date(last.plus(-i)) < d]
        if not months:
            continue
        for group in _month_groups(months):
            values = ", ".join(["(%s, %s, %s, CAST(%s AS BIGINT))"] * len(group))
            month_params: list[Any] = []
            for bit, m in enumerate(group):
                month_params += [str(m), m.first_day(), m.last_day(), 1 << bit]
            legacy_sql = ""
            legacy_params: list[Any] = []
            for lr in legacy:
                if lr.region != code:
                    continue
                # months that ended before the obligation began: suspended for the opted-out
                legacy_sql += (
                    " AND NOT (months.last_day < %s AND EXISTS (SELECT 1 FROM cases_optout o "
                    "WHERE o.legacy = %s AND o.person_id = r.person_id AND o.employer_id = r.employer_id "
                    "AND o.signed_on <= %s))"
                )
                legacy_params += [lr.obligation_from, lr.key, lr.in_force_to]
            scope_sql, scope_params = scope.sql()
            if connection.vendor == "postgresql":
                sql = _NOT_BILLED_PG.format(
                    months=values,
                    paid_by_e=_paid_elsewhere("e.start_date"),
                    legacy=legacy_sql,
                    scope=scope_sql,
                    people=_people_column(),
                    medical=int(MEDICAL),
                )
                # The months' bounds as values, not a subquery: PostgreSQL then knows the
                # employments in force are nearly all of them and reads them in one pass
                # (measured at 1,000,000: an index scan in date order, 0.5 s more).
                k = sorted(m.year * 12 + m.month for m in group)
                params = [
                    *month_params,
                    k[0],
                    k[-1],
                    k[-1],
                    max(m.last_day() for m in group),
                    min(m.first_day() for m in group),
                    code,
                    *scope_params,  # employed
                    code,
                    *scope_params,  # billed
                    *legacy_params,  # unbilled
                ]
            else:
                sql = _NOT_BILLED.format(
                    months=values,
                    paid_by_r=_paid_elsewhere("r.start_date"),
                    mask=_mask_column(),
                    legacy=legacy_sql,
                    scope=scope_sql,
                    people=_people_column(),
                    medical=int(MEDICAL),
                )
                params = [
                    *month_params,
                    code,
                    *scope_params,
                    code,
                    *scope_params,
                    (1 << len(group)) - 1,  # billed every month looked at: nothing to find
                    *legacy_params,
                ]
            for employer_id, month, count, people in _rows(sql, params):
                pairs = sorted(
                    tuple(int(x) for x in item.split(":")) for item in str(people).split(",")
                )
                m = Month.parse(str(month))
                hits.append(
                    Hit(
                        employer_id=employer_id,
                        person_id=None,
                        period=str(m),
                        region_code=code,
                        evidence={
                            "month": str(m),
                            "due_date": policy.due_date(m).isoformat(),
                            "people": int(count),
                            "person_ids": [p for p, _ in pairs],
                        },
                        figures={"estimated_on": "contract_wage"},
                    )
                )
                wages.append([w for _, w in pairs])
    # contributions each unbilled person would have owed, in one batch per region and month
    flat = [w for group in wages for w in group]
    owners = [i for i, group in enumerate(wages) for _ in group]
    each = _estimate([hits[i] for i in owners], flat, lambda h: Month.parse(h.period))
    for i, amount in zip(owners, each, strict=True):
        hits[i].amount_fen += amount
    return hits


def _within_lookback(scope: Scope, rule: ComplianceRule, period: str) -> bool:
    earliest = Month.of(scope.as_of).plus(1 - rule.param("lookback_months"))
    return period >= str(earliest)


# --- billed, unpaid past the due date -----------------------------------------------------------

_UNPAID = """
SELECT b.id, b.employer_id, emp.region_code, b.number, b.month, b.kind, b.due_date,
  b.employer_total + b.employee_total AS total, COALESCE(SUM(a.principal), 0) AS paid
FROM billing_bill b
JOIN employers_employer emp ON emp.id = b.employer_id
LEFT JOIN billing_allocation a ON a.bill_id = b.id AND a.paid_on <= %s
WHERE b.due_date < %s {scope}
GROUP BY b.id, b.employer_id, emp.region_code, b.number, b.month, b.kind, b.due_date,
  b.employer_total, b.employee_total
HAVING b.employer_total + b.employee_total - COALESCE(SUM(a.principal), 0) > 0
"""


def unpaid_past_due(scope: Scope, rule: ComplianceRule, legacy: list[LegacyRule]) -> list[Hit]:
    """Bills with principal outstanding after their due date (payments received by the scan day
    counted). The late fee accrued to the scan day is a figure, from the same rule the ledger
    uses (0.05% a day, SIL Art. 86)."""
    d = scope.as_of
    scope_sql, scope_params = scope.sql()
    hits = []
    for bill_id, employer_id, code, number, month, kind, due, total, paid in _rows(
        _UNPAID.format(scope=scope_sql), [d, d, *scope_params]
    ):
        due_day = _day(due) or d
        outstanding = int(total) - int(paid)
        fee = late_fee(outstanding, due_day, d)
        hits.append(
            Hit(
                employer_id=employer_id,
                person_id=None,
                period=str(number),
                region_code=code,
                evidence={
                    "bill_id": bill_id,
                    "bill": number,
                    "month": month,
                    "kind": kind,
                    "due_date": due_day.isoformat(),
                    "total_fen": int(total),
                    "paid_fen": int(paid),
                },
                figures={"days_overdue": fee.days, "late_fee_fen": fee.fee_fen},
                amount_fen=outstanding,
            )
        )
    return hits


# --- contributions after the card was deregistered, or after leaving China ----------------------

# The deregistered cards with no later card at their employer first (a few in a hundred, each
# checked once rather than once per bill line), then the bills of their employer after the
# deregistration, then each such bill's lines of the person summed by the (person, bill) index:
# no row per line to join and sort. Measured at 1,000,000 people (10,000 cards, 30,000 months,
# 150,000 lines), one process without parallel workers as the pool runs it: 0.65 s -> 0.40 s.
_AFTER_DEREGISTRATION = """
WITH gone AS MATERIALIZED (
  SELECT c.person_id, c.employer_id, c.card_number, c.deregistered_on FROM cards_card c
  WHERE c.status = 'deregistered' AND c.deregistered_on IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM cards_card c2 WHERE c2.person_id = c.person_id
          AND c2.employer_id = c.employer_id AND c2.id > c.id AND c2.status <> 'rejected')
)
SELECT x.employer_id, x.person_id, x.region_code, x.month, SUM(x.fen), MAX(x.card_number),
  MAX(x.deregistered_on)
FROM (
  SELECT b.employer_id, g.person_id, emp.region_code, b.month, g.card_number, g.deregistered_on,
    (SELECT SUM(l.employer_amount + l.employee_amount) FROM billing_billline l
     WHERE l.person_id = g.person_id AND l.bill_id = b.id) AS fen
  FROM gone g
  JOIN employers_employer emp ON emp.id = g.employer_id
  JOIN billing_bill b ON b.employer_id = g.employer_id
    AND CAST(g.deregistered_on AS TEXT) < b.month || '-01'
  WHERE b.month <= %s {scope}
) x
GROUP BY x.employer_id, x.person_id, x.region_code, x.month
HAVING SUM(x.fen) > 0
"""


def billed_after_deregistration(
    scope: Scope, rule: ComplianceRule, legacy: list[LegacyRule]
) -> list[Hit]:
    """Months billed for a person at an employer that start after the person's card at that
    employer was deregistered (no later card there): contributions for no employment."""
    scope_sql, scope_params = scope.sql()
    sql = _AFTER_DEREGISTRATION.format(scope=scope_sql)
    return [
        Hit(
            employer_id=employer_id,
            person_id=person_id,
            period=str(month),
            region_code=code,
            evidence={"month": month, "card": card or "", "deregistered_on": _iso(dereg)},
            amount_fen=int(amount),
        )
        for employer_id, person_id, code, month, amount, card, dereg in _rows(
            sql, [str(Month.of(scope.as_of)), *scope_params]
        )
    ]


# Driven by the people who left (a few in a hundred): their exits first, then their lines by the
# (person, bill) index, rather than every line of the region hashed against the exits (measured
# at 1,000,000 people: see docs/scaling.md). One departure per person, the first exit with no
# entry since: two exits in a row (an entry missing from the border records) would otherwise
# count each line once per exit.
_AFTER_EXIT = """
WITH gone AS MATERIALIZED (
  SELECT person_id, date, port FROM (
    SELECT x.person_id, x.date, x.port,
      ROW_NUMBER() OVER (PARTITION BY x.person_id ORDER BY x.date, x.id) AS nth
    FROM people_entryexit x
    WHERE x.direction = 'exit' AND x.date <= %s
      AND NOT EXISTS (SELECT 1 FROM people_entryexit y WHERE y.person_id = x.person_id
            AND y.direction = 'entry' AND y.date > x.date AND y.date <= %s)
  ) exits WHERE nth = 1
)
SELECT b.employer_id, x.person_id, emp.region_code, b.month, SUM({amount}), MIN(x.date),
  MAX(x.port)
FROM gone x
{bills}
JOIN employers_employer emp ON emp.id = b.employer_id
WHERE b.month <= %s {scope}
GROUP BY b.employer_id, x.person_id, emp.region_code, b.month
HAVING SUM({amount}) > 0
"""

# On PostgreSQL the bills of a person who left are found from the (person, bill) index alone (an
# index-only scan in a LATERAL subquery fenced by OFFSET 0: left to itself the planner hashed
# every line of the table rather than look up the lines of ten thousand people, 50 s against
# well under a second), and only the lines of the bills after the exit are then read from the
# table: a person's lines lie on a dozen pages (one per month's bills), and reading all of them
# for the months before the exit cost most of the rule on a cold cache. Measured at 1,000,000
# people (10,000 gone, 600,000 lines, 300,000 after exit), cache dropped: 18.7 s -> 7.2 s;
# warm: 0.94 s -> 0.70 s.
_AFTER_EXIT_BILLS_PG = """
CROSS JOIN LATERAL (SELECT DISTINCT l.bill_id FROM billing_billline l
                    WHERE l.person_id = x.person_id OFFSET 0) lb
JOIN billing_bill b ON b.id = lb.bill_id AND CAST(x.date AS TEXT) < b.month || '-01'
CROSS JOIN LATERAL (SELECT SUM(l.employer_amount + l.employee_amount) AS fen
                    FROM billing_billline l
                    WHERE l.person_id = x.person_id AND l.bill_id = b.id) l
"""
_AFTER_EXIT_BILLS = """
JOIN billing_billline l ON l.person_id = x.person_id
JOIN billing_bill b ON b.id = l.bill_id AND CAST(x.date AS TEXT) < b.month || '-01'
"""


def billed_after_exit(scope: Scope, rule: ComplianceRule, legacy: list[LegacyRule]) -> list[Hit]:
    """Months billed that start after the person's exit from China with no entry since, the exit
    being at least ``min_days_abroad`` days before the scan day (a trip is not a departure)."""
    d = scope.as_of
    abroad_since = d - timedelta(days=rule.param("min_days_abroad"))
    scope_sql, scope_params = scope.sql()
    if connection.vendor == "postgresql":
        bills, amount = _AFTER_EXIT_BILLS_PG, "l.fen"
    else:
        bills, amount = _AFTER_EXIT_BILLS, "l.employer_amount + l.employee_amount"
    sql = _AFTER_EXIT.format(scope=scope_sql, bills=bills, amount=amount)
    return [
        Hit(
            employer_id=employer_id,
            person_id=person_id,
            period=str(month),
            region_code=code,
            evidence={"month": month, "exit_on": _iso(left), "port": port or ""},
            figures={"days_abroad": (d - (_day(left) or d)).days},
            amount_fen=int(amount),
        )
        for employer_id, person_id, code, month, amount, left, port in _rows(
            sql, [abroad_since, d, str(Month.of(d)), *scope_params]
        )
    ]


# --- base declared below the lower limit --------------------------------------------------------

_BELOW_LOWER = """
WITH limits(region_code, period_start, lower_limit) AS (VALUES {limits})
SELECT dcl.employer_id, dcl.person_id, emp.region_code, dcl.period_start, dcl.wage,
  limits.lower_limit, dcl.declared_at
FROM billing_basedeclaration dcl
JOIN (SELECT MAX(id) AS mid FROM billing_basedeclaration
      GROUP BY person_id, employer_id, period_start) latest ON latest.mid = dcl.id
JOIN employers_employer emp ON emp.id = dcl.employer_id
JOIN limits ON limits.region_code = emp.region_code AND limits.period_start = dcl.period_start
WHERE dcl.wage < limits.lower_limit AND dcl.period_start <= %s {scope}
"""


def base_below_lower_limit(
    scope: Scope, rule: ComplianceRule, legacy: list[LegacyRule]
) -> list[Hit]:
    """The latest declaration of a contribution year below the region's lower limit for that
    year (the pension limit). The bill raises the base to the limit; the finding asks why the
    declared wage is lower. Amount: the month's contributions on the difference."""
    limits: list[Any] = []
    rates: dict[tuple[str, str], int] = {}
    for code in scope.region_codes():
        try:
            policy = region(code)
        except RuleError:
            continue
        for period in policy.periods:
            pension = period.rules["pension"]
            limits += [code, str(period.span.first), pension.base_lower]
            ppm = 0
            for name in INSURANCES:
                r = period.rules[name]
                if r.merged_into is None:
                    ppm += (r.employer_rate or 0) + r.employee_rate
            rates[(code, str(period.span.first))] = ppm
    if not limits:
        return []
    scope_sql, scope_params = scope.sql()
    sql = _BELOW_LOWER.format(
        limits=", ".join(["(%s, %s, %s)"] * (len(limits) // 3)), scope=scope_sql
    )
    hits = []
    for employer_id, person_id, code, period_start, wage, lower, _at in _rows(
        sql, [*limits, str(Month.of(scope.as_of)), *scope_params]
    ):
        gap = int(lower) - int(wage)
        ppm = rates.get((code, str(period_start)), 0)
        hits.append(
            Hit(
                employer_id=employer_id,
                person_id=person_id,
                period=str(period_start),
                region_code=code,
                evidence={
                    "period_start": period_start,
                    "declared_fen": int(wage),
                    "lower_limit_fen": int(lower),
                },
                figures={"rate_ppm": ppm, "per": "month"},
                amount_fen=(gap * ppm + 500_000) // 1_000_000,
            )
        )
    return hits


# --- exemption without a certificate of coverage ------------------------------------------------

# The exempted lines (a few in a hundred: read by the partial index of exempted lines, billing
# migration 0009) without a certificate first, then, for those few, whether a later line of the
# insurance replaced them. The predicates are literals so that PostgreSQL can prove the partial
# index applies. Each certificate is turned once into the first and the last month whose first
# day it covers ('YYYY-MM', compared with the bill's month as text), rather than casting two
# dates per exempted line and certificate (measured at 1,000,000 employees, 3.6 M exempted lines:
# 2.9 s before, 2.4 s after).
_EXEMPT_NO_CERTIFICATE = """
WITH covered AS MATERIALIZED (
  SELECT c.person_id, {from_month} AS from_month, {to_month} AS to_month
  FROM insurance_coveragecertificate c
),
exempt AS MATERIALIZED (
  SELECT l.id, l.person_id, l.insurance, l.base, l.employer_rate, l.employee_rate,
    b.employer_id, emp.region_code, b.month
  FROM billing_billline l
  JOIN billing_bill b ON b.id = l.bill_id
  JOIN employers_employer emp ON emp.id = b.employer_id
  WHERE (l.flags & {exempt}) = {exempt} AND b.month <= %s
    AND NOT EXISTS (SELECT 1 FROM covered c WHERE c.person_id = l.person_id
          AND c.from_month <= b.month{collate} AND c.to_month >= b.month{collate})
    {scope}
)
SELECT x.employer_id, x.person_id, x.region_code, x.month,
  SUM((x.base * x.employer_rate + 500000) / 1000000 + (x.base * x.employee_rate + 500000) / 1000000),
  COUNT(*)
FROM exempt x
WHERE NOT EXISTS (SELECT 1 FROM billing_billline l2 JOIN billing_bill b2 ON b2.id = l2.bill_id
        WHERE l2.person_id = x.person_id AND b2.employer_id = x.employer_id AND b2.month = x.month
          AND l2.insurance = x.insurance AND l2.id > x.id)
GROUP BY x.employer_id, x.person_id, x.region_code, x.month
"""
# The first month whose first day is on or after ``valid_from``, and the month of ``valid_to``
# (a NULL date covers nothing, as before). PostgreSQL compares them byte by byte (COLLATE "C":
# the database's own collation would compare 'YYYY-MM' through the locale).
_COVERED_MONTHS = {
    "postgresql": (
        "to_char(date_trunc('month', CAST(c.valid_from AS timestamp) - interval '1 day')"
        " + interval '1 month', 'YYYY-MM') COLLATE \"C\"",
        "to_char(c.valid_to, 'YYYY-MM') COLLATE \"C\"",
        ' COLLATE "C"',
    ),
    "sqlite": (
        "strftime('%%Y-%%m', c.valid_from, '-1 day', 'start of month', '+1 month')",
        "strftime('%%Y-%%m', c.valid_to)",
        "",
    ),
}


def exemption_without_certificate(
    scope: Scope, rule: ComplianceRule, legacy: list[LegacyRule]
) -> list[Hit]:
    """Bill lines exempted under an agreement (the latest line of that insurance for the month)
    for a month whose first day no certificate of coverage of the person covers. Amount: what
    the exempted lines would have cost at their own base and rates."""
    scope_sql, scope_params = scope.sql()
    from_month, to_month, collate = _COVERED_MONTHS[connection.vendor]
    sql = _EXEMPT_NO_CERTIFICATE.format(
        scope=scope_sql,
        exempt=int(FLAG_EXEMPT),
        from_month=from_month,
        to_month=to_month,
        collate=collate,
    )
    params = [str(Month.of(scope.as_of)), *scope_params]
    if connection.vendor == "postgresql":
        # Misled by the partial index's estimate (a twelfth of the exempted lines), PostgreSQL
        # otherwise sorts 3.6 M lines to merge them with the certificates (1 s more): hashed here,
        # for this query only (the check runs in its rule's transaction).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_mergejoin = off")
            rows = _rows(sql, params)
            cursor.execute("SET LOCAL enable_mergejoin = on")  # failed: rolled back with it
    else:
        rows = _rows(sql, params)
    return [
        Hit(
            employer_id=employer_id,
            person_id=person_id,
            period=str(month),
            region_code=code,
            evidence={"month": month, "exempt_lines": int(lines)},
            amount_fen=int(amount),
        )
        for employer_id, person_id, code, month, amount, lines in rows
    ]


# --- signs of illegal employment ----------------------------------------------------------------

_CARD_LIVE = "c.status = 'active' AND (c.valid_from IS NULL OR c.valid_from <= %s) AND (c.valid_to IS NULL OR c.valid_to >= %s)"
# A person has at most one active card (the card_one_live_per_person constraint), so the card in
# force on the scan day is one LEFT JOIN (a hash join over everyone) rather than three correlated
# look-ups per employment; "a card here", "a card elsewhere" and "none" are read from that row.
# The few left (no card in force here) are then looked up by the person's index, as in "not
# registered": their engagement by a scalar subquery and their other cards and permits by
# ``(SELECT 1 … LIMIT 1)``, where a LEFT JOIN and EXISTS had PostgreSQL hash all 1,000,000
# employments and cards for them (measured at 1,000,000 people, one process without parallel
# workers as the pool runs it: 1.70 s -> 0.88 s).
_ANY_CARD = (
    "(SELECT 1 FROM cards_card c2 WHERE c2.person_id = e.person_id"
    " AND c2.status IN ('active', 'expired', 'deregistered') LIMIT 1)"
)
_ILLEGAL = f"""
SELECT e.employer_id, e.person_id, emp.region_code,
  COALESCE((SELECT eng.start_date FROM insurance_employment eng WHERE eng.id = e.engagement_id),
    e.start_date),
  (SELECT MAX(c.id) FROM cards_card c WHERE c.person_id = e.person_id
     AND c.status IN ('active', 'expired', 'deregistered')) AS last_card,
  CASE WHEN c.employer_id <> e.employer_id THEN c.id END AS other_card,
  (SELECT MAX(d.valid_to) FROM people_document d WHERE d.person_id = e.person_id
     AND d.kind IN ({{kinds}})) AS permit_until,
  (SELECT MAX(d.number) FROM people_document d WHERE d.person_id = e.person_id
     AND d.kind IN ({{kinds}})) AS permit_number
FROM insurance_employment e
JOIN employers_employer emp ON emp.id = e.employer_id
LEFT JOIN cards_card c ON c.person_id = e.person_id AND {_CARD_LIVE}
WHERE e.start_date <= %s AND (e.end_date IS NULL OR e.end_date >= %s)
  AND NOT EXISTS (SELECT 1 FROM people_document d WHERE d.person_id = e.person_id
        AND d.kind = 'permanent_resident_id' AND d.valid_from <= %s
        AND (d.valid_to IS NULL OR d.valid_to >= %s))
  AND (c.id IS NULL OR c.employer_id <> e.employer_id)
  AND (
    c.employer_id <> e.employer_id
    OR (c.id IS NULL AND {_ANY_CARD} IS NOT NULL)
    OR ({_ANY_CARD} IS NULL
        AND (SELECT 1 FROM people_document d WHERE d.person_id = e.person_id
          AND d.kind IN ({{kinds}}) LIMIT 1) IS NOT NULL
        AND (SELECT 1 FROM people_document d WHERE d.person_id = e.person_id
          AND d.kind IN ({{kinds}}) AND d.valid_from <= %s
          AND (d.valid_to IS NULL OR d.valid_to >= %s) LIMIT 1) IS NULL)
  ) {{scope}}
"""  # noqa: S608 - a constant and placeholders only


def illegal_employment(scope: Scope, rule: ComplianceRule, legacy: list[LegacyRule]) -> list[Hit]:
    """Employment in force on the scan day by someone with no permanent resident ID in force and
    no card in force at this employer, who either holds a card in force for another employer, or
    whose cards are all expired or deregistered, or (no card yet: a work permit before the
    Integrated Card) whose permits have all expired. Amount: the fine per person (Art. 80)."""
    d = scope.as_of
    kinds = list(PERMIT_KINDS)
    scope_sql, scope_params = scope.sql()
    sql = _ILLEGAL.format(kinds=_marks(kinds), scope=scope_sql)
    params = [
        *kinds,
        *kinds,
        d,
        d,  # the card in force
        d,
        d,  # employment in force
        d,
        d,  # permanent resident ID
        *kinds,
        *kinds,
        d,
        d,
        *scope_params,
    ]
    rows = _rows(sql, params)
    card_ids = sorted({int(x) for r in rows for x in (r[4], r[5]) if x is not None})
    cards: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(card_ids), 1000):
        chunk = card_ids[start : start + 1000]
        for row in _rows(
            "SELECT c.id, c.card_number, c.permit_number, c.status, c.valid_to, c.deregistered_on,"  # noqa: S608
            f" emp.region_code FROM cards_card c JOIN employers_employer emp ON emp.id = c.employer_id"
            f" WHERE c.id IN ({_marks(chunk)})",
            chunk,
        ):
            cards[int(row[0])] = row
    per_person = fine_range("illegal_employment", persons=1).min_fen
    hits = []
    for employer_id, person_id, code, engaged, last_card, other_card, permit_until, permit in rows:
        evidence: dict[str, Any] = {"employment_start": _iso(engaged)}
        card = cards.get(int(other_card)) if other_card else None
        if card is not None:
            evidence["sign"] = "other_employer"
        else:
            card = cards.get(int(last_card)) if last_card else None
            if card is not None:
                evidence["sign"] = (
                    "card_deregistered" if card[3] == "deregistered" else "card_expired"
                )
            else:
                evidence["sign"] = "permit_expired"
                evidence["permit"] = permit or ""
                evidence["permit_valid_to"] = _iso(permit_until)
        if card is not None:
            evidence["card"] = card[1] or card[2] or ""
            evidence["card_status"] = card[3]
            evidence["card_valid_to"] = _iso(card[4])
            evidence["card_deregistered_on"] = _iso(card[5])
            evidence["card_region"] = card[6]
        hits.append(
            Hit(
                employer_id=employer_id,
                person_id=person_id,
                period=_iso(engaged) or "",
                region_code=code,
                evidence=evidence,
                amount_fen=per_person,
            )
        )
    return hits


CHECKS: dict[str, Check] = {
    "not_registered": Check(not_registered, ("days",), weight=18),
    "months_not_billed": Check(
        months_not_billed, ("lookback_months",), _within_lookback, weight=25
    ),
    "unpaid_past_due": Check(unpaid_past_due, weight=5),
    "billed_after_deregistration": Check(billed_after_deregistration, weight=17),
    "billed_after_exit": Check(billed_after_exit, ("min_days_abroad",), weight=32),
    "base_below_lower_limit": Check(base_below_lower_limit, weight=8),
    "exemption_without_certificate": Check(exemption_without_certificate, weight=28),
    "illegal_employment": Check(illegal_employment, weight=20),
}
