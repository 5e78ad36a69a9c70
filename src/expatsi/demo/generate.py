"""Synthetic data at national scale (``expatsi demo generate``): employers, foreign employees,
their passports, cards and documents, employment histories, social insurance registrations,
border crossings, and months of bills and payments.

Why not the services, as :mod:`expatsi.demo.data` does: a million hires through ``hire_register``
take hours. The rows are computed in bulk (NumPy, one seeded generator) and written with a binary
COPY on PostgreSQL, ``executemany`` in one transaction elsewhere — but shaped exactly as the
services shape them (valid USCCs, social security numbers from the project's SSN scheme and its
sequence table, permit numbers with their Luhn digit, each card's document as
:mod:`expatsi.cards.card_document` derives it, registrations with the deadline of the rules). Bills
are not computed here: the real billing run bills every region and month, and payments are the
rows ``payment_record`` would write (a payment, an allocation of the whole bill) followed by the
pension crediting of fully paid bills, as one set-based statement. Each active Integrated Card gets
its signed QR token as ``token_issue`` signs it (about 0.1 ms of CPU a card; ``tokens=False``
skips them). Not generated: card applications and card events (the cards arrive as issued), HR and
holder user accounts, declarations of bases, certificates of coverage.

Deterministic: the same seed, sizes and ``today`` give the same rows (timestamps and encrypted
passport numbers aside — encryption is salted). Each phase commits with an audit event naming it,
so a second run with the same parameters skips what is done, and a killed run resumes. Generated
people and employers carry addresses at :data:`DOMAIN`; a database holding anything else is left
alone unless ``append`` is asked for.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time as clock
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, Literal

import numpy as np
from django.db import connection, models, transaction
from stdnum import luhn

from expatsi.access import crypto
from expatsi.access.actors import Actor
from expatsi.access.fields import EncryptedTextField
from expatsi.audit.models import AuditEvent
from expatsi.audit.services import audit_record
from expatsi.billing.models import (
    AccountCredit,
    Allocation,
    Bill,
    BillKind,
    BillLine,
    Payment,
)
from expatsi.billing.payments import PENSION
from expatsi.billing.services import billing_run
from expatsi.cards import keys
from expatsi.cards.models import Card, CardStatus, CardToken, PermitNumber
from expatsi.credentials import token as qr_token
from expatsi.credentials.trust import revocation_hash
from expatsi.demo.data import NAMES, POSITIONS
from expatsi.employers.models import Employer, EmployerKind
from expatsi.insurance.models import Employment, Registration, RegistrationStatus, SsnSequence
from expatsi.people.models import Direction, Document, DocumentKind, EntryExit, Passport, Person
from expatsi.rules.dates import Month
from expatsi.rules.deadlines import deadline
from expatsi.rules.errors import RuleError
from expatsi.rules.identifiers import ConventionSsnScheme, uscc_check_char
from expatsi.rules.regions import regions

DOMAIN = "generated.expatsi.invalid"
ACTION = "demo.generate"
INTEGRATED_CARD_FROM = date(2024, 12, 1)
FIVE_YEARS = 5 * 365

# The foreign workforce in China by nationality, roughly (work permits issued, census 2020):
# Korea, the United States and Japan first, then Europe, South and Southeast Asia, Russia.
NATIONALITY_WEIGHTS: dict[str, int] = {
    "KOR": 170,
    "USA": 120,
    "JPN": 110,
    "DEU": 60,
    "GBR": 50,
    "FRA": 45,
    "CAN": 40,
    "AUS": 30,
    "IND": 40,
    "RUS": 40,
    "SGP": 25,
    "ITA": 20,
    "ESP": 15,
    "NLD": 12,
    "VNM": 30,
    "BRA": 10,
    "MEX": 8,
    "SWE": 6,
    "CHE": 8,
    "DNK": 4,
    "FIN": 4,
    "EGY": 6,
}
# Shanghai and Beijing employ most foreigners; any other region on file gets a small share.
REGION_WEIGHTS = {"310000": 55, "110000": 45}
PORTS = (
    "Beijing Capital International Airport",
    "Beijing Daxing International Airport",
    "Shanghai Pudong International Airport",
    "Shanghai Hongqiao International Airport",
    "Guangzhou Baiyun International Airport",
    "Shenzhen Luohu Port",
    "Tianjin Binhai International Airport",
)
NAME_WORDS = [
    "Jinghua",
    "Huaxin",
    "Donghai",
    "Tianrui",
    "Zhongke",
    "Hengyuan",
    "Xinda",
    "Boyuan",
    "Ruixin",
    "Haitong",
    "Sino",
    "Pacific",
    "Orient",
    "Nordic",
    "Alpine",
    "Meridian",
    "Lotus",
    "Harbour",
    "Summit",
    "Pioneer",
    "Crescent",
    "Evergreen",
    "Apex",
    "Vertex",
]
NAME_TRADES = [
    "Technology",
    "Trading",
    "Consulting",
    "Pharmaceutical",
    "Engineering",
    "Education",
    "Logistics",
    "Automotive",
    "Semiconductor",
    "Design",
    "Financial",
    "Services",
    "Chemicals",
    "Media",
]

Progress = Callable[[str, int, int], None]


class AlreadyHasData(RuleError):
    """The database holds data this command did not generate (or generated other parameters)."""


@dataclass(frozen=True, slots=True)
class Params:
    employees: int
    employers: int
    months: int
    seed: int
    today: date

    def key(self) -> dict[str, Any]:
        return {
            "employees": self.employees,
            "employers": self.employers,
            "months": self.months,
            "seed": self.seed,
            "today": self.today.isoformat(),
        }

    def billed_months(self) -> list[Month]:
        """The ``months`` whole months before ``today``'s, oldest first."""
        last = Month.of(self.today).plus(-1)
        return [last.plus(-i) for i in range(self.months - 1, -1, -1)]


@dataclass(slots=True)
class Report:
    created: bool
    batch: int
    phases: dict[str, dict[str, float | int]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


# --- writing rows ---------------------------------------------------------------------------


_PG_TYPES: dict[str, str] = {
    "CharField": "text",
    "EmailField": "text",
    "TextField": "text",
    "BigAutoField": "int8",
    "AutoField": "int4",
    "BinaryField": "bytea",
    "BigIntegerField": "int8",
    "IntegerField": "int4",
    "PositiveIntegerField": "int4",
    "SmallIntegerField": "int2",
    "PositiveSmallIntegerField": "int2",
    "DateField": "date",
    "DateTimeField": "timestamptz",
    "BooleanField": "bool",
    "JSONField": "jsonb",
}


def _column_fields(
    model: type[models.Model], columns: Sequence[str]
) -> list[models.Field[Any, Any]]:
    by_column = {f.column: f for f in model._meta.concrete_fields}
    return [by_column[c] for c in columns]


def _pg_type(f: models.Field[Any, Any]) -> str:
    target = f.target_field if isinstance(f, models.ForeignKey) else f
    return _PG_TYPES[target.get_internal_type()]


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def write_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``model``'s table: a binary COPY on
    PostgreSQL, ``executemany`` elsewhere (inside the caller's transaction)."""
    table = model._meta.db_table
    fields = _column_fields(model, columns)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    n = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            json_at = [i for i, f in enumerate(fields) if _pg_type(f) == "jsonb"]
            from psycopg.types.json import Jsonb

            with cursor.cursor.copy(
                f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"  # fixed names
            ) as copy:
                copy.set_types([_pg_type(f) for f in fields])
                for row in rows:
                    if json_at:
                        row = tuple(Jsonb(v) if i in json_at else v for i, v in enumerate(row))
                    copy.write_row(row)
                    n += 1
            return n
        placeholders = ", ".join(["%s"] * len(columns))
        batch: list[tuple[Any, ...]] = []
        sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608 - fixed names
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) >= 10_000:
                cursor.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            n += len(batch)
    return n


def _next_id(model: type[models.Model]) -> int:
    top = model._default_manager.aggregate(top=models.Max("pk"))["top"]
    return int(top or 0) + 1


def _reset_sequences(models_: Iterable[type[models.Model]]) -> None:
    """After rows with explicit ids: new rows made by the ORM continue above them."""
    if connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT follows the largest id by itself
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )


# --- identifiers ----------------------------------------------------------------------------

_B31 = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _base31(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 31)
        out.append(_B31[r])
    return "".join(reversed(out))


def uscc_for(region: str, batch: int, index: int) -> str:
    """``91`` (market regulator, enterprise) + region + an organisation code that no other
    generated batch uses (``Y``, batch, index) + the GB 32100 check character."""
    body = f"91{region}Y{_base31(batch, 2)}{_base31(index, 6)}"
    return body + uscc_check_char(body)


def permit_number_for(region: str, year: int, serial: int) -> str:
    """As :func:`expatsi.cards.services.permit_number_for`: province, year, serial, Luhn digit."""
    body = f"{region[:2]}{year:04d}{serial:011d}"
    return body + luhn.calc_check_digit(body)


def card_number_for(region: str, year: int, card_id: int) -> str:
    """As :func:`expatsi.cards.services.card_number_for`: province, 2-digit year, the card's id."""
    return f"{region[:2]}{year % 100:02d}{card_id:010d}"


class _Sequences:
    """The SSN scheme's sequence store, preloaded from ``insurance_ssnsequence`` so that numbers
    continue where the database is; :meth:`rows` says what to write back."""

    def __init__(self) -> None:
        self.last: dict[tuple[str, int], int] = {
            (k, p): v for k, p, v in SsnSequence.objects.values_list("key", "parity", "last")
        }
        self.existing = set(self.last)

    def next_sequence(self, key: str, parity: int) -> int:
        last = self.last.get((key, parity), 0)
        value = last + 2 if last else (1 if parity else 2)
        if value > 999:
            raise RuleError("sequence_exhausted", f"no sequence number left for {key}", "ssn")
        self.last[(key, parity)] = value
        return value


def _search_hash(key: bytes, value: str) -> str:
    """:func:`expatsi.access.crypto.search_hash` with the key read once."""
    return hmac.new(key, crypto.normalise(value).encode(), hashlib.sha256).hexdigest()


@cache
def _deadline(kind: str, start: date) -> date:
    return deadline(kind, start).due


def _at(day: date, hour: int = 10) -> datetime:
    """A timestamp on ``day`` (generated history happened before the rows were written)."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


# --- state: what has been generated ---------------------------------------------------------


def _markers() -> list[dict[str, Any]]:
    return [
        dict(d)
        for d in AuditEvent.objects.filter(action=ACTION)
        .order_by("id")
        .values_list("detail", flat=True)
    ]


def _foreign_data() -> bool:
    """Whether anyone made employers or people this command did not generate."""
    suffix = "@" + DOMAIN
    return (
        Employer.objects.exclude(email__endswith=suffix).exists()
        or Person.objects.exclude(email__endswith=suffix).exists()
    )


def _mark(actor: Actor, params: Params, batch: int, phase: str, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=ACTION,
        object_type="demo",
        object_id=f"{batch}:{phase}",
        detail={**params.key(), "batch": batch, "phase": phase, **detail},
    )


# --- the population -------------------------------------------------------------------------


def _population(
    params: Params, batch: int, actor: Actor, progress: Progress, *, tokens: bool
) -> dict[str, int]:
    """Employers, people, passports, permit numbers, cards and their documents, residence
    permits, employments, registrations, SSN sequences and border crossings: one transaction."""
    rng = np.random.default_rng([params.seed, batch])
    today = params.today
    stamp = _at(today, 0)
    n_emp, n_people = params.employers, params.employees
    counts: dict[str, int] = {}

    # employers ----------------------------------------------------------------------------
    codes = sorted(regions())
    weights = np.array([REGION_WEIGHTS.get(c, 5) for c in codes], dtype=float)
    e_region = rng.choice(len(codes), size=n_emp, p=weights / weights.sum())
    e_kind = rng.choice(3, size=n_emp, p=[0.85, 0.07, 0.08])
    nats = list(NATIONALITY_WEIGHTS)
    nat_p = np.array(list(NATIONALITY_WEIGHTS.values()), dtype=float)
    nat_p /= nat_p.sum()
    e_country = rng.choice(len(nats), size=n_emp, p=nat_p)
    e_words = rng.integers(0, len(NAME_WORDS), size=(n_emp, 2))
    e_trade = rng.integers(0, len(NAME_TRADES), size=n_emp)
    # employer sizes: heavy-tailed (a few employ thousands, most a handful)
    size_w = rng.lognormal(0.0, 1.3, size=n_emp)
    size_w /= size_w.sum()
    kinds = [EmployerKind.DOMESTIC, EmployerKind.BRANCH, EmployerKind.REPRESENTATIVE_OFFICE]
    first_employer = _next_id(Employer)
    employer_rows = []
    e_overseas: list[str] = []
    e_names: list[str] = []
    for i in range(n_emp):
        w1, w2 = NAME_WORDS[e_words[i, 0]], NAME_WORDS[e_words[i, 1]]
        trade = NAME_TRADES[e_trade[i]]
        kind = kinds[e_kind[i]]
        region = codes[e_region[i]]
        overseas = "" if kind == EmployerKind.DOMESTIC else f"{w1} {trade} Holdings"
        e_overseas.append(overseas)
        name = f"{w1} {w2} {trade} Co., Ltd."
        if kind == EmployerKind.BRANCH:
            name = f"{overseas} {regions()[region].name} Branch"
        elif kind == EmployerKind.REPRESENTATIVE_OFFICE:
            name = f"{overseas} {regions()[region].name} Representative Office"
        e_names.append(name)
        employer_rows.append(
            (
                first_employer + i,
                name,
                "",
                uscc_for(region, batch, i),
                region,
                kind,
                overseas,
                nats[e_country[i]] if overseas else "",
                f"{i % 999 + 1} {w2} Road, {regions()[region].name}",
                f"hr{batch}-{i}@{DOMAIN}",
                None,
                stamp,
            )
        )
    progress("employers", 0, n_emp)
    counts["employers"] = write_rows(
        Employer,
        (
            "id",
            "name",
            "name_zh",
            "uscc",
            "region_code",
            "kind",
            "overseas_company",
            "overseas_country",
            "address",
            "email",
            "dissolved_on",
            "created_at",
        ),
        employer_rows,
    )
    progress("employers", n_emp, n_emp)
    del employer_rows

    # people -------------------------------------------------------------------------------
    p_nat = rng.choice(len(nats), size=n_people, p=nat_p)
    p_male = rng.random(n_people) < 0.68
    age_days = rng.integers(23 * 365, 60 * 365, size=n_people)
    p_name = rng.integers(0, 1 << 30, size=(n_people, 3))
    p_zh = rng.random(n_people) < 0.15
    # employments: the current one, some after a change of employer, some ended
    cur_emp = rng.choice(n_emp, size=n_people, p=size_w)
    changed = rng.random(n_people) < 0.15
    prev_emp = rng.choice(n_emp, size=n_people, p=size_w)
    prev_emp = np.where(prev_emp == cur_emp, (prev_emp + 1) % n_emp, prev_emp)
    if n_emp == 1:
        changed[:] = False
    since_change = (today - date(2025, 1, 1)).days  # a change of employer: a new Integrated Card
    tenure = np.where(
        changed,
        rng.integers(20, max(since_change, 21), size=n_people),
        rng.integers(20, 1700, size=n_people),
    )
    prev_tenure = rng.integers(200, 1500, size=n_people)
    ended = rng.random(n_people) < 0.08
    ended_ago = rng.integers(1, 400, size=n_people)
    wage = np.clip(rng.lognormal(np.log(25_000), 0.55, size=n_people), 6_000, 300_000)
    wage_fen = (np.round(wage / 100) * 100 * 100).astype(np.int64)
    prev_wage = np.clip(wage * rng.uniform(0.75, 1.0, size=n_people), 6_000, 300_000)
    prev_wage_fen = (np.round(prev_wage / 100) * 100 * 100).astype(np.int64)
    position = rng.integers(0, len(POSITIONS), size=(n_people, 2))
    permit_lead = rng.integers(5, 20, size=(n_people, 2))
    validity = rng.integers(365, FIVE_YEARS - 1, size=(n_people, 2))
    category = rng.choice(3, size=(n_people, 2), p=[0.2, 0.7, 0.1])
    seconded = rng.random(n_people) < 0.5
    reg_delay = rng.integers(2, 28, size=(n_people, 2))
    reg_late = rng.random((n_people, 2)) < 0.05
    reg_late_by = rng.integers(1, 45, size=(n_people, 2))
    reg_stuck = rng.random(n_people) < 0.01  # never registered: overdue, a compliance finding
    trips = rng.poisson(1.2, size=n_people)
    trip_rand = rng.random((n_people, 8))
    port = rng.integers(0, len(PORTS), size=(n_people, 10))
    stays_on = rng.random(n_people) < 0.2  # still in China after the contract ended
    res_days = rng.integers(7, 25, size=n_people)

    ids = {
        m: _next_id(m)
        for m in (
            Person,
            Passport,
            PermitNumber,
            Document,
            Card,
            CardToken,
            Employment,
            Registration,
            EntryExit,
        )
    }
    e_id0 = first_employer
    scheme = ConventionSsnScheme()
    seqs = _Sequences()
    # the newest keys, read once (crypto.encrypt and crypto.search_hash look them up per value)
    ring = crypto.keyring()
    signer = keys.keyring().current if tokens else None
    fernet, search_key = ring.fernet, ring.search_keys[0]

    people: list[tuple[Any, ...]] = []
    passports: list[tuple[Any, ...]] = []
    permit_numbers: list[tuple[Any, ...]] = []
    documents: list[tuple[Any, ...]] = []
    cards: list[tuple[Any, ...]] = []
    employments: list[tuple[Any, ...]] = []
    registrations: list[tuple[Any, ...]] = []
    crossings: list[tuple[Any, ...]] = []
    card_tokens: list[tuple[Any, ...]] = []
    cat = "ABC"
    step = max(n_people // 50, 1)
    for i in range(n_people):
        if i % step == 0:
            progress("computing rows", i, n_people)
        nat = nats[p_nat[i]]
        family_names, male, female, cities = NAMES.get(nat, NAMES["USA"])
        sex: Literal["male", "female"] = "male" if p_male[i] else "female"
        given = (male if p_male[i] else female)[p_name[i, 0] % len(male if p_male[i] else female)]
        family = family_names[p_name[i, 1] % len(family_names)]
        birth = today - timedelta(days=int(age_days[i]))
        handle = (
            unicodedata.normalize("NFKD", f"{given}.{family}".lower())
            .encode("ascii", "ignore")
            .decode()
            .replace(" ", "")
            .replace("'", "")
        )
        pid = ids[Person] + i
        # the employments, oldest first: (employer index, start, end, end reason, wage)
        cur_start = today - timedelta(days=int(tenure[i]))
        spans: list[tuple[int, date, date | None, str, int]] = []
        if changed[i]:
            prev_start = cur_start - timedelta(days=int(prev_tenure[i]))
            spans.append(
                (
                    int(prev_emp[i]),
                    prev_start,
                    cur_start - timedelta(days=1),
                    "changed",
                    int(prev_wage_fen[i]),
                )
            )
        cur_end: date | None = None
        if ended[i]:
            cur_end = max(cur_start, today - timedelta(days=int(ended_ago[i])))
            if cur_end >= today:
                cur_end = None
        spans.append(
            (int(cur_emp[i]), cur_start, cur_end, "ended" if cur_end else "", int(wage_fen[i]))
        )

        first_region = employer_regions_of(e_region, codes, spans[0][0])
        pn_id = ids[PermitNumber] + i
        first_issue = spans[0][1] - timedelta(days=int(permit_lead[i, 0]))
        permit_no = permit_number_for(first_region, first_issue.year, pn_id)
        permit_numbers.append((pn_id, pid, permit_no, stamp))

        ssn: str | None = None
        live: tuple[int, str, str, int, date, date] | None = None
        ssn_at: datetime | None = None
        first_entry: date | None = None
        for k, (e, start, end, reason, wage_k) in enumerate(spans):
            region = employer_regions_of(e_region, codes, e)
            issued = start - timedelta(days=int(permit_lead[i, k]))
            legacy = issued < INTEGRATED_CARD_FROM
            valid_to = issued + timedelta(days=int(validity[i, k]))
            if end is None:
                valid_to = max(
                    valid_to,
                    min(today + timedelta(days=60), issued + timedelta(days=FIVE_YEARS - 1)),
                )
            card_id = ids[Card] + len(cards)
            card_no = None if legacy else card_number_for(region, issued.year, card_id)
            status = CardStatus.ACTIVE if end is None else CardStatus.DEREGISTERED
            if end is None and valid_to < today:
                status = CardStatus.EXPIRED
            if status == CardStatus.ACTIVE and card_no:
                live = (card_id, card_no, cat[category[i, k]], e, issued, valid_to)
            doc_id = ids[Document] + len(documents)
            doc_to = valid_to if end is None else min(valid_to, end)
            doc_to = max(doc_to, issued)
            documents.append(
                (
                    doc_id,
                    pid,
                    DocumentKind.WORK_PERMIT if legacy else DocumentKind.INTEGRATED_CARD,
                    card_no or permit_no,
                    issued,
                    issued,
                    doc_to,
                    "",
                    stamp,
                )
            )
            cards.append(
                (
                    card_id,
                    pid,
                    e_id0 + e,
                    card_no,
                    permit_no,
                    cat[category[i, k]],
                    POSITIONS[position[i, k]],
                    issued,
                    valid_to,
                    status,
                    legacy,
                    None if legacy else issued,
                    None if legacy else issued + timedelta(days=90),
                    None if legacy else issued,
                    None if legacy else _deadline("residence_permit", issued),
                    None,
                    "",
                    end if status == CardStatus.DEREGISTERED else None,
                    "contract_ended" if status == CardStatus.DEREGISTERED else "",
                    stamp,
                    stamp,
                    doc_id,
                )
            )
            emp_id = ids[Employment] + len(employments)
            overseas = e_overseas[e]
            employments.append(
                (
                    emp_id,
                    pid,
                    e_id0 + e,
                    None,
                    start,
                    end,
                    reason,
                    POSITIONS[position[i, k]],
                    wage_k,
                    overseas if overseas and seconded[i] else "",
                    nats[e_country[e]] if overseas and seconded[i] else "",
                    None,
                    stamp,
                )
            )
            due = _deadline("registration", issued)
            registered = issued + timedelta(days=int(reg_delay[i, k]))
            if reg_late[i, k]:
                registered = due + timedelta(days=int(reg_late_by[i, k]))
            accepted = registered <= today and not (end is None and reg_stuck[i])
            registrations.append(
                (
                    ids[Registration] + len(registrations),
                    pid,
                    e_id0 + e,
                    emp_id,
                    doc_id,
                    issued,
                    due,
                    start,
                    RegistrationStatus.ACCEPTED if accepted else RegistrationStatus.SUBMITTED,
                    _at(issued + timedelta(days=1)),
                    None,
                    _at(registered) if accepted else None,
                    None,
                    registered if accepted else None,
                    "",
                )
            )
            if accepted and ssn is None:
                ssn = scheme.assign(
                    province=region[:2],
                    nationality=nat,
                    birth=birth,
                    sex=sex,
                    store=seqs,
                )
                ssn_at = _at(registered)
            if first_entry is None:
                first_entry = max(issued, start - timedelta(days=3))
        people.append(
            (
                pid,
                family,
                given,
                "",
                sex,
                birth,
                nat,
                f"{handle}.{batch}.{i}@{DOMAIN}",
                f"+86 13{p_name[i, 2] % 10} {p_name[i, 2] % 9000 + 1000} {i % 9000 + 1000}",
                f"{p_name[i, 2] % 200 + 1} {family} Street, {cities[p_name[i, 2] % len(cities)]}",
                "zh-hans" if p_zh[i] else "en",
                ssn,
                ssn_at,
                None,
                stamp,
                stamp,
            )
        )
        number = f"G{batch:02d}{i:07d}"
        passports.append(
            (
                ids[Passport] + i,
                pid,
                nat,
                fernet.encrypt(number.encode()).decode(),
                _search_hash(search_key, number),
                None,
                None,
                True,
                stamp,
            )
        )
        if signer is not None and live is not None:
            # the card's QR token, as token_issue signs it when the card becomes active
            card_id, card_no, category_k, e, valid_from, valid_to = live
            claims = qr_token.CardClaims(
                card_number=card_no,
                permit_number=permit_no,
                ssn=ssn or "",
                name=f"{family.upper()} {given}".strip(),
                nationality=nat,
                category=category_k,
                employer=e_names[e],
                valid_from=valid_from,
                valid_to=valid_to,
            )
            issued_at = _at(valid_from)
            text, signature = qr_token.issue(
                claims, signer, issued_at=int(issued_at.timestamp()), serial=1
            )
            card_tokens.append(
                (
                    ids[CardToken] + len(card_tokens),
                    card_id,
                    text,
                    signer.kid.hex(),
                    revocation_hash(signature).hex(),
                    issued_at,
                    None,
                    "",
                )
            )
        # the residence permit of the latest employment
        last_start, last_end = spans[-1][1], spans[-1][2]
        res_issued = min(last_start + timedelta(days=int(res_days[i])), today)
        res_to = (
            last_end + timedelta(days=30)
            if last_end
            else min(
                today + timedelta(days=int(validity[i, 1]) // 3 + 30),
                res_issued + timedelta(days=FIVE_YEARS - 1),
            )
        )
        documents.append(
            (
                ids[Document] + len(documents),
                pid,
                DocumentKind.RESIDENCE_PERMIT,
                f"E{batch:02d}{i:08d}",
                res_issued,
                res_issued,
                max(res_to, res_issued),
                "",
                stamp,
            )
        )
        # border crossings: the first entry, trips home, and the last exit after an ended job
        assert first_entry is not None
        seen: set[tuple[date, str, str]] = set()

        def cross(day: date, direction: str, p: int, seen: set[Any] = seen, pid: int = pid) -> None:
            key = (day, direction, PORTS[p])
            if day <= today and key not in seen:
                seen.add(key)
                crossings.append(
                    (
                        ids[EntryExit] + len(crossings),
                        pid,
                        day,
                        direction,
                        PORTS[p],
                        f"generated-{batch}",
                        stamp,
                    )
                )

        cross(first_entry, Direction.ENTRY, int(port[i, 0]))
        stay_end = last_end or today
        span_days = max((stay_end - first_entry).days - 30, 1)
        for t in range(min(int(trips[i]), 4)):
            out = first_entry + timedelta(days=15 + int(trip_rand[i, 2 * t] * span_days))
            back = out + timedelta(days=5 + int(trip_rand[i, 2 * t + 1] * 20))
            if back < stay_end:
                cross(out, Direction.EXIT, int(port[i, 1 + 2 * t]))
                cross(back, Direction.ENTRY, int(port[i, 2 + 2 * t]))
        if last_end is not None and not stays_on[i]:
            cross(
                last_end + timedelta(days=1 + int(trip_rand[i, 7] * 20)),
                Direction.EXIT,
                int(port[i, 9]),
            )
    progress("computing rows", n_people, n_people)

    def put(
        label: str, model: type[models.Model], columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        progress(label, 0, len(rows))
        counts[label] = write_rows(model, columns, rows)
        progress(label, len(rows), len(rows))

    put(
        "people",
        Person,
        (
            "id",
            "family_name",
            "given_names",
            "chinese_name",
            "sex",
            "birth_date",
            "nationality",
            "email",
            "phone",
            "address_abroad",
            "preferred_language",
            "ssn",
            "ssn_assigned_at",
            "user_id",
            "created_at",
            "updated_at",
        ),
        people,
    )
    put(
        "passports",
        Passport,
        (
            "id",
            "person_id",
            "country",
            "number",
            "number_hash",
            "issued_on",
            "expires_on",
            "is_current",
            "created_at",
        ),
        passports,
    )
    put("permit_numbers", PermitNumber, ("id", "person_id", "number", "created_at"), permit_numbers)
    put(
        "documents",
        Document,
        (
            "id",
            "person_id",
            "kind",
            "number",
            "issued_on",
            "valid_from",
            "valid_to",
            "authority",
            "created_at",
        ),
        documents,
    )
    put(
        "cards",
        Card,
        (
            "id",
            "person_id",
            "employer_id",
            "card_number",
            "permit_number",
            "category",
            "position",
            "valid_from",
            "valid_to",
            "status",
            "legacy",
            "notice_issued_on",
            "notice_valid_to",
            "entry_date",
            "residence_permit_due",
            "photo",
            "photo_hash",
            "deregistered_on",
            "deregistration_reason",
            "created_at",
            "updated_at",
            "document_id",
        ),
        cards,
    )
    put(
        "employments",
        Employment,
        (
            "id",
            "person_id",
            "employer_id",
            "engagement_id",
            "start_date",
            "end_date",
            "end_reason",
            "position",
            "contract_wage",
            "seconded_by",
            "seconded_by_country",
            "created_by_id",
            "created_at",
        ),
        employments,
    )
    put(
        "registrations",
        Registration,
        (
            "id",
            "person_id",
            "employer_id",
            "employment_id",
            "permit_id",
            "permit_issued_on",
            "deadline",
            "insurance_start",
            "status",
            "submitted_at",
            "submitted_by_id",
            "decided_at",
            "decided_by_id",
            "registered_on",
            "rejection_reason",
        ),
        registrations,
    )
    put(
        "card_tokens",
        CardToken,
        (
            "id",
            "card_id",
            "text",
            "kid",
            "revocation_hash",
            "issued_at",
            "revoked_at",
            "revoked_reason",
        ),
        card_tokens,
    )
    put(
        "crossings",
        EntryExit,
        ("id", "person_id", "date", "direction", "port", "import_batch", "created_at"),
        crossings,
    )
    new_seq = [
        (key, par, v) for (key, par), v in seqs.last.items() if (key, par) not in seqs.existing
    ]
    for (key, par), v in seqs.last.items():
        if (key, par) in seqs.existing:
            SsnSequence.objects.filter(key=key, parity=par).update(last=v)
    write_rows(SsnSequence, ("key", "parity", "last"), new_seq)
    _reset_sequences(
        [
            Employer,
            Person,
            Passport,
            PermitNumber,
            Document,
            Card,
            CardToken,
            Employment,
            Registration,
            EntryExit,
        ]
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts


def employer_regions_of(e_region: np.ndarray, codes: list[str], e: int) -> str:
    return codes[int(e_region[e])]


# --- payments -------------------------------------------------------------------------------


def _payments(params: Params, batch: int, month: Month, actor: Actor) -> int:
    """Pay the month's regular bills as the employers would: most on time, late payers late, a
    few not at all (late fees accrue, compliance finds the arrears). The rows are those
    ``payment_record`` writes for a payment that names its bill: the payment and one allocation
    of the whole bill."""
    rng = np.random.default_rng([params.seed, batch, month.index])
    # each employer's habit, the same every month: 85 % punctual, 9 % late, 6 % in arrears
    habit_rng = np.random.default_rng([params.seed, batch, 7])
    employer_ids = list(
        Employer.objects.filter(email__startswith=f"hr{batch}-", email__endswith="@" + DOMAIN)
        .order_by("id")
        .values_list("id", flat=True)
    )
    habit = habit_rng.choice(3, size=len(employer_ids), p=[0.85, 0.09, 0.06])
    habit_of = dict(zip(employer_ids, habit.tolist(), strict=True))
    bills = list(
        Bill.objects.filter(
            employer__email__startswith=f"hr{batch}-",
            employer__email__endswith="@" + DOMAIN,
            month=str(month),
            kind=BillKind.REGULAR,
            allocations__isnull=True,
        )
        .order_by("id")
        .values_list("id", "employer_id", "number", "employer_total", "employee_total", "due_date")
    )
    if not bills:
        return 0
    u = rng.random(len(bills))
    late_by = rng.integers(5, 60, size=len(bills))
    early_by = rng.integers(0, 6, size=len(bills))
    pay_id = _next_id(Payment)
    alloc_id = _next_id(Allocation)
    payments: list[tuple[Any, ...]] = []
    allocations: list[tuple[Any, ...]] = []
    for j, (bill_id, employer_id, number, er, ee, due) in enumerate(bills):
        total = er + ee
        if total <= 0:
            continue
        h = habit_of.get(employer_id, 0)
        if h == 2 and u[j] < 0.7:
            continue  # in arrears
        if h == 0 and u[j] >= 0.03:
            paid_on = due - timedelta(days=int(early_by[j]))
        else:
            paid_on = due + timedelta(days=int(late_by[j]))
        if paid_on > params.today:
            continue
        pid = pay_id + len(payments)
        payments.append(
            (
                pid,
                employer_id,
                total,
                paid_on,
                number,
                "bank",
                f"GEN-{number}",
                actor.label[:200],
                _at(paid_on, 16),
            )
        )
        allocations.append((alloc_id + len(allocations), pid, bill_id, total, 0, paid_on))
    write_rows(
        Payment,
        (
            "id",
            "employer_id",
            "amount",
            "received_on",
            "reference",
            "source",
            "external_id",
            "recorded_by",
            "recorded_at",
        ),
        payments,
    )
    write_rows(
        Allocation, ("id", "payment_id", "bill_id", "principal", "late_fee", "paid_on"), allocations
    )
    _reset_sequences([Payment, Allocation])
    return len(payments)


def _credits(batch: int, month: Month, actor: Actor) -> int:
    """Credit the employee pension contributions of the month's fully paid bills to the people's
    individual accounts: what :func:`expatsi.billing.payments.pension_credits_due` and
    ``credit_paid_bills`` do after a payment (a bill is fully paid when the principal allocated
    covers its total; one credit per person and bill, none for a sum of zero), as one
    ``INSERT … SELECT`` — the service builds every credit as an object, minutes at this scale."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # fresh statistics, or the planner takes the just-written bills for an empty table
            cursor.execute("ANALYZE billing_bill, billing_allocation, billing_accountcredit")
        cursor.execute(
            """
            INSERT INTO billing_accountcredit (person_id, month, amount, bill_id, credited_at)
            SELECT l.person_id, paid.month, SUM(l.employee_amount), paid.id, %s
            FROM (
                SELECT b.id, b.month
                FROM billing_bill b
                JOIN employers_employer e ON e.id = b.employer_id
                JOIN (SELECT bill_id, SUM(principal) AS principal FROM billing_allocation
                      GROUP BY bill_id) a ON a.bill_id = b.id
                WHERE b.month = %s AND e.email LIKE %s
                  AND a.principal >= b.employer_total + b.employee_total
                  AND NOT EXISTS (SELECT 1 FROM billing_accountcredit c WHERE c.bill_id = b.id)
            ) paid
            JOIN billing_billline l ON l.bill_id = paid.id
            WHERE l.insurance = %s
            GROUP BY paid.id, paid.month, l.person_id
            HAVING SUM(l.employee_amount) <> 0
            """,
            [_at(month.plus(1).last_day()), str(month), f"hr{batch}-%@{DOMAIN}", PENSION],
        )
        written = int(max(cursor.rowcount, 0))
    if written:
        audit_record(
            actor=actor,
            action="account.credit",
            object_type="account_credit",
            object_id=f"generated:{batch}:{month}",
            detail={"credits": written, "month": str(month)},
        )
    return written


# --- the command ----------------------------------------------------------------------------


def generate(
    *,
    actor: Actor,
    employees: int,
    employers: int,
    months: int = 24,
    seed: int = 1,
    today: date,
    append: bool = False,
    credits: bool = True,
    tokens: bool = True,
    progress: Progress | None = None,
) -> Report:
    """Generate (or finish generating) the data set; see the module's docstring."""
    if employees < 1 or employers < 1 or months < 0:
        raise RuleError("invalid_size", "employees and employers must be at least 1", "employees")
    if employers > employees:
        raise RuleError("invalid_size", "more employers than employees", "employers")
    progress = progress or (lambda label, done, total: None)
    params = Params(employees, employers, months, seed, today)
    markers = _markers()
    mine = [m for m in markers if all(m.get(k) == v for k, v in params.key().items())]
    batches = sorted({int(m["batch"]) for m in markers})
    if mine:
        batch = int(mine[-1]["batch"])
    else:
        if not append and (markers or _foreign_data()):
            what = (
                "data generated with other parameters"
                if markers and not _foreign_data()
                else "data that was not generated"
            )
            raise AlreadyHasData(
                "database_not_empty",
                f"the database already holds {what}; refusing to add to it (use --append to "
                "generate a further batch beside it)",
                "database",
            )
        batch = (batches[-1] + 1) if batches else 1
    done = {m["phase"] for m in markers if int(m["batch"]) == batch}
    report = Report(created="population" not in done, batch=batch)

    def timed(phase: str, rows_of: Callable[[], dict[str, int]]) -> None:
        if phase in done:
            report.skipped.append(phase)
            return
        started, cpu = clock.perf_counter(), clock.process_time()
        with transaction.atomic():
            counts = rows_of()
            seconds = clock.perf_counter() - started
            _mark(actor, params, batch, phase, seconds=round(seconds, 3), **counts)
        rows = sum(counts.values())
        report.phases[phase] = {
            **counts,
            "seconds": round(seconds, 3),
            "cpu_seconds": round(clock.process_time() - cpu, 3),  # this process only
            "rows_per_s": round(rows / max(seconds, 1e-9)),
        }

    timed("population", lambda: _population(params, batch, actor, progress, tokens=tokens))
    mine_qs = Employer.objects.filter(email__startswith=f"hr{batch}-", email__endswith=f"@{DOMAIN}")
    used_regions = sorted(set(mine_qs.values_list("region_code", flat=True)))
    for month in params.billed_months():
        for code in used_regions:

            def bill(code: str = code, month: Month = month) -> dict[str, int]:
                issued = min(month.plus(1).first_day(), today)
                try:
                    result = billing_run(
                        actor=actor,
                        region_code=code,
                        month=month,
                        issued_on=issued,
                        progress=functools.partial(progress, f"bills {code} {month}"),
                    )
                except RuleError as exc:
                    if exc.code != "no_policy_for_month":
                        raise
                    return {"bills": 0, "lines": 0}
                return {
                    "bills": result.regular_bills + result.adjustment_bills,
                    "lines": result.lines,
                }

            timed(f"bills {code} {month}", bill)

        def pay(month: Month = month) -> dict[str, int]:
            paid = _payments(params, batch, month, actor)
            return {"payments": paid, "credits": _credits(batch, month, actor) if credits else 0}

        timed(f"payments {month}", pay)
    return report


# --- for tests and checks: a digest of what was generated --------------------------------------

DIGEST_MODELS: tuple[type[models.Model], ...] = (
    CardToken,
    Employer,
    Person,
    Passport,
    PermitNumber,
    Document,
    Card,
    Employment,
    Registration,
    SsnSequence,
    EntryExit,
    Bill,
    BillLine,
    Payment,
    Allocation,
    AccountCredit,
)


def table_digest(model: type[models.Model]) -> str:
    """SHA-256 of a table's rows in id order, without timestamps and encrypted values (salted)."""
    columns = [
        str(f.column)
        for f in model._meta.concrete_fields
        if not isinstance(f, models.DateTimeField | EncryptedTextField)
    ]
    h = hashlib.sha256()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(connection.ops.quote_name(c) for c in columns)} "  # noqa: S608
            f"FROM {model._meta.db_table} ORDER BY {connection.ops.quote_name(columns[0])}"
        )
        for row in cursor.fetchall():
            h.update(repr(tuple(_normal(v) for v in row)).encode())
    return h.hexdigest()


def _normal(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def digest() -> dict[str, str]:
    return {m._meta.db_table: table_digest(m) for m in DIGEST_MODELS}
