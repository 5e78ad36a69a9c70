"""Inputs that used to answer 500 (or crash the CLI with a traceback): each is now a 4xx naming the
field (the CLI: exit 2 and one line naming the option), and nothing is written."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from expatsi.cli import main
from expatsi.insurance.models import Employment, Registration
from expatsi.people.models import Document, Person
from expatsi.rules.deadlines import deadline
from expatsi.rules.errors import RuleError
from tests.api.conftest import API, World, hire_payload, today

BIG = "99999999999999999999999"  # more than 64 bits


def _post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(API + path, body, content_type="application/json")


def _quiet(world: World, role: str) -> Any:
    client = world.client(role)
    client.raise_request_exception = False  # a 500 is an answer here, not an exception
    return client


def assert_4xx(response: Any, field: str | None = None, *, status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["message"]
    assert body["field"] if field is None else body["field"] == field


# --- integers beyond 64 bits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/employees?offset={BIG}", "offset"),
        (f"/employments?person_id={BIG}", "person_id"),
        (f"/employments?employer_id={BIG}", "employer_id"),
        (f"/registrations?employer_id={BIG}", "employer_id"),
        (f"/billing/bills?employer_id={BIG}", "employer_id"),
        (f"/employees/{BIG}", "person_id"),
        (f"/employments/{BIG}", "employment_id"),
        (f"/employers/{BIG}", "employer_id"),
        (f"/cards/{BIG}", "card_id"),
    ],
)
def test_huge_integers_in_query_and_path_are_4xx(world: World, path: str, field: str) -> None:
    assert_4xx(_quiet(world, "agency").get(API + path), field)


@pytest.mark.parametrize(
    "path", [f"/people/{BIG}/", f"/registrations/{BIG}/", f"/cards/{BIG}/", f"/inbox/?page={BIG}"]
)
def test_huge_integers_in_portal_urls_are_not_500(world: World, path: str) -> None:
    r = _quiet(world, "agency").get(path)
    assert r.status_code in (200, 404)


# --- request size ---------------------------------------------------------------------------------


def test_an_oversized_api_body_is_413_in_the_error_shape(world: World) -> None:
    body = hire_payload(world.a.pk, position="x" * 3_000_000)
    before = Person.objects.count()
    r = _post(_quiet(world, "hr_a"), "/registrations/hire", body)
    assert_4xx(r, "body", status=413)
    assert r.json()["code"] == "request_too_large"
    assert Person.objects.count() == before


def test_an_oversized_portal_form_is_413(world: World) -> None:
    r = _quiet(world, "hr_a").post("/hires/new/", {"family_name": "x" * 3_000_000})
    assert r.status_code == 413


def test_file_uploads_are_not_held_to_the_body_limit(world: World) -> None:
    padding = "".join(f"# padding row {i:07d} {'x' * 60}\n" for i in range(45_000))  # > 3 MB
    assert len(padding) > 3_000_000
    upload = SimpleUploadedFile("crossings.csv", padding.encode(), "text/csv")
    r = _quiet(world, "agency").post(f"{API}/entry-exit/imports", {"file": upload})
    assert r.status_code != 413  # the import reads it (and judges its rows) as before


# --- implausible dates ------------------------------------------------------------------------------

MAX_DAY = "9999-12-31"


@pytest.mark.parametrize(
    ("overrides", "person", "field"),
    [
        ({"permit_valid_to": MAX_DAY}, {}, "permit_valid_to"),
        ({"permit_issued_on": MAX_DAY, "permit_valid_to": None}, {}, "permit_issued_on"),
        ({"residence_permit_valid_to": MAX_DAY}, {}, "residence_permit_valid_to"),
        ({"end_date": MAX_DAY}, {}, "end_date"),
        ({"start_date": MAX_DAY}, {}, "start_date"),
        ({}, {"birth_date": "1899-12-31"}, "person.birth_date"),
        ({}, {"birth_date": "2999-01-01"}, "person.birth_date"),
    ],
)
def test_implausible_dates_in_a_hire_are_refused(
    world: World, overrides: dict[str, Any], person: dict[str, Any], field: str
) -> None:
    body = hire_payload(world.a.pk, **overrides)
    body["person"].update(person)
    before = Registration.objects.count()
    assert_4xx(_post(_quiet(world, "hr_a"), "/registrations/hire", body), field)
    assert Registration.objects.count() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (  # a document the hire files itself (a card's dates are the card's: issue #10)
            {
                "permit_kind": "press_card",
                "permit_valid_to": (today() + timedelta(days=6 * 366)).isoformat(),
            },
            "permit_valid_to",
        ),
        (
            {"residence_permit_valid_to": (today() + timedelta(days=6 * 366)).isoformat()},
            "residence_permit_valid_to",
        ),
    ],
)
def test_a_validity_beyond_the_legal_maximum_is_refused(
    world: World, overrides: dict[str, Any], field: str
) -> None:
    before = Registration.objects.count()
    r = _post(_quiet(world, "hr_a"), "/registrations/hire", hire_payload(world.a.pk, **overrides))
    assert_4xx(r, status=400)
    assert r.json()["code"] == "validity_too_long"
    assert r.json()["field"] in (
        field,
        field.replace("permit_", "integrated_card_", 1),
        field.replace("permit_", "press_card_", 1),
    )
    assert Registration.objects.count() == before


def test_implausible_employment_end_document_and_certificate_dates(world: World) -> None:
    hr = _quiet(world, "hr_a")
    r = _post(hr, f"/employments/{world.ea.pk}/end", {"end_date": MAX_DAY})
    assert_4xx(r, "end_date")
    assert Employment.objects.get(pk=world.ea.pk).end_date != date.max
    r = _post(
        hr,
        f"/employees/{world.pa.pk}/documents",
        {
            "kind": "residence_permit",
            "number": "RPX1",
            "issued_on": "2025-01-01",
            "valid_to": MAX_DAY,
        },
    )
    assert_4xx(r, "valid_to")
    assert not Document.objects.filter(number="RPX1").exists()
    r = _post(
        hr,
        f"/employees/{world.pa.pk}/certificates",
        {"number": "X1", "country": "DEU", "valid_from": "2025-01-01", "valid_to": MAX_DAY},
    )
    assert_4xx(r, "valid_to")


def test_implausible_card_dates(world: World) -> None:
    hr = _quiet(world, "hr_a")
    body = {
        "employer_id": world.a.pk,
        "person_id": world.pa2.pk,
        "category": "A",
        "position": "Chief engineer",
        "valid_to": MAX_DAY,
    }
    assert_4xx(_post(hr, "/cards", body), "valid_to")
    body["valid_to"] = (today() + timedelta(days=6 * 366)).isoformat()
    assert_4xx(_post(hr, "/cards", body), "valid_to")


def test_deadline_arithmetic_at_the_calendars_edge_is_a_rule_error() -> None:
    for kind, start in [
        ("registration", date.max),
        ("permit_cancellation", date.max),
        ("permit_extension_window", date.min + timedelta(days=1)),
        ("residence_permit_extension", date.min),
    ]:
        with pytest.raises(RuleError) as info:
            deadline(kind, start)
        assert info.value.field == "start"


# --- the CLI ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        ("rules deadline --kind registration --from 9999-12-31", "from"),
        ("rules deadline --kind permit_cancellation --from 9999-12-31", "from"),
        ("rules deadline --kind permit_extension_window --from 0001-01-02", "from"),
        ("rules deadline --kind certificate_expiry_alert --from 0001-01-01", "from"),
        ("rules deadline --kind registration --from 2025-01-01 --today 9999-12-31", "today"),
        ("rules late-fee --amount １００ --due 2025-01-01 --paid 2025-03-01", "amount"),
        ("rules late-fee --amount 100 --due 0001-01-01 --paid 9999-12-31", "due"),
        ("rules fines --kind illegal_employment --persons １２", "persons"),
        ("rules contributions --region 110000 --month 2025-08 --wage ３００００", "wage"),
        ("rules contributions --region 110000 --month ２０２５-08 --wage 30000", "month"),
        (
            "rules contributions --region 110000 --month 2025-08 --wage 30000 "
            "--work-injury-rate １%",
            "work_injury_rate",
        ),
        ("rules retirement --birth 1975-03 --sex female --original-age ５０", "original_age"),
        (
            "rules pension --region 110000 --year 2025 --months 180 --index １.0 "
            "--balance 100000 --age 60y3m",
            "index",
        ),
        (
            "rules pension --region 110000 --year ２０２５ --months 180 --index 1.0 "
            "--balance 100000 --age 60y3m",
            "year",
        ),
        (
            "rules pension --region 110000 --year 2025 --months 180 --index 1.0 "
            "--balance 100000 --age ６０y",
            "age",
        ),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: str, option: str
) -> None:
    assert main(argv.split()) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert f"error: {option}:" in err


def test_cli_ledger_with_full_width_amount_exits_2(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("month,amount\n2025-01,１００\n", encoding="utf-8")
    assert main(["rules", "account", "--ledger", str(ledger), "--on", "2025-12-31"]) == 2
    assert "amount" in capsys.readouterr().err


def test_check_id_with_full_width_digits_is_not_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check-id", "１１０１０５１９４９１２３１００２X", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is False


# --- full-width digits and over-long values in the API ---------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "person", "field"),
    [
        ({"contract_wage": "３００００"}, {}, "contract_wage"),
        ({"permit_number": "ＩＣ１２３４５"}, {}, "permit_number"),
        ({"permit_issued_on": "２０２６-０１-０１"}, {}, "permit_issued_on"),
        ({"position": "x" * 201}, {}, "position"),
        ({}, {"given_names": "x" * 151}, "person.given_names"),
        ({}, {"chinese_name": "张" * 51}, "person.chinese_name"),
        ({}, {"address_abroad": "x" * 301}, "person.address_abroad"),
        ({}, {"phone": "1" * 31}, "person.phone"),
        ({}, {"email": "a" * 250 + "@example.org"}, "person.email"),
    ],
)
def test_full_width_digits_and_over_long_values_are_refused(
    world: World, overrides: dict[str, Any], person: dict[str, Any], field: str
) -> None:
    body = hire_payload(world.a.pk, **overrides)
    body["person"].update(person)
    before = Registration.objects.count()
    assert_4xx(_post(_quiet(world, "hr_a"), "/registrations/hire", body), field)
    assert Registration.objects.count() == before


def test_over_long_document_authority_and_id_with_full_width_digits(world: World) -> None:
    hr = _quiet(world, "hr_a")
    doc = {"kind": "residence_permit", "number": "RPX2", "issued_on": "2025-01-01"}
    assert_4xx(
        _post(hr, f"/employees/{world.pa.pk}/documents", {**doc, "authority": "a" * 201}),
        "authority",
    )
    assert_4xx(
        _post(hr, f"/employees/{world.pa.pk}/documents", {**doc, "number": "RP１２"}), "number"
    )
    assert not Document.objects.filter(number__in=["RPX2", "RP１２"]).exists()
    assert_4xx(hr.get(f"{API}/employees/１２"), "person_id")


def test_nul_anywhere_in_a_query_or_body_is_422(world: World) -> None:
    """PostgreSQL cannot store NUL (it answered 500); no field has a use for it."""
    agency = _quiet(world, "agency")
    assert_4xx(agency.get(f"{API}/employees", {"q": "Schmidt\x00"}), "q", status=422)
    r = _post(
        agency,
        f"/employers/{world.a.pk}/work-injury-ratings",
        {"industry_class": "\x0001", "grade": "100%", "effective_from": "2025-01-01"},
    )
    assert_4xx(r, "industry_class", status=422)


def test_a_body_that_is_not_json_is_400_in_the_error_shape(world: World) -> None:
    r = world.client("hr_a").post(
        f"{API}/registrations/hire", "{not json", content_type="application/json"
    )
    assert_4xx(r, "body", status=400)
    assert r.json()["code"] == "invalid_json"
