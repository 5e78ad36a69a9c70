"""The first-entry steps under the Integrated Card, as written in ``national/first_entry.toml``.

Why data: the steps, their laws and the status of each are policy facts that change with a notice
(the 2024 integration removed one step and the card page must follow); a step's deadline is a
clock of deadlines.toml, so one number is never written in two places.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from expatsi.rules.deadlines import Clock, clocks
from expatsi.rules.errors import PolicyDataError
from expatsi.rules.policy import Provenance, Table, read_table

_FILE = "national/first_entry.toml"


@dataclass(frozen=True, slots=True)
class FirstEntryStep:
    key: str
    title: str
    title_zh: str
    law: str
    provenance: Provenance
    clock: Clock | None = None

    def label(self, language: str | None) -> str:
        """The title in ``language`` (Chinese for any ``zh…`` code, English otherwise)."""
        return self.title_zh if (language or "").lower().startswith("zh") else self.title


@cache
def first_entry_steps() -> Sequence[FirstEntryStep]:
    """Every step in order, loaded and validated once."""
    return parse_first_entry(read_table(_FILE))


def parse_first_entry(t: Table) -> tuple[FirstEntryStep, ...]:
    """Validate the steps; every error names the file and the field."""
    meta = t.table("meta")
    meta.str("title")
    meta.str("title_zh")
    known = clocks()
    found: list[FirstEntryStep] = []
    seen: set[str] = set()
    for row in t.tables("steps"):
        key = row.str("key")
        if key in seen:
            raise row.error("key", f"{key!r} is listed twice")
        seen.add(key)
        kind = row.str("clock", "") if "clock" in row else ""
        if kind and kind not in known:
            raise row.error("clock", f"{kind!r} is not a clock in deadlines.toml")
        found.append(
            FirstEntryStep(
                key=key,
                title=row.str("title"),
                title_zh=row.str("title_zh"),
                law=row.str("law"),
                provenance=row.provenance(),
                clock=known[kind] if kind else None,
            )
        )
    if not found:
        raise PolicyDataError(t.file, "steps", "is empty")
    return tuple(found)


def step(key: str) -> FirstEntryStep:
    for s in first_entry_steps():
        if s.key == key:
            return s
    raise PolicyDataError(_FILE, "steps", f"no step {key!r}")  # a code/data mismatch
