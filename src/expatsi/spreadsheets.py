"""Cells for every CSV and XLSX download: text can never become a formula, and never breaks the file.

A name such as ``=HYPERLINK("http://x","click")`` typed into a form would otherwise come out of a
download as a live formula (CSV/formula injection). Text that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading single quote, as OWASP recommends; numbers are
passed as numbers (``int`` or ``Decimal``), so amounts — negative ones included — stay numbers.

Control characters that XLSX cannot hold (NUL and most of C0) make openpyxl refuse the whole
workbook; they are replaced with U+FFFD in every export, so old data never breaks a download and
the odd character stays visible for someone to correct.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

# NUL, C0 controls but tab/LF/CR: what openpyxl refuses, applied to CSV as well.
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

REPLACEMENT = "\ufffd"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
AMOUNT_FORMAT = "0.00"

Cell = str | int | Decimal | date | None


def text(value: str) -> str:
    """User text made inert for a spreadsheet: legal characters only, never a formula."""
    value = ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def cell(value: Cell) -> Cell:
    """Text through :func:`text`; numbers and dates as they are."""
    return text(value) if isinstance(value, str) else value


def yuan(fen: int) -> Decimal:
    """An amount in fen as an exact yuan number with two decimals: 123456 → Decimal('1234.56')."""
    return Decimal(fen).scaleb(-2)


def row(values: Iterable[Cell]) -> list[Cell]:
    return [cell(v) for v in values]


def csv_text(rows: Iterable[Sequence[Cell]]) -> str:
    """CSV with CRLF line ends (as spreadsheets write it); an empty row is a blank line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for values in rows:
        writer.writerow(["" if v is None else v for v in row(values)])
    return out.getvalue()


def append(sheet: Any, values: Iterable[Cell]) -> None:
    """Append one row to an openpyxl worksheet: text as text cells, amounts as two-decimal numbers."""
    cells = row(values)
    sheet.append(cells)
    if not cells:
        return
    for written, value in zip(sheet[sheet.max_row], cells, strict=False):
        if isinstance(value, str):
            written.data_type = "s"  # even "'=…" stays a string, never a formula
        elif isinstance(value, Decimal):
            written.number_format = AMOUNT_FORMAT
