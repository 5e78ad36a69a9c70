"""Reading every uploaded table (hires, declarations, entries and exits, bank statements) one way.

People upload what their spreadsheet program saves: Excel on Chinese Windows writes CSV in GBK
(GB18030), Excel's "Unicode text" is UTF-16, and a workbook is often renamed ``.csv``. The file's
content decides, not its name: a ZIP container is read as a workbook, text is decoded as UTF-8
when it is UTF-8 and otherwise in the encoding charset-normalizer finds.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import charset_normalizer

from expatsi.rules.errors import RuleError

ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a ZIP container
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
_CHINESE_LEGACY = {"gb18030", "gbk", "gb2312", "cp936", "hz"}


def is_workbook(data: bytes) -> bool:
    return data.startswith(ZIP_MAGIC)


def decode_text(data: bytes) -> str:
    """The text of an uploaded CSV file, whatever its encoding.

    Short Chinese text is valid in several East Asian encodings at once (GBK bytes also decode as
    Big5 or EUC-KR); among the encodings charset-normalizer finds plausible, GB18030 — a superset
    of GBK, what Chinese Windows writes — wins, since that is what a Chinese office saves."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if data.startswith(OLE_MAGIC):
        raise RuleError(
            "old_excel", "this is an old Excel file (.xls): save it as .xlsx or CSV", "file"
        )
    matches = charset_normalizer.from_bytes(data)
    for match in matches:
        if match.encoding in _CHINESE_LEGACY:
            return data.decode("gb18030")
    best = matches.best()
    if best is None or "\x00" in str(best):
        raise RuleError(
            "unreadable_text", "the file is not readable text: save it as CSV or .xlsx", "file"
        )
    return str(best)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def table_from_xlsx(data: bytes) -> list[list[str]]:
    """The cells of the first sheet of an Excel workbook (.xlsx), as text."""
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise RuleError("not_xlsx", "the file is not an Excel workbook (.xlsx)", "file") from None
    try:
        sheet = book.worksheets[0]
        return [[cell_text(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def table_from_csv(data: bytes) -> list[list[str]]:
    text = decode_text(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(text, newline=""), dialect))


def table_from_file(name: str, data: bytes) -> list[list[str]]:
    """The cells of an uploaded .csv/.txt/.xlsx file, read by its content (a workbook renamed
    ``.csv`` is still a workbook)."""
    lower = name.lower()
    if not lower.endswith((".xlsx", ".csv", ".txt")):
        raise RuleError("unsupported_file", "upload a .csv or .xlsx file", "file")
    if is_workbook(data) or lower.endswith(".xlsx"):
        return table_from_xlsx(data)
    return table_from_csv(data)


def csv_text(name: str, data: bytes) -> str:
    """An upload as CSV text, for the readers that parse CSV themselves: a workbook becomes CSV."""
    if is_workbook(data):
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(table_from_xlsx(data))
        return out.getvalue()
    return decode_text(data)


def rows_from_table(table: Sequence[Sequence[Any]]) -> list[dict[str, str]]:
    """Rows keyed by the (lower-cased) header; cells beyond the header under ``__extra__``."""
    if not table:
        raise RuleError("empty_file", "the file has no header row", "file")
    header = [cell_text(h).strip().lower() for h in table[0]]
    while header and not header[-1]:
        header.pop()
    rows = []
    for raw in table[1:]:
        cells = [cell_text(v) for v in raw]
        row = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}
        extra = [c for c in cells[len(header) :] if c]
        if extra:
            row["__extra__"] = " ".join(extra)
        rows.append(row)
    while rows and not any(rows[-1].values()):
        rows.pop()
    return rows


def rows_from_file(name: str, data: bytes) -> list[dict[str, str]]:
    return rows_from_table(table_from_file(name, data))
