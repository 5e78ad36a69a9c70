"""The one helper every CSV/XLSX export writes its cells through (no database needed)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from expatsi import spreadsheets
from expatsi.rules.money import format_yuan


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://x","click")',
        "+1+1",
        "-1+1",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "=cmd|' /C calc'!A0",
    ],
)
def test_formula_triggers_get_a_quote(value: str) -> None:
    assert spreadsheets.text(value) == "'" + value


@pytest.mark.parametrize("value", ["Müller", "", "A=1", "1-2", " =1", "'quoted", "安娜"])
def test_ordinary_text_is_unchanged(value: str) -> None:
    assert spreadsheets.text(value) == value


def test_illegal_characters_are_replaced_and_a_formula_behind_them_is_caught() -> None:
    assert spreadsheets.text("Mül\x00ler\x1b") == "Mül\ufffdler\ufffd"
    assert spreadsheets.text("tab\tand\nnew line") == "tab\tand\nnew line"  # legal in XLSX
    assert spreadsheets.text("\x00=1+1") == "\ufffd=1+1"  # no longer starts with "="


@pytest.mark.parametrize("fen", [0, 5, -5, 123456, -123456, 10**14])
def test_amounts_are_exact_numbers(fen: int) -> None:
    assert spreadsheets.yuan(fen) == Decimal(fen) / 100
    assert str(spreadsheets.yuan(fen)) == format_yuan(fen)
    assert spreadsheets.cell(spreadsheets.yuan(fen)) == spreadsheets.yuan(fen)


def test_csv_keeps_numbers_and_neutralises_text() -> None:
    out = spreadsheets.csv_text(
        [("name", "amount", "count"), ("=1+1", spreadsheets.yuan(-1230), 7), [], ("-x", None, 0)]
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [["name", "amount", "count"], ["'=1+1", "-12.30", "7"], [], ["'-x", "", "0"]]
    assert out.endswith("\r\n")


def test_xlsx_cells_are_strings_or_numbers_never_formulas() -> None:
    book = Workbook()
    sheet = book.active
    spreadsheets.append(sheet, ["=1+1", spreadsheets.yuan(-1230), "Mül\x00ler", 3])
    spreadsheets.append(sheet, [])
    spreadsheets.append(sheet, ["@x", spreadsheets.yuan(5)])
    out = io.BytesIO()
    book.save(out)  # no IllegalCharacterError
    loaded = load_workbook(io.BytesIO(out.getvalue())).active
    first = loaded[1]
    assert [c.data_type for c in first] == ["s", "n", "s", "n"]
    assert [c.value for c in first] == ["'=1+1", -12.3, "Mül\ufffdler", 3]
    assert first[1].number_format == "0.00"
    third = loaded[3]
    assert third[0].value == "'@x" and third[1].value == pytest.approx(0.05)
    assert third[1].number_format == "0.00"
