"""The compliance rules as data: which checks run, how severe their findings are, their
parameters, the fines a finding can lead to, and the regional legacy rules that suspend them.

Why data: an agency tunes a severity, a clock or a lookback, or enters its own legacy rule, without
a code change; every rule carries its article, source and status like every other policy table.
The SQL of each check lives in ``checks.py`` under the same key; the two must match (checked
when the file is first read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

from expatsi.cases.checks import CHECKS
from expatsi.rules.errors import RuleError
from expatsi.rules.penalties import fine_kinds
from expatsi.rules.policy import Provenance, read_table

POLICY_ROOT = Path(__file__).with_name("policies")
FILE = "compliance.toml"
SEVERITIES = ("low", "medium", "high")
PARAMETERS = ("days", "lookback_months", "min_days_abroad")


@dataclass(frozen=True, slots=True)
class ComplianceRule:
    key: str
    label: str
    label_zh: str
    article: str
    severity: str
    fines: tuple[str, ...]
    params: dict[str, int]
    provenance: Provenance

    def display(self, language: str | None = None) -> str:
        lang = language or get_language() or "en"
        return self.label_zh if lang.startswith("zh") and self.label_zh else self.label

    def param(self, name: str) -> int:
        return self.params[name]


@dataclass(frozen=True, slots=True)
class LegacyRule:
    key: str
    label: str
    label_zh: str
    document: str
    region: str
    in_force_from: date
    in_force_to: date
    obligation_from: date
    suspends: frozenset[str]
    provenance: Provenance

    def display(self, language: str | None = None) -> str:
        lang = language or get_language() or "en"
        return self.label_zh if lang.startswith("zh") and self.label_zh else self.label


@dataclass(frozen=True, slots=True)
class Registry:
    rules: dict[str, ComplianceRule]
    legacy: dict[str, LegacyRule]
    provenance: Provenance

    def legacy_for(self, rule: str) -> list[LegacyRule]:
        return [lr for lr in self.legacy.values() if rule in lr.suspends]


@cache
def registry() -> Registry:
    """Read and validate ``compliance.toml`` once; an error names the file and the field."""
    t = read_table(FILE, root=POLICY_ROOT)
    meta = t.table("meta").provenance()
    known_fines = set(fine_kinds())
    rules: dict[str, ComplianceRule] = {}
    for row in t.tables("rules"):
        key = row.str("key")
        if key in rules:
            raise row.error("key", f"{key!r} is listed twice")
        if key not in CHECKS:
            raise row.error("key", f"{key!r} has no check in expatsi/cases/checks.py")
        severity = row.str("severity")
        if severity not in SEVERITIES:
            raise row.error("severity", f"{severity!r} is not one of {', '.join(SEVERITIES)}")
        fines = row.raw("fines")
        if not isinstance(fines, list) or not all(isinstance(f, str) for f in fines):
            raise row.error("fines", "must be a list of fine kinds (may be empty)")
        for f in fines:
            if f not in known_fines:
                raise row.error("fines", f"{f!r} is not a fine kind of penalties.toml")
        params = {p: row.int(p, lo=1, hi=3650) for p in PARAMETERS if p in row}
        for needed in CHECKS[key].params:
            if needed not in params:
                raise row.error(needed, "is required by this check")
        rules[key] = ComplianceRule(
            key=key,
            label=row.str("label"),
            label_zh=row.str("label_zh", ""),
            article=row.str("article"),
            severity=severity,
            fines=tuple(fines),
            params=params,
            provenance=row.provenance(meta),
        )
    missing = sorted(set(CHECKS) - set(rules))
    if missing:
        raise t.error("rules", f"checks not listed (they would never run): {', '.join(missing)}")
    legacy: dict[str, LegacyRule] = {}
    for row in t.tables("legacy") if "legacy" in t else []:
        key = row.str("key")
        suspends = row.raw("suspends")
        if not isinstance(suspends, list) or not all(s in rules for s in suspends):
            raise row.error("suspends", f"must list rules of this file ({', '.join(rules)})")
        start, end = row.date("in_force_from"), row.date("in_force_to")
        if end < start:
            raise row.error("in_force_to", f"{end} is before in_force_from {start}")
        obligation = row.date("obligation_from")
        if obligation <= end:
            raise row.error("obligation_from", f"must follow in_force_to {end}")
        legacy[key] = LegacyRule(
            key=key,
            label=row.str("label"),
            label_zh=row.str("label_zh", ""),
            document=row.str("document"),
            region=row.str("region"),
            in_force_from=start,
            in_force_to=end,
            obligation_from=obligation,
            suspends=frozenset(suspends),
            provenance=row.provenance(meta),
        )
    return Registry(rules=rules, legacy=legacy, provenance=meta)


def rule(key: str) -> ComplianceRule:
    found = registry().rules.get(key)
    if found is None:
        raise RuleError(
            "unknown_rule",
            f"{key!r} is not a compliance rule; accepted: {', '.join(registry().rules)}",
            "rule",
        )
    return found
