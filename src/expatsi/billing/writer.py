"""Bulk writing of bill lines: binary COPY on PostgreSQL, executemany elsewhere.

The binary COPY stream is assembled with NumPy structured arrays (big-endian fields), so writing
millions of lines costs a few whole-array operations, not a Python call per row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

LINE_COLUMNS = (
    "bill_id",
    "person_id",
    "insurance",
    "base",
    "employer_rate",
    "employee_rate",
    "employer_amount",
    "employee_amount",
    "flags",
    "note",
)
_PG_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_PG_TRAILER = b"\xff\xff"
# (column, numpy type, PostgreSQL binary width)
_NUMERIC = (
    ("bill_id", ">i8", 8),
    ("person_id", ">i8", 8),
    ("insurance", ">i2", 2),
    ("base", ">i8", 8),
    ("employer_rate", ">i4", 4),
    ("employee_rate", ">i4", 4),
    ("employer_amount", ">i8", 8),
    ("employee_amount", ">i8", 8),
    ("flags", ">i2", 2),
)


def _copy_buffer(columns: dict[str, npt.NDArray[np.int64]], n: int) -> bytes:
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for name, kind, _ in _NUMERIC:
        fields += [(f"{name}_len", ">i4"), (name, kind)]
    fields += [("note_len", ">i4")]  # an empty text value: length 0, no bytes
    rows = np.empty(n, dtype=np.dtype(fields))
    rows["count"] = len(_NUMERIC) + 1
    for name, _, width in _NUMERIC:
        rows[f"{name}_len"] = width
        rows[name] = columns[name]
    rows["note_len"] = 0
    return _PG_HEADER + rows.tobytes() + _PG_TRAILER


def medical_summaries(
    employers: npt.NDArray[np.int64], people: npt.NDArray[np.int64]
) -> dict[int, tuple[int, Any]] | None:
    """Per employer, the number of medical lines about to be written and the sum of
    ``hashint8extended(person_id, 0)`` over them (Bill.medical_people, medical_hash), computed by
    PostgreSQL itself so that the compliance check compares like with like (an employer with no
    medical line: absent). None elsewhere: the bills then carry no summary."""
    if connection.vendor != "postgresql":
        return None
    if not len(employers):
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e, COUNT(*), SUM(hashint8extended(p, 0))"
            " FROM unnest(%s::bigint[], %s::bigint[]) AS t(e, p) GROUP BY e",
            [employers.tolist(), people.tolist()],
        )
        return {int(e): (int(n), h) for e, n, h in cursor.fetchall()}


def write_lines(columns: dict[str, npt.NDArray[np.int64]], notes: list[str] | None = None) -> int:
    """Insert bill lines given column arrays of equal length. ``notes`` (for adjustment lines)
    forces the row-by-row path; monthly bills carry no note."""
    n = len(columns["bill_id"])
    if n == 0:
        return 0
    table = "billing_billline"
    if connection.vendor == "postgresql" and notes is None:
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper
            with raw.copy(
                f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.write(_copy_buffer(columns, n))
        return n
    note_values = notes if notes is not None else [""] * n
    data = zip(*(columns[c].tolist() for c, _, _ in _NUMERIC), note_values, strict=True)
    placeholders = ", ".join(["%s"] * len(LINE_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(LINE_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608 - fixed names
            list(data),
        )
    return n
