"""Uploaded tables as people save them: GBK CSV from Excel on Chinese Windows, a workbook renamed
.csv, the same passport twice in one file, a day that does not exist. For every import."""

from __future__ import annotations

import io

import pytest
from django.utils import translation
from openpyxl import Workbook

from expatsi import tabular
from expatsi.access.actors import actor_for_user
from expatsi.insurance.imports import hires_import, rows_from_file
from expatsi.people import imports as people_imports
from expatsi.rules.dates import parse_date
from expatsi.rules.errors import RowError, RuleError
from expatsi.web.templatetags.web import rule_error
from tests.insurance.test_imports import on_file, row
from tests.portal.factories import make_employer, make_hr

GBK_CSV = "family_name,given_names,chinese_name\n王,小明,王小明\n李,四,李四\n".encode("gbk")


def test_gbk_csv_from_chinese_excel_is_read() -> None:
    assert GBK_CSV.decode("gbk")  # real GBK bytes, not UTF-8
    with pytest.raises(UnicodeDecodeError):
        GBK_CSV.decode("utf-8")
    rows = rows_from_file("hires.csv", GBK_CSV)
    assert [r["chinese_name"] for r in rows] == ["王小明", "李四"]


def test_gb18030_and_utf16_text_is_read() -> None:
    text = "port\n上海浦东国际机场\n"
    assert tabular.decode_text(text.encode("gb18030")) == text
    assert tabular.decode_text(text.encode("utf-16")) == text
    assert tabular.decode_text(b"\xef\xbb\xbf" + text.encode()) == text


def test_a_workbook_renamed_csv_is_read_as_a_workbook() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["family_name", "chinese_name"])
    sheet.append(["Wang", "王小明"])
    out = io.BytesIO()
    book.save(out)
    assert rows_from_file("hires.csv", out.getvalue()) == [
        {"family_name": "Wang", "chinese_name": "王小明"}
    ]
    assert (
        tabular.csv_text("statement.csv", out.getvalue())
        == "family_name,chinese_name\nWang,王小明\n"
    )


def test_entry_exit_import_reads_gbk() -> None:
    content = (
        "passport_country,passport_number,date,direction,port\n"
        "DEU,C01X00T47,2025-03-01,entry,上海浦东国际机场\n"
    ).encode("gbk")
    rows, errors = people_imports._parse(content)
    assert errors == []
    assert rows[0].port == "上海浦东国际机场"


def test_a_day_that_does_not_exist_is_named() -> None:
    with pytest.raises(RuleError) as caught:
        parse_date("1992-02-30", field="birth_date")
    assert caught.value.code == "no_such_day"
    assert "there is no 30 February 1992" in caught.value.message
    assert caught.value.field == "birth_date"
    with pytest.raises(RuleError) as typo:
        parse_date("30/02/1992")
    assert typo.value.code == "invalid_date"


def test_the_reader_is_told_about_the_missing_day_in_their_language() -> None:
    error = RowError(
        2,
        "birth_date",
        "there is no 30 February 1992",
        "no_such_day",
        {"day": 30, "month": 2, "month_name": "February", "year": 1992},
    )
    with translation.override("en"):
        assert "There is no 30 February 1992" in rule_error(error)
    with translation.override("zh-hans"):
        assert "1992年二月没有30日" in rule_error(error)


@pytest.mark.django_db
def test_hire_import_names_impossible_dates_and_passports_twice_in_the_file() -> None:
    employer = make_employer()
    actor = actor_for_user(make_hr(employer))
    rows = [
        row(1),
        row(2, birth_date="1992-02-30"),
        row(3),
        row(4, passport_number="P0000001", family_name="Other"),  # row 1's passport
    ]
    on_file(employer, [rows[0], rows[2]])  # the cards the good rows name
    report = hires_import(actor=actor, employer=employer, rows=rows, dry_run=True)
    found = {(e.row, e.column, e.code): e for e in report.errors}
    assert set(found) == {
        (3, "birth_date", "no_such_day"),
        (5, "passport_number", "duplicate_in_file"),
    }
    assert "there is no 30 February 1992" in found[(3, "birth_date", "no_such_day")].message
    twice = found[(5, "passport_number", "duplicate_in_file")]
    assert "appears twice in this file (rows 2 and 5)" in twice.message
    with translation.override("zh-hans"):
        assert "第2行和第5行" in rule_error(twice)
