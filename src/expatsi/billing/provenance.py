"""What a bill rests on: the policy period recorded when it was issued, and the status and source
of every figure its amounts used.

Why recorded, not looked up: the policy files change when a notice arrives, and a bill must still
be explained and marked by the figures it was computed from. The billing run stores the period as
a :class:`~expatsi.billing.models.PolicySnapshot` (shared by every bill built on the same content)
and, on each bill, the weakest status of the figures used plus their sources — including what
only that bill used: an agreement that exempted one of its employees, or the assumed work-injury
rate of an employer with no rating on file. Pages, PDFs, downloads and the API read them from
here, so every place shows the same words for the same status.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.utils.translation import gettext as _

from expatsi.billing.models import Bill, BillLine, PolicySnapshot
from expatsi.rules.accounts import Statement, crediting_rates
from expatsi.rules.agreements import Agreement, default_work_injury_rate
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.policy import Provenance, Status, read_table
from expatsi.rules.regions import INSURANCES, Period, RegionPolicy, region

FORMAT = 1
_URL = re.compile(r"https?://[^\s;,)\]]+")


# --- recording (billing run) ----------------------------------------------------------------------


def _prov(p: Provenance) -> dict[str, str]:
    return {"status": p.status.value, "source": p.source}


@cache
def _work_injury_convention() -> str:
    """The convention text for the assumed work-injury rate, from the conventions catalogue."""
    for row in read_table("national/conventions.toml").tables("conventions"):
        if row.str("key") == "work_injury_default":
            return f"expatsi convention (national/conventions.toml): {row.str('rule')}"
    return "expatsi convention: class I benchmark × the region's factor"


def period_record(policy: RegionPolicy, period: Period, version: str) -> dict[str, Any]:
    """The period as plain data: enough to explain and mark a bill without the policy files."""
    adjustment = policy.adjustment_payment_provenance or policy.payment_provenance
    return {
        "format": FORMAT,
        "version": version,
        "region": policy.code,
        "region_name": policy.name,
        "region_name_zh": policy.name_zh,
        "file": policy.file,
        "period": {
            "first": str(period.span.first),
            "last": str(period.span.last or ""),
            **_prov(period.provenance),
        },
        "status": period.status.value,
        "rounding": {
            "unit_fen": policy.rounding.unit_fen,
            "mode": policy.rounding.mode,
            **_prov(policy.rounding_provenance),
        },
        "insurances": {
            name: {
                "base_lower": rule.base_lower,
                "base_upper": rule.base_upper,
                "employer_rate": rule.employer_rate,
                "employee_rate": rule.employee_rate,
                "employer_fixed": rule.employer_fixed,
                "employee_fixed": rule.employee_fixed,
                "merged_into": rule.merged_into,
                "note": rule.note,
                **_prov(rule.provenance),
            }
            for name, rule in period.rules.items()
        },
        "payment": {
            "due_day": policy.due_day,
            "due_month_offset": policy.due_month_offset,
            **_prov(policy.payment_provenance),
        },
        "adjustment_payment": {
            "due_day": policy.adjustment_due_day,
            "due_month_offset": policy.adjustment_due_month_offset,
            **_prov(adjustment),
        },
        "work_injury_default": {
            "rate": default_work_injury_rate(policy.work_injury_factor),
            "status": Status.CONVENTION.value,
            "source": _work_injury_convention(),
        },
    }


def snapshot_for(policy: RegionPolicy, period: Period, version: str) -> PolicySnapshot:
    """The stored copy of ``period`` (created on first use; one row per distinct content)."""
    data = period_record(policy, period, version)
    digest = hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    snapshot, _created = PolicySnapshot.objects.get_or_create(
        digest=digest,
        defaults={
            "version": version[:64],
            "region_code": policy.code,
            "period_first": str(period.span.first),
            "status": period.status.value,
            "data": data,
        },
    )
    return snapshot


def _entry(covers: str, status: str, source: str, out: list[dict[str, Any]]) -> None:
    """Add ``covers`` to the entry of the same status and source, or a new entry."""
    for entry in out:
        if entry["status"] == status and entry["source"] == source:
            if covers not in entry["covers"]:
                entry["covers"].append(covers)
            return
    out.append({"covers": [covers], "status": status, "source": source})


def bill_record(
    data: dict[str, Any],
    *,
    adjustment: bool,
    default_work_injury: bool,
    agreements: Iterable[Agreement] = (),
) -> tuple[str, dict[str, Any]]:
    """(summary status, sources) of one bill: the weakest status of every figure its amounts
    used, and each figure's source. The due date's rule is listed apart: it sets when a late fee
    starts, not the amounts."""
    figures: list[dict[str, Any]] = []
    period = data["period"]
    _entry("limits", period["status"], period["source"], figures)
    for name in INSURANCES:
        rule = data["insurances"][name]
        _entry(name, rule["status"], rule["source"], figures)
    if default_work_injury:
        default = data["work_injury_default"]
        _entry("work_injury_default", default["status"], default["source"], figures)
    for agreement in sorted(agreements, key=lambda a: a.country):
        _entry(
            f"agreement:{agreement.country}",
            agreement.provenance.status.value,
            agreement.provenance.source,
            figures,
        )
    status = Status.weakest([Status(f["status"]) for f in figures])
    due = data["adjustment_payment" if adjustment else "payment"]
    return status.value, {
        "period": f"{period['first']}…{period['last']}",
        "figures": figures,
        "due_date": {
            "rule": "adjustment" if adjustment else "regular",
            "due_day": due["due_day"],
            "due_month_offset": due["due_month_offset"],
            "status": due["status"],
            "source": due["source"],
        },
    }


# --- reading (pages, PDFs, downloads, API) --------------------------------------------------------


@dataclass(frozen=True)
class RecordedRule:
    insurance: str
    base_lower: int
    base_upper: int
    employer_rate: int | None
    employee_rate: int
    employer_fixed: int
    employee_fixed: int
    merged_into: str | None
    status: Status
    source: str


@dataclass(frozen=True)
class RecordedPolicy:
    """A bill's policy period as recorded at issue. ``recorded`` is False only for a bill issued
    before periods were recorded: then today's period stands in, and says so."""

    version: str
    region: str
    first: str
    last: str
    status: Status
    limits_status: Status
    limits_source: str
    rules: dict[str, RecordedRule]
    recorded: bool = True

    @property
    def span(self) -> str:
        return f"{self.first}…{self.last}"

    @classmethod
    def from_data(cls, data: dict[str, Any], *, recorded: bool = True) -> RecordedPolicy:
        period = data["period"]
        return cls(
            version=data["version"],
            region=data["region"],
            first=period["first"],
            last=period["last"],
            status=Status(data["status"]),
            limits_status=Status(period["status"]),
            limits_source=period["source"],
            rules={
                name: RecordedRule(
                    insurance=name,
                    base_lower=int(r["base_lower"]),
                    base_upper=int(r["base_upper"]),
                    employer_rate=r["employer_rate"],
                    employee_rate=int(r["employee_rate"]),
                    employer_fixed=int(r["employer_fixed"]),
                    employee_fixed=int(r["employee_fixed"]),
                    merged_into=r["merged_into"],
                    status=Status(r["status"]),
                    source=r["source"],
                )
                for name, r in data["insurances"].items()
            },
            recorded=recorded,
        )


def recorded_policy(bill: Bill) -> RecordedPolicy | None:
    """The policy ``bill`` was built on; for a bill issued before periods were recorded, today's
    period of its month (``recorded`` False), or None when there is none."""
    if bill.policy is not None:
        return RecordedPolicy.from_data(bill.policy.data)
    try:
        policy = region(bill.region_code)
        period = policy.period_for(Month.parse(bill.month))
    except RuleError:
        return None
    return RecordedPolicy.from_data(
        period_record(policy, period, bill.policy_version), recorded=False
    )


@dataclass(frozen=True)
class Figure:
    """One source behind a bill, with the figures it covers, its status and a link if it has one."""

    covers: tuple[str, ...]
    status: str
    source: str

    @property
    def url(self) -> str:
        return source_url(self.source)

    @property
    def label(self) -> str:
        return status_label(self.status)

    @property
    def what(self) -> str:
        return ", ".join(cover_label(c) for c in self.covers)


def figures(bill: Bill) -> list[Figure]:
    return [
        Figure(tuple(f["covers"]), f["status"], f["source"])
        for f in (bill.policy_sources or {}).get("figures", [])
    ]


def recorded_period(bill: Bill) -> str:
    """The span of the period the bill was built on ("" when not recorded)."""
    return str((bill.policy_sources or {}).get("period", ""))


def due_rule(bill: Bill) -> Figure | None:
    due = (bill.policy_sources or {}).get("due_date")
    if not due:
        return None
    return Figure(("due_date",), due["status"], due["source"])


def line_figures(bill: Bill, insurance: str, flags: int, nationality: str = "") -> list[Figure]:
    """The sources behind one line, as recorded on its bill: the period's limits, its insurance's
    rates, the assumed work-injury rate where one was used, the agreement where it is exempt."""
    wanted = {"limits", insurance}
    if insurance == "work_injury" and flags & BillLine.FLAG_DEFAULT_WORK_INJURY:
        wanted.add("work_injury_default")
    exempt = bool(flags & BillLine.FLAG_EXEMPT)
    found = []
    for f in figures(bill):
        agreement = any(c == f"agreement:{nationality}" for c in f.covers) or (
            not nationality and any(c.startswith("agreement:") for c in f.covers)
        )
        if wanted.intersection(f.covers) or (exempt and agreement):
            found.append(f)
    return found


def weakest(statuses: Iterable[str]) -> str:
    """The weakest of recorded statuses; "" (not recorded) when any is not recorded."""
    items = list(statuses)
    if not items or any(s not in Status.__members__ for s in items):
        return ""
    return Status.weakest([Status(s) for s in items]).value


def line_status(bill: Bill, insurance: str, flags: int, nationality: str = "") -> str:
    """The weakest status behind one line ("" for a bill issued before statuses were recorded)."""
    return weakest(f.status for f in line_figures(bill, insurance, flags, nationality))


@dataclass(frozen=True)
class EarlierPolicy:
    """The policy of an earlier bill of the same month, which an adjustment corrects."""

    number: str
    span: str
    status: str
    figures: list[Figure]

    @property
    def label(self) -> str:
        return status_label(self.status)

    @property
    def word(self) -> str:
        return status_word(self.status)


@dataclass(frozen=True)
class BillPolicy:
    """A bill's policy for readers: its summary status in words, the sources of its figures, the
    rule behind its due date, and — for an adjustment after a new notice — the earlier policy."""

    bill: Bill
    recorded: RecordedPolicy | None
    figures: list[Figure]
    due: Figure | None
    earlier: list[EarlierPolicy]

    @property
    def status(self) -> str:
        return self.bill.policy_status

    @property
    def label(self) -> str:
        return status_label(self.status)

    @property
    def word(self) -> str:
        return status_word(self.status)

    @property
    def marked(self) -> bool:
        return needs_mark(self.status)

    @property
    def span(self) -> str:
        return self.recorded.span if self.recorded is not None else ""

    @property
    def url(self) -> str:
        """The link behind the summary: the source of the weakest figure, if it has an address."""
        ranked = sorted(
            self.figures,
            key=lambda f: -Status(f.status).weakness if f.status in Status.__members__ else 0,
        )
        return next((f.url for f in ranked if f.url), "")


def bill_policy(bill: Bill) -> BillPolicy:
    earlier: list[EarlierPolicy] = []
    if bill.kind == "adjustment":
        seen: set[tuple[int | None, str]] = {(bill.policy_id, bill.policy_version)}
        for old in (
            Bill.objects.filter(employer_id=bill.employer_id, month=bill.month, pk__lt=bill.pk)
            .select_related("policy")
            .order_by("pk")
        ):
            key = (old.policy_id, old.policy_version)
            if key in seen:
                continue
            seen.add(key)
            old_recorded = recorded_policy(old)
            earlier.append(
                EarlierPolicy(
                    old.number,
                    old_recorded.span if old_recorded is not None else "",
                    old.policy_status,
                    figures(old),
                )
            )
    return BillPolicy(bill, recorded_policy(bill), figures(bill), due_rule(bill), earlier)


def statement_sources(st: Statement) -> list[Figure]:
    """The sources behind an account statement: each year's crediting rate and the method."""
    rates = crediting_rates()
    by_year = {r.year: r.provenance for r in rates.rates}
    found: list[Figure] = []
    for year in st.years:
        p = by_year.get(year.rate_year)
        cover = f"crediting_rate:{year.rate_year}"
        if p is not None and not any(cover in f.covers for f in found):
            found.append(Figure((cover,), p.status.value, p.source))
    if st.years:
        found.append(Figure(("crediting_method",), rates.method.status.value, rates.method.source))
    return found


def source_url(source: str) -> str:
    """The first web address in a source text: the link a reader can follow."""
    found = _URL.search(source or "")
    return found.group(0).rstrip(".") if found else ""


def status_label(status: str) -> str:
    """The status in words, in the active language: what a reader needs to know about an amount."""
    if status == Status.UNCONFIRMED:
        return _("Provisional: based on figures awaiting an official notice")
    if status == Status.CONVENTION:
        return _("Convention: based on a rule expatsi adopted where the law is silent")
    if status == Status.SECONDARY:
        return _("Secondary source: based on figures not yet seen in an official text")
    if status == Status.CONFIRMED:
        return _("Confirmed: based on figures from an official text")
    return _("Status not recorded: issued before the status of figures was kept")


def status_word(status: str) -> str:
    """The status as one word, in the active language (for narrow columns)."""
    words = {
        Status.CONFIRMED.value: _("Confirmed"),
        Status.SECONDARY.value: _("Secondary source"),
        Status.CONVENTION.value: _("Convention"),
        Status.UNCONFIRMED.value: _("Provisional"),
    }
    return words.get(status, _("Not recorded"))


def needs_mark(status: str) -> bool:
    """Everything but CONFIRMED is marked where money is charged or credited."""
    return status != Status.CONFIRMED.value


def cover_label(code: str) -> str:
    from expatsi.billing.exports import insurance_label

    if code == "limits":
        return _("contribution base limits")
    if code == "work_injury_default":
        return _("assumed work-injury rate (no rating on file)")
    if code == "due_date":
        return _("due date")
    if code.startswith("agreement:"):
        return _("social security agreement with %(country)s") % {"country": code.split(":", 1)[1]}
    if code.startswith("crediting_rate:"):
        return _("crediting rate for %(year)s") % {"year": code.split(":", 1)[1]}
    if code == "crediting_method":
        return _("crediting method")
    return insurance_label(code)
