"""Billing pages per role, and the downloads: CSV matches the lines, XLSX opens, PDFs carry real
Chinese text in an embedded CJK font."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from expatsi.access.actors import SYSTEM
from expatsi.billing.models import BaseDeclaration, Bill, BillLine, Payment
from expatsi.billing.services import payment_record
from expatsi.rules.money import format_yuan

pytestmark = pytest.mark.django_db


def en(name: str, *args: object) -> str:
    with translation.override("en"):
        return reverse(name, args=args)


def zh(name: str, *args: object) -> str:
    with translation.override("zh-hans"):
        return reverse(name, args=args)


def _pdf_text(data: bytes, tmp_path) -> tuple[str, str]:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return text, fonts


needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="poppler-utils (pdftotext, pdffonts) not installed",
)


def test_hr_pages_render_and_tenancy_holds(bworld):
    hr = bworld.client("hr_a")
    r = hr.get(reverse("billing:bills"))
    assert r.status_code == 200
    assert bworld.bill_a.number in r.text and bworld.bill_b.number not in r.text
    r = hr.get(reverse("billing:bill", args=[bworld.bill_a.pk]) + "?on=2025-10-01")
    assert r.status_code == 200
    assert "50.64" in r.text  # the late fee to 1 Oct (see test_api)
    assert "Raised to the lower limit" in r.text
    assert hr.get(reverse("billing:bill", args=[bworld.bill_b.pk])).status_code == 404
    assert hr.get(reverse("billing:payments")).status_code == 200
    assert (
        bworld.client("bravo").get(reverse("billing:bill", args=[bworld.bill_a.pk])).status_code
        == 404
    )
    assert bworld.client("hr_a").get(reverse("billing:collection")).status_code == 403


def test_bill_page_in_chinese(bworld):
    r = bworld.client("hr_a").get(zh("billing:bill", bworld.bill_a.pk))
    assert r.status_code == 200
    assert '<html lang="zh-Hans">' in r.text
    assert "北京" in r.text  # the region's Chinese name


def test_csv_matches_the_lines(bworld):
    r = bworld.client("hr_a").get(reverse("billing:bill_download", args=[bworld.bill_a.pk, "csv"]))
    assert r.status_code == 200
    text = r.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text.split("\r\n\r\n")[0])))
    lines = list(BillLine.objects.filter(bill=bworld.bill_a).order_by("id"))
    assert len(rows) == len(lines) == 10
    got = sorted(
        (int(r["person_id"]), r["insurance"], r["base"], r["employer_amount"], r["employee_amount"])
        for r in rows
    )
    want = sorted(
        (
            ln.person_id,
            ("pension", "medical", "unemployment", "work_injury", "maternity")[ln.insurance],
            format_yuan(ln.base),
            format_yuan(ln.employer_amount),
            format_yuan(ln.employee_amount),
        )
        for ln in lines
    )
    assert got == want
    assert "total,6330.27" in text


def test_xlsx_opens_with_openpyxl(bworld):
    from openpyxl import load_workbook

    r = bworld.client("hr_a").get(reverse("billing:bill_download", args=[bworld.bill_a.pk, "xlsx"]))
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    summary = {row[0]: row[1] for row in book["bill"].iter_rows(values_only=True)}
    assert summary["bill_number"] == bworld.bill_a.number
    assert summary["total"] == pytest.approx(6330.27)  # a number cell (see test_export_safety)
    lines = list(book["lines"].iter_rows(values_only=True))
    assert lines[0][0] == "bill_number" and len(lines) == 11


@needs_poppler
def test_bill_pdf_in_chinese_has_real_cjk_text(bworld, tmp_path):
    r = bworld.client("hr_a").get(zh("billing:bill_download", bworld.bill_a.pk, "pdf"))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    text, fonts = _pdf_text(r.content, tmp_path)
    assert bworld.bill_a.number in text
    assert "北京" in text  # Chinese extracted as text: real glyphs, not boxes
    assert "元" in text  # amounts in the Chinese style
    assert "养老保险" in text and "缴费基数" in text  # translated labels
    assert "CJK" in fonts or "WenQuanYi" in fonts


@needs_poppler
def test_bill_pdf_in_english(bworld, tmp_path):
    r = bworld.client("hr_a").get(en("billing:bill_download", bworld.bill_a.pk, "pdf"))
    text, _fonts = _pdf_text(r.content, tmp_path)
    assert "Monthly bill" in text and "6,330.27" in text


def test_declarations_page_shows_default_and_declares(bworld):
    hr = bworld.client("hr_a")
    url = reverse("billing:declarations") + f"?employer={bworld.a.pk}&period=2025-08"
    r = hr.get(url)
    assert r.status_code == 200
    assert "Contract wage (default)" in r.text and "Raised to the lower limit" in r.text
    bad = hr.post(
        url, {"employer": bworld.a.pk, "person": bworld.bravo.pk, "period": "2025-07", "wage": "-5"}
    )
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in bad.text
    assert BaseDeclaration.objects.count() == 0
    ok = hr.post(
        url,
        {"employer": bworld.a.pk, "person": bworld.bravo.pk, "period": "2025-07", "wage": "40000"},
    )
    assert ok.status_code == 302
    assert BaseDeclaration.objects.get().wage == 4_000_000
    assert "Capped at the upper limit" in hr.get(url).text
    nopolicy = hr.get(reverse("billing:declarations") + f"?employer={bworld.a.pk}&period=2019-08")
    assert nopolicy.status_code == 200 and "notice-error" in nopolicy.text


def test_declarations_upload_dry_run_then_import(bworld):
    hr = bworld.client("hr_a")
    text = "passport_country,passport_number,period_start,wage\nUSA,561234987,2025-07,8000\n"
    url = reverse("billing:declarations_import") + f"?employer={bworld.a.pk}"
    r = hr.post(url, {"employer": bworld.a.pk, "file": SimpleUploadedFile("b.csv", text.encode())})
    assert r.status_code == 200 and 'id="dry-run-ok"' in r.text
    assert BaseDeclaration.objects.count() == 0
    token = r.context["token"]
    done = hr.post(reverse("billing:declarations_import_apply"), {"token": token})
    assert done.status_code == 302
    assert BaseDeclaration.objects.get().wage == 800_000
    bad = "passport_country,passport_number,period_start,wage\nUSA,561234987,2025-07,x\n"
    r = hr.post(url, {"employer": bworld.a.pk, "file": SimpleUploadedFile("b.csv", bad.encode())})
    assert 'id="row-errors"' in r.text and 'id="dry-run-ok"' not in r.text


def test_employee_page_and_statement_pdfs(bworld, tmp_path):
    payment_record(
        actor=SYSTEM, employer=bworld.a, amount=bworld.bill_a.total, received_on=date(2025, 9, 10)
    )
    c = bworld.client("bravo")
    r = c.get(reverse("billing:me") + "?on=2025-12-31")
    assert r.status_code == 200
    assert "576.54" in r.text and "572.96" in r.text
    assert bworld.client("hr_a").get(reverse("billing:me")).status_code == 403
    for language, word in (("en", "Individual account statement"), ("zh-hans", "个人账户")):
        pdf = c.get(reverse("billing:statement_pdf", args=[language]) + "?on=2025-12-31")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        if shutil.which("pdftotext"):
            text, fonts = _pdf_text(pdf.content, tmp_path)
            assert word in text and "576.54" in text
            if language == "zh-hans":
                assert "CJK" in fonts or "WenQuanYi" in fonts


def test_agency_collection_run_with_progress_payment_and_bank_import(bworld, immediate_tasks):
    agency = bworld.client("agency")
    r = agency.get(reverse("billing:collection"))
    assert r.status_code == 200 and "6,330.27" in r.text
    r = agency.post(
        reverse("billing:run_start"), {"kind": "run", "region_code": "110000", "month": "2025-09"}
    )
    assert r.status_code == 302
    page = agency.get(r["Location"])
    assert page.status_code == 200 and "<progress" in page.text
    key = r["Location"].rstrip("/").split("/")[-1]
    status = agency.get(reverse("billing:job_status", args=[key])).json()
    assert status["status"] == "done" and status["percent"] == 100
    assert Bill.objects.filter(month="2025-09").count() == 1
    bad = agency.post(
        reverse("billing:run_start"), {"kind": "run", "region_code": "110000", "month": "2019-01"}
    )
    assert bad.status_code == 400 and "error-summary" in bad.text
    r = agency.post(
        reverse("billing:payment_new"),
        {"employer": bworld.a.pk, "amount": "100.00", "received_on": "2025-09-01", "reference": ""},
    )
    assert r.status_code == 302 and Payment.objects.count() == 1
    assert (
        "Payment of ¥100.00 from" in agency.get(r["Location"]).text
    )  # the amount with its currency
    assert bworld.client("hr_a").get(reverse("billing:payment_new")).status_code == 403
    statement = (
        f"transaction_id,date,amount,payer_uscc,reference\nT9,2025-09-12,50.00,{bworld.a.uscc},\n"
    )
    r = agency.post(
        reverse("billing:bank_import"), {"file": SimpleUploadedFile("s.csv", statement.encode())}
    )
    assert r.status_code == 200 and 'id="dry-run-ok"' in r.text
    assert Payment.objects.count() == 1
    r = agency.post(reverse("billing:bank_import_apply"), {"token": r.context["token"]})
    assert r.status_code == 302 and Payment.objects.count() == 2
