"""Downloads never carry a live spreadsheet formula from user data, never crash on control
characters already stored in a name, and keep amounts as numbers (negative ones included)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from expatsi.billing.models import BillLine
from expatsi.people.models import Person

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://x","click")'
EMPLOYER = "+cmd|' /C calc'!A0"
NOTE = "@SUM(1+1)*cmd|' /C calc'!A0"


def _control_name() -> str:
    """Control characters XLSX cannot hold; PostgreSQL text cannot hold NUL itself."""
    nul = "\x00" if connection.vendor == "sqlite" else ""
    return f"Mül{nul}\x01ler\x1b"


def _download(bworld, fmt: str, lang: str = "en"):
    from django.utils import translation

    with translation.override(lang):
        url = reverse("billing:bill_download", args=[bworld.bill_a.pk, fmt])
    return bworld.client("hr_a").get(url)


@pytest.fixture
def hostile(bworld):
    """Alpha's family name is a formula, Bravo's holds control characters, the employer's name
    and one line's note are formulas, and one line is a credit (a negative amount)."""
    Person.objects.filter(pk=bworld.alpha.pk).update(family_name=FORMULA)
    Person.objects.filter(pk=bworld.bravo.pk).update(family_name=_control_name())
    type(bworld.a).objects.filter(pk=bworld.a.pk).update(name=EMPLOYER)
    line = BillLine.objects.filter(bill=bworld.bill_a, person=bworld.bravo).order_by("id").first()
    assert line is not None
    BillLine.objects.filter(pk=line.pk).update(employee_amount=-1230, note=NOTE)
    return bworld


def test_csv_neutralises_formulas_and_keeps_numbers(hostile) -> None:
    r = _download(hostile, "csv")
    assert r.status_code == 200
    text = r.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text.split("\r\n\r\n")[0])))
    names = {int(row["person_id"]): row["name"] for row in rows}
    assert names[hostile.alpha.pk].upper().startswith("'=HYPERLINK(")  # full_name upper-cases
    assert not any(row["name"].startswith(("=", "+", "-", "@")) for row in rows)
    assert "\x00" not in text and "\x01" not in text and "\x1b" not in text
    credit = [row for row in rows if row["note"]]
    assert len(credit) == 1
    assert credit[0]["note"] == "'" + NOTE
    assert credit[0]["employee_amount"] == "-12.30"  # a number, not neutralised
    assert "total,6330.27" in text


def test_xlsx_has_no_formula_and_numeric_amounts(hostile) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    r = _download(hostile, "xlsx")
    assert r.status_code == 200, r.content[:200]
    book = load_workbook(io.BytesIO(r.content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
    summary = {row[0].value: row[1] for row in book["bill"].iter_rows()}
    assert summary["employer"].value == "'" + EMPLOYER
    assert summary["total"].data_type == "n"
    assert Decimal(str(summary["total"].value)) == Decimal("6330.27")
    assert summary["total"].number_format == "0.00"
    lines = list(book["lines"].iter_rows())
    header = [c.value for c in lines[0]]
    name, amount = header.index("name"), header.index("employee_amount")
    values = [[c.value for c in row] for row in lines[1:]]
    assert any(v[name].upper().startswith("'" + FORMULA.upper()) for v in values)
    assert any(v[name].upper().startswith("MÜL") and "\ufffd" in v[name] for v in values)
    credit = [row for row in lines[1:] if row[header.index("note")].value]
    assert credit[0][amount].data_type == "n" and credit[0][amount].value == pytest.approx(-12.3)
    assert all(row[amount].data_type == "n" for row in lines[1:])


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_bill_pdf_with_control_characters_in_a_name(hostile, lang: str) -> None:
    r = _download(hostile, "pdf", lang)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_statement_pdf_with_control_characters_in_the_name(hostile) -> None:
    for language in ("en", "zh-hans"):
        r = hostile.client("bravo").get(
            reverse("billing:statement_pdf", args=[language]) + "?on=2025-12-31"
        )
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
