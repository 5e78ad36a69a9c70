"""Policy tables: TOML data files with effective dates, a source and a status for every figure.

Why data, not code: every city publishes new limits every year, often weeks late, and an agency must
be able to enter its own local rule (or replace one of our CONVENTIONs) without a code change.
Files are validated when first loaded; an error names the file and the field.
"""

from __future__ import annotations

import builtins
import enum
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from expatsi.rules.dates import Month
from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.money import parse_rate, parse_yuan

POLICY_DIR = Path(__file__).with_name("policies")


class Status(enum.StrEnum):
    """How well a figure is sourced (see shared/policy-facts.md); ordered strongest first.

    CONVENTION ranks above UNCONFIRMED: a convention is a documented choice an agency can replace,
    while an UNCONFIRMED figure is a value nobody has seen an official text for. A result resting
    on both is UNCONFIRMED.
    """

    CONFIRMED = "CONFIRMED"
    SECONDARY = "SECONDARY"
    CONVENTION = "CONVENTION"
    UNCONFIRMED = "UNCONFIRMED"

    @property
    def weakness(self) -> int:
        return list(Status).index(self)

    @staticmethod
    def weakest(statuses: Iterator[Status] | list[Status] | tuple[Status, ...]) -> Status:
        """The least certain status among several: what a result built on them deserves."""
        items = list(statuses)
        return max(items, key=lambda s: s.weakness) if items else Status.CONFIRMED


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a figure comes from and how sure we are of it."""

    status: Status
    source: str
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        d = {"status": self.status.value, "source": self.source}
        if self.note:
            d["note"] = self.note
        return d


class Table:
    """A view of one TOML table that knows its file and path, so every error can name both."""

    def __init__(
        self, data: Mapping[str, Any], file: builtins.str, path: builtins.str = ""
    ) -> None:
        self.data = data
        self.file = file
        self.path = path

    def _where(self, key: builtins.str) -> builtins.str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: builtins.str, message: builtins.str) -> PolicyDataError:
        return PolicyDataError(self.file, self._where(key), message)

    def __contains__(self, key: builtins.str) -> builtins.bool:
        return key in self.data

    def keys(self) -> list[builtins.str]:
        return list(self.data.keys())

    def raw(self, key: builtins.str, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.error(key, "is required")
            return default
        return self.data[key]

    def str(self, key: builtins.str, default: builtins.str | None = None) -> builtins.str:
        value = self.raw(key, default if default is not None else ...)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {value!r}")
        return value

    def int(
        self,
        key: builtins.str,
        default: builtins.int | None = None,
        *,
        lo: builtins.int | None = None,
        hi: builtins.int | None = None,
    ) -> builtins.int:
        value = self.raw(key, default if default is not None else ...)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, f"must be an integer, got {value!r}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.error(key, f"{value} is outside {lo}…{hi}")
        return value

    def bool(self, key: builtins.str, default: builtins.bool | None = None) -> builtins.bool:
        value = self.raw(key, default if default is not None else ...)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def yuan(self, key: builtins.str, default: builtins.int | None = None) -> builtins.int:
        """An amount written as a yuan string (``"35283"`` or ``"3.00"``) → fen."""
        if key not in self.data and default is not None:
            return default
        value = self.raw(key)
        try:
            return parse_yuan(str(value) if isinstance(value, int) else value, field=key)
        except (RuleError, TypeError) as exc:
            raise self.error(key, str(exc)) from None

    def rate(self, key: builtins.str, default: builtins.int | None = None) -> builtins.int:
        """A rate written as ``"16%"`` or ``"0.16"`` → ppm."""
        if key not in self.data and default is not None:
            return default
        try:
            return parse_rate(self.raw(key), field=key)
        except RuleError as exc:
            raise self.error(key, exc.message) from None

    def month(self, key: builtins.str, default: Month | None = None) -> Month:
        if key not in self.data and default is not None:
            return default
        try:
            return Month.parse(self.str(key), field=key)
        except RuleError as exc:
            raise self.error(key, exc.message) from None

    def date(self, key: builtins.str, default: date | None = None) -> date:
        if key not in self.data and default is not None:
            return default
        value = self.raw(key)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.error(key, f"{value!r} is not a date (YYYY-MM-DD)") from None

    def status(self, key: builtins.str = "status", default: Status | None = None) -> Status:
        if key not in self.data and default is not None:
            return default
        value = self.str(key)
        try:
            return Status(value)
        except ValueError:
            raise self.error(
                key, f"{value!r} is not one of {', '.join(s.value for s in Status)}"
            ) from None

    def provenance(self, default: Provenance | None = None) -> Provenance:
        """``status`` + ``source`` (+ optional ``note``), inheriting from ``default`` when absent."""
        if default is None or "status" in self.data or "source" in self.data:
            status = self.status(default=default.status if default else None)
            source = self.str("source", default.source if default else None)
            return Provenance(status, source, self.str("note", ""))
        return Provenance(default.status, default.source, self.str("note", default.note))

    def table(self, key: builtins.str) -> Table:
        value = self.raw(key)
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table")
        return Table(value, self.file, self._where(key))

    def tables(self, key: builtins.str) -> list[Table]:
        """An array of tables (``[[key]]``)."""
        value = self.raw(key)
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.error(key, "must be an array of tables ([[...]])")
        return [Table(v, self.file, f"{self._where(key)}[{i}]") for i, v in enumerate(value)]


def read_table(relative: str, *, root: Path | None = None) -> Table:
    """Read one TOML file under the policy directory as a :class:`Table`.

    The file's ``[meta] status`` must not claim more than the weakest status written anywhere in
    it (see :func:`check_header_status`)."""
    path = (root or POLICY_DIR) / relative
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise PolicyDataError(relative, "-", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyDataError(relative, "-", f"not valid TOML: {exc}") from None
    table = Table(data, relative)
    check_header_status(table)
    return table


def _statuses(value: Any, path: str) -> Iterator[tuple[str, Status]]:
    """Every ``status`` or ``*_status`` value under ``value``, with its dotted path."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if (key == "status" or str(key).endswith("_status")) and isinstance(item, str):
                if item in Status.__members__:
                    yield where, Status(item)
            else:
                yield from _statuses(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _statuses(item, f"{path}[{i}]")


def check_header_status(t: Table) -> None:
    """A file's header is the summary of its figures: it may not be stronger than the weakest.

    Why: listings (``expatsi rules policies``) and readers take the header at its word; a header
    saying CONFIRMED over UNCONFIRMED periods hid exactly the figures that most need checking."""
    if "meta" not in t or not isinstance(t.data["meta"], Mapping):
        return
    header = t.data["meta"].get("status")
    if not isinstance(header, str) or header not in Status.__members__:
        return  # an unknown or missing status is reported by the file's own parser
    claimed = Status(header)
    found = [
        (where, s) for key, v in t.data.items() if key != "meta" for where, s in _statuses(v, key)
    ]
    if not found:
        return
    where, weakest = max(found, key=lambda item: item[1].weakness)
    if weakest.weakness > claimed.weakness:
        raise PolicyDataError(
            t.file,
            "meta.status",
            f"{claimed.value} claims more than the file's weakest figure: {weakest.value} at "
            f"{where}; the header must be {weakest.value}",
        )


@dataclass(frozen=True, slots=True)
class Effective:
    """An effective-dated span of whole months, both ends included; ``last`` None = open-ended."""

    first: Month
    last: Month | None

    def contains(self, month: Month) -> bool:
        return self.first <= month and (self.last is None or month <= self.last)

    def __str__(self) -> str:
        return f"{self.first}…{self.last or ''}"


def check_no_gaps_or_overlaps(spans: list[tuple[Effective, str]], file: str, what: str) -> None:
    """Spans of one series must follow each other month to month: no gap, no overlap."""
    ordered = sorted(spans, key=lambda s: s[0].first)
    for (a, where_a), (b, where_b) in pairwise(ordered):
        if a.last is None:
            raise PolicyDataError(file, where_a, f"{what} is open-ended but {where_b} follows it")
        if b.first.index <= a.last.index:
            raise PolicyDataError(file, where_b, f"{what} {b} overlaps {a} ({where_a})")
        if b.first.index != a.last.index + 1:
            raise PolicyDataError(
                file, where_b, f"{what}: gap between {a.last} and {b.first} ({where_a})"
            )


@cache
def policy_files() -> tuple[str, ...]:
    """Every TOML file shipped, relative to the policy directory (for listings and validation)."""
    return tuple(sorted(str(p.relative_to(POLICY_DIR)) for p in POLICY_DIR.rglob("*.toml")))
