"""A bill of a provisional period shows its status in every format, in both languages, with the
sources behind links: page, list, PDF, CSV, XLSX, API; the employee's contributions, account
statement (page, PDF, API) and the declarations page too.

The bills of the fixture are for 2025-08: Beijing's and Shanghai's 2025–26 rates were never seen
in a notice (policy-facts.md 3.2, 3.3: "assumed unchanged", UNCONFIRMED), so both are UNCONFIRMED.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
import subprocess
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from expatsi.access.actors import SYSTEM
from expatsi.billing.models import Bill, BillKind, BillLine
from expatsi.billing.services import billing_recalculate, billing_run, payment_record
from expatsi.rules.dates import Month
from expatsi.rules.policy import Provenance, Status
from expatsi.rules.regions import region
from tests.billing.web.conftest import API, fen

pytestmark = pytest.mark.django_db

PROVISIONAL_EN = "Provisional: based on figures awaiting an official notice"
PROVISIONAL_ZH = "暂定：所依据的数据尚待正式通知"


def zh(name: str, *args: object) -> str:
    with translation.override("zh-hans"):
        return reverse(name, args=args)


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="no pdftotext")


def test_the_bills_record_unconfirmed(bworld):
    assert bworld.bill_a.policy_status == "UNCONFIRMED"
    assert bworld.bill_b.policy_status == "UNCONFIRMED"


def test_bill_page_marks_the_status_in_words_in_both_languages(bworld):
    hr = bworld.client("hr_a")
    r = hr.get(reverse("billing:bill", args=[bworld.bill_a.pk]))
    assert r.status_code == 200
    assert PROVISIONAL_EN in r.text and "UNCONFIRMED" in r.text
    # every line shown is marked (the lines of ¥0.00 are left out of the page, not out of the
    # exports), and the sources are listed
    lines = BillLine.objects.filter(bill=bworld.bill_a)
    # 10 lines; Alpha's exempt pension and unemployment and both maternity lines (merged into
    # medical in Beijing) are ¥0.00
    assert lines.exclude(employer_amount=0, employee_amount=0).count() == 6
    assert r.text.count(f'title="{PROVISIONAL_EN}"') >= 6
    assert 'id="policy-sources"' in r.text
    assert "No 2025 rate notice seen" in r.text  # the source of the assumed rates
    # the list marks it too
    r = hr.get(reverse("billing:bills"))
    assert f'title="{PROVISIONAL_EN}"' in r.text
    r = hr.get(zh("billing:bill", bworld.bill_a.pk))
    assert PROVISIONAL_ZH in r.text
    assert PROVISIONAL_EN not in r.text


def test_a_confirmed_bill_says_confirmed_and_links_its_source(bworld):
    billing_run(actor=SYSTEM, region_code="110000", month=Month(2024, 9))
    bill = Bill.objects.get(employer=bworld.a, month="2024-09")
    r = bworld.client("hr_a").get(reverse("billing:bill", args=[bill.pk]))
    assert "Confirmed: based on figures from an official text" in r.text
    assert PROVISIONAL_EN not in r.text
    # 京人社发〔2024〕12号's English translation is behind a link
    assert 'href="http://www.tejiafabu.cn/d4/3410"' in r.text


def test_the_due_date_says_it_is_a_convention(bworld):
    r = bworld.client("hr_a").get(reverse("billing:bill", args=[bworld.bill_a.pk]))
    assert 'title="Convention: based on a rule expatsi adopted where the law is silent"' in r.text


def test_csv_and_xlsx_have_a_status_column(bworld):
    from openpyxl import load_workbook

    hr = bworld.client("hr_a")
    r = hr.get(reverse("billing:bill_download", args=[bworld.bill_a.pk, "csv"]))
    text = r.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text.split("\r\n\r\n")[0])))
    assert len(rows) == 10
    assert {row["policy_status"] for row in rows} == {"UNCONFIRMED"}
    assert {row["policy_status_text"] for row in rows} == {PROVISIONAL_EN}
    assert "policy_status,UNCONFIRMED," in text
    assert "policy_source,UNCONFIRMED," in text
    r = hr.get(reverse("billing:bill_download", args=[bworld.bill_a.pk, "xlsx"]))
    book = load_workbook(io.BytesIO(r.content))
    summary = {row[0]: row[1:] for row in book["bill"].iter_rows(values_only=True)}
    assert summary["policy_status"][:2] == ("UNCONFIRMED", PROVISIONAL_EN)
    lines = list(book["lines"].iter_rows(values_only=True))
    column = lines[0].index("policy_status")
    assert {row[column] for row in lines[1:]} == {"UNCONFIRMED"}


@needs_poppler
def test_bill_pdf_marks_the_status_in_both_languages(bworld, tmp_path):
    hr = bworld.client("hr_a")
    r = hr.get(reverse("billing:bill_download", args=[bworld.bill_a.pk, "pdf"]))
    text = " ".join(pdf_text(r.content, tmp_path).split())
    assert "UNCONFIRMED" in text and PROVISIONAL_EN in text
    r = hr.get(zh("billing:bill_download", bworld.bill_a.pk, "pdf"))
    text = "".join(pdf_text(r.content, tmp_path).split())
    assert "UNCONFIRMED" in text and PROVISIONAL_ZH in text


def test_api_bill_and_bill_list_carry_the_status(bworld):
    hr = bworld.client("hr_a")
    listed = hr.get(f"{API}/bills").json()["items"]
    assert [b["policy_status"] for b in listed] == ["UNCONFIRMED"]
    body = hr.get(f"{API}/bills/{bworld.bill_a.pk}").json()
    assert body["policy_status"] == "UNCONFIRMED"
    assert body["policy"]["period"] == "2025-07…2026-06"
    assert body["policy"]["status_text"] == PROVISIONAL_EN
    assert body["policy"]["due_date_rule"]["status"] == "CONVENTION"
    by_cover = {c: f for f in body["policy"]["figures"] for c in f["covers"]}
    assert by_cover["limits"]["status"] == "SECONDARY"  # 京人社发〔2025〕11号 via a dataset
    assert by_cover["pension"]["status"] == "UNCONFIRMED"
    assert by_cover["agreement:DEU"]["status"] == "CONFIRMED"
    lines = hr.get(body["lines_url"]).json()["items"]
    assert {line["status"] for line in lines} == {"UNCONFIRMED"}
    assert by_cover["pension"]["url"].startswith("https://forvismazars.com/")


def _paid(bworld):
    payment_record(
        actor=SYSTEM, employer=bworld.a, amount=bworld.bill_a.total, received_on=date(2025, 9, 10)
    )


def test_employee_api_contributions_and_account_carry_the_status(bworld):
    _paid(bworld)
    c = bworld.client("bravo")
    (row,) = c.get(f"{API}/me/contributions").json()["items"]
    assert (row["status"], row["status_text"]) == ("UNCONFIRMED", PROVISIONAL_EN)
    assert any(s["status"] == "UNCONFIRMED" for s in row["sources"])
    account = c.get(f"{API}/me/account?on=2025-12-31").json()
    # 2025 credited at 1.50% (UNCONFIRMED, policy-facts.md 6.1) with the monthly-accumulation
    # method (CONVENTION): the statement is UNCONFIRMED, not CONVENTION.
    assert account["status"] == "UNCONFIRMED"
    assert account["status_text"] == PROVISIONAL_EN
    assert account["years"][0]["status"] == "UNCONFIRMED"
    covers = {c for s in account["sources"] for c in s["covers"]}
    assert covers == {"crediting_rate:2025", "crediting_method"}


def test_employee_page_marks_contributions_and_statement(bworld):
    _paid(bworld)
    c = bworld.client("bravo")
    r = c.get(reverse("billing:me") + "?on=2025-12-31")
    assert 'id="statement-status"' in r.text
    assert r.text.count(PROVISIONAL_EN) >= 2  # the statement and the month of 2025-08
    assert "UNCONFIRMED" in r.text
    assert 'href="https://www.fcgs.gov.cn/ggfw/zxbs/shbz/wyk/zybg/t26140294.shtml"' in r.text
    r = c.get(zh("billing:me") + "?on=2025-12-31")
    assert PROVISIONAL_ZH in r.text


@needs_poppler
def test_statement_pdf_says_unconfirmed_in_both_languages(bworld, tmp_path):
    _paid(bworld)
    c = bworld.client("bravo")
    for language, words in (("en", PROVISIONAL_EN), ("zh-hans", PROVISIONAL_ZH)):
        r = c.get(reverse("billing:statement_pdf", args=[language]) + "?on=2025-12-31")
        text = pdf_text(r.content, tmp_path)
        flat = "".join(text.split()) if language == "zh-hans" else " ".join(text.split())
        # the summary: UNCONFIRMED, not the CONVENTION of the crediting method
        summary = f"UNCONFIRMED · {words}" if language == "en" else f"UNCONFIRMED·{words}"
        assert summary in flat


def test_declarations_page_marks_the_limits(bworld):
    r = bworld.client("hr_a").get(
        reverse("billing:declarations") + f"?employer={bworld.a.pk}&period=2025-08"
    )
    assert 'id="limits-status"' in r.text
    # Beijing 2025–26 limits: 京人社发〔2025〕11号 via a third-party dataset, SECONDARY.
    assert "Secondary source: based on figures not yet seen in an official text" in r.text
    r = bworld.client("hr_a").get(
        zh("billing:declarations") + f"?employer={bworld.a.pk}&period=2026-08"
    )
    assert PROVISIONAL_ZH in r.text


def test_adjustment_page_after_a_new_notice_shows_old_and_new_sources(bworld, monkeypatch):
    policy = region("110000")
    period = policy.period_for(Month(2025, 8))
    notice = Provenance(
        Status.CONFIRMED, "京人社发〔2025〕99号 (test notice) https://example.org/n99"
    )
    rules = {
        k: dataclasses.replace(r, base_lower=fen("7500"), provenance=notice)
        for k, r in period.rules.items()
    }
    new_period = dataclasses.replace(period, rules=rules, provenance=notice)
    periods = tuple(new_period if p is period else p for p in policy.periods)
    patched = {"110000": dataclasses.replace(policy, periods=periods), "310000": region("310000")}
    monkeypatch.setattr("expatsi.rules.regions.regions", lambda: patched)
    billing_recalculate(
        actor=SYSTEM,
        region_code="110000",
        from_month=Month(2025, 8),
        to_month=Month(2025, 8),
        issued_on=date(2026, 3, 20),
    )
    adj = Bill.objects.get(employer=bworld.a, kind=BillKind.ADJUSTMENT)
    r = bworld.client("hr_a").get(reverse("billing:bill", args=[adj.pk]))
    assert 'id="policy-change"' in r.text
    assert f"Before: bill {bworld.bill_a.number}, period 2025-07…2026-06" in r.text
    assert "No 2025 rate notice seen" in r.text  # the old source
    assert 'href="https://example.org/n99"' in r.text  # the new one
    # Bravo's pension: 7,162.00 → 7,500.00; 1,145.92 → 1,200.00 (+54.08).
    assert "base ¥7,162.00 → ¥7,500.00; employer ¥1,145.92 → ¥1,200.00 (+¥54.08)" in r.text
    body = bworld.client("hr_a").get(f"{API}/bills/{adj.pk}").json()
    (old,) = body["earlier_policies"]
    assert (old["bill_number"], old["status"]) == (bworld.bill_a.number, "UNCONFIRMED")
    assert body["policy_status"] == "CONFIRMED"
