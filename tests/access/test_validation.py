"""The field rules every door shares (access/validation.py): what a person typing a value is told,
and which field the answer names, whether the value came through a service, the API or a form."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from ninja import Schema
from pydantic import ValidationError

from expatsi.access import validation
from expatsi.rules.errors import RuleError

CONTROL = ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]


def refused(check, *args, **kwargs) -> RuleError:
    with pytest.raises(RuleError) as exc:
        check(*args, **kwargs)
    return exc.value


# --- text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", CONTROL)
def test_one_line_text_refuses_every_control_character_and_names_the_field(char: str) -> None:
    error = refused(validation.text, f"Anna{char}Bcc: x@example.org", "given_names", max_length=50)
    assert (error.code, error.field) == ("control_characters", "given_names")


def test_multi_line_text_keeps_line_breaks_as_lf_but_still_refuses_nul() -> None:
    assert validation.text(" one\r\ntwo\rthree\n ", "note", max_length=50, multiline=True) == (
        "one\ntwo\nthree"
    )
    assert refused(validation.text, "a\x00b", "note", max_length=50, multiline=True).code == (
        "control_characters"
    )


def test_length_is_counted_after_stripping() -> None:
    assert validation.text("  abc  ", "f", max_length=3) == "abc"
    error = refused(validation.text, "abcd", "f", max_length=3)
    assert (error.code, error.field) == ("too_long", "f")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Zl", "Zp")), max_size=40))
def test_text_without_control_characters_is_accepted_as_typed_but_stripped(value: str) -> None:
    assert validation.text(value, "f", max_length=40) == value.strip()


def test_required_text_refuses_blank_and_whitespace() -> None:
    for value in ("", "   ", None):
        error = refused(validation.required_text, value, "family_name")
        assert (error.code, error.field) == ("required", "family_name")


def test_identifiers_refuse_full_width_characters_nobody_could_search_for() -> None:
    assert validation.identifier(" IC123 ", "permit_number", max_length=40) == "IC123"
    error = refused(validation.identifier, "ＩＣ１２３", "permit_number", max_length=40)
    assert (error.code, error.field) == ("not_ascii", "permit_number")
    assert validation.identifier("", "x", max_length=5, required=False) == ""


def test_email_is_optional_unless_required_and_must_be_an_address() -> None:
    assert validation.email("  anna@example.org ") == "anna@example.org"
    assert validation.email("") == ""
    assert refused(validation.email, "", required=True).code == "required"
    error = refused(validation.email, "anna@", "contact")
    assert (error.code, error.field) == ("invalid_email", "contact")
    assert refused(validation.email, "a@example.org\nBcc: b@example.org").code == (
        "control_characters"
    )


# --- dates --------------------------------------------------------------------------------------


def test_a_birth_date_is_in_the_past_and_after_1900() -> None:
    today = timezone.localdate()
    assert validation.birth_date(today - timedelta(days=1)) == today - timedelta(days=1)
    assert validation.birth_date(date(1900, 1, 1)) == date(1900, 1, 1)
    for day in (today, date(1899, 12, 31), today + timedelta(days=1)):
        assert refused(validation.birth_date, day).code == "invalid_birth_date"


def test_dates_outside_the_plausible_window_are_refused() -> None:
    assert validation.plausible_date(date(2199, 12, 31), "d") == date(2199, 12, 31)
    assert refused(validation.plausible_date, date(9999, 12, 31), "valid_to").field == "valid_to"
    assert refused(validation.plausible_date, date(1899, 12, 31), "d").code == "date_out_of_range"


def test_a_span_may_be_open_or_one_day_but_never_end_before_it_starts() -> None:
    validation.span(date(2025, 1, 1), None, start_field="start", end_field="end")
    validation.span(date(2025, 1, 1), date(2025, 1, 1), start_field="start", end_field="end")
    error = refused(
        validation.span, date(2025, 1, 2), date(2025, 1, 1), start_field="start", end_field="end"
    )
    assert (error.code, error.field) == ("end_before_start", "end")


@pytest.mark.parametrize(
    ("kind", "years"),
    [
        ("work_permit", 5),
        ("integrated_card", 5),
        ("residence_permit", 5),
        ("permanent_resident_id", 10),
    ],
)
def test_a_document_is_valid_for_at_most_its_legal_maximum(kind: str, years: int) -> None:
    start = date(2025, 3, 1)
    last = date(2025 + years, 3, 1)
    validation.validity(start, last, kind=kind, start_field="from", end_field="to")
    error = refused(
        validation.validity,
        start,
        last + timedelta(days=1),
        kind=kind,
        start_field="from",
        end_field="to",
    )
    assert (error.code, error.field) == ("validity_too_long", "to")
    assert last.isoformat() in error.message  # says until when it may run


def test_a_validity_from_29_february_may_run_to_28_february() -> None:
    start = date(2024, 2, 29)
    validation.validity(
        start, date(2029, 2, 28), kind="work_permit", start_field="f", end_field="t"
    )
    with pytest.raises(RuleError):
        validation.validity(
            start, date(2029, 3, 1), kind="work_permit", start_field="f", end_field="t"
        )


# --- codes --------------------------------------------------------------------------------------


def test_nationalities_are_iso_alpha3_in_upper_case() -> None:
    assert validation.nationality(" deu ") == "DEU"
    for code in ("DE", "XXX", ""):
        error = refused(validation.nationality, code, field="passport_country")
        assert (error.code, error.field) == ("unknown_country", "passport_country")


def test_passport_numbers_are_stored_without_spaces_in_upper_case() -> None:
    assert validation.passport_number(" c01x 00t47 ") == "C01X00T47"
    for number in ("AB1", "C01X00T47!", ""):
        error = refused(validation.passport_number, number)
        assert (error.code, error.field) == ("invalid_passport_number", "passport_number")


def test_a_uscc_must_carry_its_check_character() -> None:
    assert validation.uscc(" 91110000600037341l ") == "91110000600037341L"
    error = refused(validation.uscc, "91110000600037341A")
    assert (error.code, error.field) == ("invalid_uscc", "uscc")
    assert "should be L" in error.message


def test_only_regions_with_a_policy_on_file_are_accepted() -> None:
    assert validation.region_code("310000") == "310000"
    error = refused(validation.region_code, "440000", field="employer_region")
    assert (error.code, error.field) == ("unknown_region", "employer_region")
    assert "110000" in error.message  # says which regions there are


# --- the same rules through the API's schemas and the portal's forms ----------------------------


class _In(Schema):
    name: Annotated[str, validation.Text(10)]
    email: validation.Email = ""
    born: validation.BirthDate | None = None


def test_api_schemas_refuse_with_the_same_rule_at_the_field() -> None:
    assert _In(name="  Anna ", email="a@example.org").name == "Anna"
    with pytest.raises(ValidationError) as exc:
        _In(name="Anna\nBcc", email="not-an-address", born=timezone.localdate())
    problems = {e["loc"][0]: e["type"] for e in exc.value.errors()}
    assert problems == {
        "name": "control_characters",
        "email": "invalid_email",
        "born": "invalid_birth_date",
    }
    with pytest.raises(ValidationError) as long:
        _In(name="x" * 11)
    assert long.value.errors()[0]["type"] == "string_too_long"


def test_portal_forms_show_the_translated_message_for_the_code() -> None:
    with pytest.raises(DjangoValidationError) as exc:
        validation.single_line("Anna\r\nBcc")
    assert exc.value.code == "control_characters"
    assert exc.value.messages == [str(validation.MESSAGES["control_characters"])]
    with pytest.raises(DjangoValidationError) as full_width:
        validation.ascii_identifier("ＩＣ１")
    assert full_width.value.code == "not_ascii"
    validation.multi_line("line one\nline two")  # accepted
