"""Billing API: tenancy and roles, declarations (bad input writes nothing, bulk dry run then import),
payments only by the agency, the background run's progress, the employee's own record."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from expatsi.access.actors import SYSTEM
from expatsi.billing.models import BaseDeclaration, Bill, BillingRun, Payment
from expatsi.billing.services import payment_record
from expatsi.rules.accounts import statement
from expatsi.rules.dates import Month
from tests.billing.web.conftest import API, fen, post_json

pytestmark = pytest.mark.django_db


# --- tenancy and roles ---------------------------------------------------------------------------


def test_hr_sees_only_own_bills_and_another_tenants_bill_is_404(bworld):
    hr_b = bworld.client("hr_b")
    listed = hr_b.get(f"{API}/bills").json()["items"]
    assert {b["number"] for b in listed} == {bworld.bill_b.number}
    assert hr_b.get(f"{API}/bills/{bworld.bill_a.pk}").status_code == 404
    assert hr_b.get(f"{API}/bills/{bworld.bill_b.pk}").status_code == 200
    hr_a = bworld.client("hr_a")
    assert hr_a.get(f"{API}/bills/{bworld.bill_b.pk}").status_code == 404


def test_agency_sees_its_regions_only(bworld):
    sh = bworld.client("agency_sh").get(f"{API}/bills").json()["items"]
    assert {b["region_code"] for b in sh} == {"310000"}
    every = bworld.client("agency").get(f"{API}/bills").json()["items"]
    assert {b["region_code"] for b in every} == {"110000", "310000"}
    assert bworld.client("agency_sh").get(f"{API}/bills/{bworld.bill_a.pk}").status_code == 404


def test_employee_sees_no_bills_but_own_contributions(bworld):
    c = bworld.client("bravo")
    assert c.get(f"{API}/bills").json()["items"] == []
    assert c.get(f"{API}/bills/{bworld.bill_a.pk}").status_code == 404
    rows = c.get(f"{API}/me/contributions").json()["items"]
    assert [(r["month"], r["employer_id"]) for r in rows] == [("2025-08", bworld.a.pk)]
    # Bravo: wage 5,000 below Beijing's 2025/26 lower limit 7,162 → base 7,162; 16% / 8%.
    assert rows[0]["pension_base"] == "7162.00"
    assert rows[0]["pension_employer"] == "1145.92"
    assert rows[0]["pension_employee"] == "572.96"
    assert bworld.client("hr_a").get(f"{API}/me/contributions").status_code == 404
    assert bworld.client("anon").get(f"{API}/me/contributions").status_code == 401


def test_bill_detail_has_lines_state_and_late_fee(bworld):
    body = bworld.client("hr_a").get(f"{API}/bills/{bworld.bill_a.pk}?on=2025-10-01").json()
    assert body["total"] == "6330.27"
    assert body["state"]["outstanding"] == "6330.27"
    # 16 days after the due date (15 Sep): 6,330.27 × 0.05% × 16 = 50.64216 → 50.64
    assert body["state"]["late_fee"] == "50.64"
    assert body["state"]["status"] == "overdue"
    assert (body["line_count"], body["people_count"]) == (10, 2)
    assert body["lines"] is None  # paged (GET /bills/{id}/lines) unless asked for
    assert body["lines_url"] == f"{API}/bills/{bworld.bill_a.pk}/lines"
    body = bworld.client("hr_a").get(f"{API}/bills/{bworld.bill_a.pk}?include=lines").json()
    assert len(body["lines"]) == 10
    alpha_pension = next(
        x
        for x in body["lines"]
        if x["person_id"] == bworld.alpha.pk and x["insurance"] == "pension"
    )
    assert alpha_pension["exempt"] is True
    assert alpha_pension["employer_amount"] == "0.00"
    assert "exempt" in alpha_pension["explanation"]
    bravo_pension = next(
        x
        for x in body["lines"]
        if x["person_id"] == bworld.bravo.pk and x["insurance"] == "pension"
    )
    assert bravo_pension["base_reason"] == "raised_to_lower_limit"
    assert "lower limit" in bravo_pension["explanation"]


def test_only_agency_records_payments(bworld):
    body = {"employer_id": bworld.a.pk, "amount": "100.00", "received_on": "2025-09-01"}
    assert post_json(bworld.client("hr_a"), f"{API}/payments", body).status_code == 403
    assert post_json(bworld.client("hr_b"), f"{API}/payments", body).status_code == 404
    assert post_json(bworld.client("bravo"), f"{API}/payments", body).status_code == 404
    assert post_json(bworld.client("agency_sh"), f"{API}/payments", body).status_code == 404
    assert Payment.objects.count() == 0
    r = post_json(bworld.client("agency"), f"{API}/payments", body, **{"Idempotency-Key": "p1"})
    assert r.status_code == 201, r.json()
    assert r.json()["allocations"][0]["bill_number"] == bworld.bill_a.number
    again = post_json(bworld.client("agency"), f"{API}/payments", body, **{"Idempotency-Key": "p1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    listed = bworld.client("hr_a").get(f"{API}/payments").json()["items"]
    assert [p["amount"] for p in listed] == ["100.00"]
    assert bworld.client("hr_b").get(f"{API}/payments").json()["items"] == []


def test_payment_for_unknown_bill_is_a_clear_error(bworld):
    body = {"bill_number": "110000-2025-08-99999999", "amount": "1.00", "received_on": "2025-09-01"}
    r = post_json(bworld.client("agency"), f"{API}/payments", body)
    assert r.status_code == 400
    assert r.json()["code"] == "unknown_bill"
    assert Payment.objects.count() == 0


def test_balance_and_arrears(bworld):
    payment_record(
        actor=SYSTEM, employer=bworld.a, amount=fen("3000"), received_on=date(2025, 9, 10)
    )
    bal = bworld.client("hr_a").get(f"{API}/employers/{bworld.a.pk}/balance?on=2025-10-01").json()
    assert bal["principal_outstanding"] == "3330.27"
    arrears = bworld.client("hr_a").get(f"{API}/arrears?on=2025-10-01").json()["items"]
    assert [a["number"] for a in arrears] == [bworld.bill_a.number]
    assert bworld.client("hr_b").get(f"{API}/employers/{bworld.a.pk}/balance").status_code == 404


def test_bank_statement_import_dry_run_then_import(bworld):
    csv_text = (
        "transaction_id,date,amount,payer_uscc,reference\n"
        f"T1,2025-09-10,6330.27,{bworld.a.uscc},{bworld.bill_a.number}\n"
    )
    agency = bworld.client("agency")
    r = agency.post(
        f"{API}/bank-statements",
        {"file": SimpleUploadedFile("s.csv", csv_text.encode()), "dry_run": "true"},
    )
    assert r.status_code == 200 and r.json()["errors"] == []
    assert Payment.objects.count() == 0
    r = agency.post(
        f"{API}/bank-statements",
        {"file": SimpleUploadedFile("s.csv", csv_text.encode()), "dry_run": "false"},
    )
    assert r.status_code == 201 and r.json()["recorded"] == 1
    bad = csv_text + "T2,2025-13-01,1.00,XX,\n"
    r = agency.post(
        f"{API}/bank-statements",
        {"file": SimpleUploadedFile("s.csv", bad.encode()), "dry_run": "false"},
    )
    assert r.status_code == 200
    assert [e["row"] for e in r.json()["errors"]] == [3]
    assert Payment.objects.count() == 1
    hr = bworld.client("hr_a").post(
        f"{API}/bank-statements", {"file": SimpleUploadedFile("s.csv", csv_text.encode())}
    )
    assert hr.status_code == 403


# --- declarations ------------------------------------------------------------------------------


def test_declaration_list_shows_contract_default_and_clamped_base(bworld):
    items = (
        bworld.client("hr_a")
        .get(f"{API}/declarations?employer_id={bworld.a.pk}&period=2025-09")
        .json()["items"]
    )
    by_name = {i["person_name"]: i for i in items}
    bravo = by_name[bworld.bravo.full_name]
    assert bravo["period_start"] == "2025-07"
    assert bravo["source"] == "contract"
    assert bravo["wage"] == "5000.00"
    assert bravo["base"] == "7162.00"
    assert bravo["base_reason"] == "raised_to_lower_limit"
    alpha = by_name[bworld.alpha.full_name]
    assert alpha["base"] == "30000.00" and alpha["base_reason"] == "within_limits"
    assert (
        bworld.client("hr_b")
        .get(f"{API}/declarations?employer_id={bworld.a.pk}&period=2025-09")
        .status_code
        == 404
    )


def test_declaration_create_and_correct(bworld):
    hr = bworld.client("hr_a")
    body = {
        "employer_id": bworld.a.pk,
        "person_id": bworld.bravo.pk,
        "period_start": "2025-08",
        "wage": "40000",
    }
    r = post_json(hr, f"{API}/declarations", body, **{"Idempotency-Key": "d1"})
    assert r.status_code == 201, r.json()
    out = r.json()
    assert out["source"] == "declared" and out["period_start"] == "2025-07"
    assert out["base"] == "35811.00" and out["base_reason"] == "capped_at_upper_limit"
    # The same wage again writes nothing; a correction adds a row.
    post_json(hr, f"{API}/declarations", body)
    assert BaseDeclaration.objects.count() == 1
    post_json(hr, f"{API}/declarations", {**body, "wage": "9000"})
    assert BaseDeclaration.objects.count() == 2
    assert BaseDeclaration.objects.latest("id").wage == 900000


@pytest.mark.parametrize(
    ("change", "code", "field", "status"),
    [
        ({"wage": "-1"}, "negative_wage", "wage", 400),
        ({"period_start": "2019-07"}, "no_policy_for_month", "period_start", 400),
        ({"person_id": 999_999}, "not_found", "person_id", 404),
        ({"wage": "abc"}, "invalid_amount", "wage", 400),
    ],
)
def test_declaration_bad_input_writes_nothing(bworld, change, code, field, status):
    body = {
        "employer_id": bworld.a.pk,
        "person_id": bworld.bravo.pk,
        "period_start": "2025-08",
        "wage": "9000",
    }
    r = post_json(bworld.client("hr_a"), f"{API}/declarations", {**body, **change})
    assert r.status_code == status, r.json()
    assert r.json()["code"] == code
    assert r.json()["field"] == field
    assert BaseDeclaration.objects.count() == 0


def test_declaration_by_other_tenant_or_employee_refused(bworld):
    body = {
        "employer_id": bworld.a.pk,
        "person_id": bworld.bravo.pk,
        "period_start": "2025-08",
        "wage": "9000",
    }
    assert post_json(bworld.client("hr_b"), f"{API}/declarations", body).status_code == 404
    assert post_json(bworld.client("bravo"), f"{API}/declarations", body).status_code == 403
    assert BaseDeclaration.objects.count() == 0


def _upload(client, employer_id, text, dry_run, name="bases.csv"):
    return client.post(
        f"{API}/declarations/import",
        {
            "employer_id": str(employer_id),
            "dry_run": "true" if dry_run else "false",
            "file": SimpleUploadedFile(name, text if isinstance(text, bytes) else text.encode()),
        },
    )


def test_bulk_declarations_dry_run_then_import_then_again(bworld):
    text = (
        "passport_country,passport_number,period_start,wage\n"
        "DEU,C01X00T47,2025-07,31000.00\n"
        "USA,561234987,2025-07,4000\n"
    )
    hr = bworld.client("hr_a")
    r = _upload(hr, bworld.a.pk, text, dry_run=True)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["errors"] == [] and body["committed"] is False
    assert [(x["row"], x["base"], x["base_reason"]) for x in body["rows"]] == [
        (2, "31000.00", "within_limits"),
        (3, "7162.00", "raised_to_lower_limit"),
    ]
    assert BaseDeclaration.objects.count() == 0
    r = _upload(hr, bworld.a.pk, text, dry_run=False)
    assert r.status_code == 201 and r.json()["declared"] == 2
    assert BaseDeclaration.objects.count() == 2
    r = _upload(hr, bworld.a.pk, text, dry_run=False)  # idempotent re-import
    assert r.json()["unchanged"] == 2 and r.json()["declared"] == 0
    assert BaseDeclaration.objects.count() == 2


def test_bulk_declarations_with_a_bad_row_write_nothing(bworld):
    text = (
        "passport_country,passport_number,period_start,wage\n"
        "DEU,C01X00T47,2025-07,31000.00\n"
        "USA,561234987,2025-07,-5\n"
        "FRA,NOSUCH123,2025-07,9000\n"
        "JPN,TK1234567,2025-07,9000\n"
        "USA,561234987,2019-07,9000\n"
    )
    r = _upload(bworld.client("hr_a"), bworld.a.pk, text, dry_run=False)
    assert r.status_code == 200
    errors = {(e["row"], e["code"]) for e in r.json()["errors"]}
    assert errors == {
        (3, "negative_wage"),
        (4, "unknown_person"),
        (5, "not_employed"),  # Charlie works for Shanghai, not Beijing
        (6, "no_policy_for_month"),
    }
    assert BaseDeclaration.objects.count() == 0


def test_bulk_declarations_xlsx(bworld):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["passport_country", "passport_number", "period_start", "wage"])
    sheet.append(["USA", "561234987", "2025-07", 12345.67])
    out = io.BytesIO()
    book.save(out)
    r = _upload(bworld.client("hr_a"), bworld.a.pk, out.getvalue(), dry_run=False, name="b.xlsx")
    assert r.status_code == 201, r.json()
    assert BaseDeclaration.objects.get().wage == 1234567


# --- billing runs in the background ----------------------------------------------------------------


def test_run_as_background_job_reaches_done(bworld, immediate_tasks):
    body = {"region_code": "110000", "month": "2025-09"}
    assert post_json(bworld.client("hr_a"), f"{API}/runs", body).status_code == 403
    assert post_json(bworld.client("agency_sh"), f"{API}/runs", body).status_code == 403
    r = post_json(bworld.client("agency"), f"{API}/runs", body, **{"Idempotency-Key": "run-1"})
    assert r.status_code == 202, r.json()
    job = r.json()
    assert job["status"] == "done" and job["percent"] == 100
    progress = bworld.client("agency").get(job["progress_url"]).json()
    assert progress["status"] == "done"
    assert progress["employers_done"] == progress["employers_total"] == 1
    assert progress["lines_written"] == 10
    assert Bill.objects.filter(month="2025-09").count() == 1
    run_id = progress["runs"][0]["id"]
    assert bworld.client("agency").get(f"{API}/runs/{run_id}").json()["status"] == "done"
    assert bworld.client("agency_sh").get(f"{API}/runs/{run_id}").status_code == 404


def test_recalculation_job_after_a_late_declaration(bworld, immediate_tasks):
    BaseDeclaration.objects.create(
        person=bworld.bravo, employer=bworld.a, period_start="2025-07", wage=900000
    )
    r = post_json(
        bworld.client("agency"),
        f"{API}/runs",
        {"region_code": "110000", "month": "2025-07", "kind": "recalculate", "to_month": "2025-12"},
    )
    assert r.status_code == 202, r.json()
    assert r.json()["status"] == "done"
    adj = Bill.objects.get(kind="adjustment")
    assert adj.month == "2025-08"


def test_run_for_a_month_without_policy_is_refused(bworld, immediate_tasks):
    r = post_json(
        bworld.client("agency"), f"{API}/runs", {"region_code": "110000", "month": "2019-01"}
    )
    assert r.status_code == 400 and r.json()["code"] == "no_policy_for_month"
    assert BillingRun.objects.filter(month="2019-01").count() == 0


def test_queued_job_with_the_database_backend_reports_queued(bworld):
    r = post_json(
        bworld.client("agency"), f"{API}/runs", {"region_code": "110000", "month": "2025-09"}
    )
    assert r.status_code == 202
    assert r.json()["status"] == "queued"  # waits for `manage.py db_worker`
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.count() == 1
    # The worker picks it up (one batch, then exits) and the progress endpoint reports done. On
    # PostgreSQL the worker closes the connection between tasks, which would end the test's
    # transaction: there the worker is not run in-process.
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "sqlite":
        return

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    progress = bworld.client("agency").get(r.json()["progress_url"]).json()
    assert progress["status"] == "done", progress
    assert Bill.objects.filter(month="2025-09").count() == 1


# --- the employee's account ---------------------------------------------------------------------


def test_employee_account_statement_matches_rules(bworld):
    # Pay Beijing's August bill in full: Bravo's 8% employee pension (572.96) is credited.
    payment_record(
        actor=SYSTEM, employer=bworld.a, amount=bworld.bill_a.total, received_on=date(2025, 9, 10)
    )
    r = bworld.client("bravo").get(f"{API}/me/account?on=2025-12-31").json()
    assert r["months_counted"] == 1
    # Worked by hand: 2025, k = 12, opening 0; the August credit earns 12 + 1 − 8 = 5 months:
    # weighted = 572.96 × 5 = 2,864.80; interest = round(2,864.80 × 1.50% / 12) = round(3.581) = 3.58
    # closing = 572.96 + 3.58 = 576.54.
    (year,) = r["years"]
    assert (year["year"], year["credits"], year["interest"], year["closing"]) == (
        2025,
        "572.96",
        "3.58",
        "576.54",
    )
    assert r["balance"] == "576.54"
    expected = statement([(Month(2025, 8), 57296)], date(2025, 12, 31))
    assert fen(r["balance"]) == expected.balance == 57654
