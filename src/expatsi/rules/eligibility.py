"""Who counts as a "foreigner working in China" (Order No. 16 Art. 2 as amended by Order No. 54).

Either a valid employment document (work permit / Integrated Card, or a resident foreign
journalist's press card) together with a valid residence permit, or a valid foreign permanent
resident ID card. The answer says which condition fails, and since when.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

DocumentKind = Literal[
    "work_permit", "integrated_card", "press_card", "residence_permit", "permanent_resident_id"
]
EMPLOYMENT_DOCUMENTS: frozenset[str] = frozenset({"work_permit", "integrated_card", "press_card"})
RESIDENCE_DOCUMENTS: frozenset[str] = frozenset({"residence_permit"})
PERMANENT_DOCUMENTS: frozenset[str] = frozenset({"permanent_resident_id"})
LEGAL_BASIS = "Order No. 16 Art. 2 (as amended by MOHRSS Order No. 54, 23 Dec 2024)"


@dataclass(frozen=True, slots=True)
class DocumentSpan:
    kind: str
    valid_from: date
    valid_to: date | None  # last valid day; None = no end date

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Eligibility:
    eligible: bool
    basis: Literal["employment_and_residence", "permanent_residence", ""]
    failing: tuple[str, ...]  # codes of the conditions that fail
    since: date | None  # the day the current answer began (None: for as long as records show)
    explanation: str
    legal_basis: str = LEGAL_BASIS


def _valid(spans: list[DocumentSpan], kinds: frozenset[str], day: date) -> bool:
    return any(s.kind in kinds and s.valid_on(day) for s in spans)


def _since(spans: list[DocumentSpan], day: date, answer: bool) -> date | None:
    """The first day of the unbroken run of ``answer`` that ends on ``day``.

    The answer can only change where a document starts or the day after one ends, so those
    boundaries are walked back from ``day``. An unbroken "not eligible" back to before the first
    document has no start (None).
    """
    boundaries = sorted(
        {s.valid_from for s in spans if s.valid_from <= day}
        | {s.valid_to + timedelta(days=1) for s in spans if s.valid_to and s.valid_to < day},
        reverse=True,
    )
    since: date | None = None
    for b in boundaries:
        if _is_eligible(spans, b) != answer:
            return since
        since = b
    return since if answer else None


def _is_eligible(spans: list[DocumentSpan], day: date) -> bool:
    return _valid(spans, PERMANENT_DOCUMENTS, day) or (
        _valid(spans, EMPLOYMENT_DOCUMENTS, day) and _valid(spans, RESIDENCE_DOCUMENTS, day)
    )


def eligibility(documents: Iterable[DocumentSpan], on: date) -> Eligibility:
    """Whether the person counts as a foreigner working in China on ``on``, and why."""
    spans = list(documents)
    if _valid(spans, PERMANENT_DOCUMENTS, on):
        return Eligibility(
            True,
            "permanent_residence",
            (),
            _since(spans, on, True),
            "holds a valid foreign permanent resident ID card",
        )
    employment = _valid(spans, EMPLOYMENT_DOCUMENTS, on)
    residence = _valid(spans, RESIDENCE_DOCUMENTS, on)
    if employment and residence:
        return Eligibility(
            True,
            "employment_and_residence",
            (),
            _since(spans, on, True),
            "holds a valid employment document and a valid residence permit",
        )
    failing = []
    if not employment:
        failing.append("no_valid_employment_document")
    if not residence:
        failing.append("no_valid_residence_permit")
    texts: dict[tuple[str, ...], str] = {
        ("no_valid_employment_document",): "no valid work permit, Integrated Card or press card",
        ("no_valid_residence_permit",): "no valid residence permit",
    }
    text = texts.get(
        tuple(failing), "neither a valid employment document nor a valid residence permit"
    )
    return Eligibility(
        False,
        "",
        tuple(failing),
        _since(spans, on, False),
        f"{text}, and no permanent resident ID card",
    )
