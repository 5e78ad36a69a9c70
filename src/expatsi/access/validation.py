"""Field validators shared by the services, the API schemas and the portal forms.

One rule, three doors: a bad value gets the same answer whichever way it comes in.

* services call the plain functions, which raise :class:`RuleError` naming the field;
* API schemas annotate fields with the pydantic metadata at the end of this module
  (``Annotated[str, Text(100)]``, ``Email``, ``Day``…), so bad input is a 422 naming the field
  before any service or database sees it — and a value longer than the model allows is refused
  there, not by PostgreSQL as a 500;
* portal forms attach the Django validators (:func:`form_validator`).

Why these rules: names and e-mail addresses end up in e-mail headers, where a line break is a
header injection (and Django refuses to send, failing the request); NUL cannot be stored in
PostgreSQL; full-width digits (``２０２４``) look like digits to Python's ``int`` and ``\\d`` and
would be stored as something no other system matches; and dates far from today (``9999-12-31``)
overflow the deadline arithmetic. Full-width digits are refused, not normalised: a number typed
with an input method switched to full-width is a typing slip the user should see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import annotated_types as at
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from expatsi.rules.dates import DATE_MAX as DATE_MAX  # the plausible window, re-exported
from expatsi.rules.dates import DATE_MIN, check_date_range
from expatsi.rules.errors import RuleError
from expatsi.rules.identifiers import check_id, country
from expatsi.rules.regions import region

# The longest validity each document may have, in years. Work-type residence permit: 90 days to
# 5 years (Exit and Entry Administration Law, shared/policy-facts.md §8.2). The work permit and the
# Integrated Card are issued for at most 5 years (CONVENTION: the same ceiling as the residence
# permit they go with; no national text seen gives a longer term). Press card: the same ceiling
# (CONVENTION). Foreign Permanent Resident ID Card: 10 years for adults.
MAX_VALIDITY_YEARS: dict[str, int] = {
    "work_permit": 5,
    "integrated_card": 5,
    "press_card": 5,
    "residence_permit": 5,
    "permanent_resident_id": 10,
}

EMAIL_MAX_LENGTH = 254  # RFC 5321 path limit; Django's EmailField default

# C0 controls (NUL, tab, CR, LF …), DEL, C1 controls and the Unicode line/paragraph separators.
_SINGLE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, but tab and line feed are allowed in multi-line text (CR LF is normalised to LF).
_MULTI_LINE_BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_email_validator = EmailValidator()

# What the portal shows for each code raised here (web/errors.py merges these in).
MESSAGES: dict[str, Promise] = {
    "control_characters": _(
        "Write this on one line, without line breaks, tabs or other control characters."
    ),
    "not_ascii": _("Use the half-width letters A–Z and digits 0–9 (no full-width characters)."),
    "invalid_email": _("Not an e-mail address, e.g. name@example.com."),
    "date_out_of_range": _("This date is not plausible: use a date between 1900 and 2199."),
    "invalid_birth_date": _("The date of birth must be in the past and after 1 January 1900."),
    "validity_too_long": _("This is longer than the document's maximum validity."),
    "too_long": _("This is too long."),
}


def _describe(char: str) -> str:
    names = {"\x00": "NUL", "\t": "a tab", "\n": "a line break", "\r": "a line break"}
    return names.get(char, f"the control character U+{ord(char):04X}")


def text(value: str | None, field: str, *, max_length: int, multiline: bool = False) -> str:
    """Free text, stripped: no control characters (single-line: no line breaks or tabs either)."""
    result = str(value or "")
    if multiline:
        result = result.replace("\r\n", "\n").replace("\r", "\n")
    result = result.strip()
    bad = (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(result)
    if bad:
        where = "" if multiline else "one line, "
        raise RuleError(
            "control_characters",
            f"must be {where}without {_describe(bad.group())} or other control characters",
            field,
        )
    if len(result) > max_length:
        raise RuleError("too_long", f"at most {max_length} characters", field)
    return result


def required_text(
    value: str | None, field: str, *, max_length: int = 200, multiline: bool = False
) -> str:
    result = text(value, field, max_length=max_length, multiline=multiline)
    if not result:
        raise RuleError("required", "this field is required", field)
    return result


def identifier(value: str | None, field: str, *, max_length: int, required: bool = True) -> str:
    """A document or certificate number: one line of ASCII letters, digits and punctuation.

    Full-width letters and digits (``ＩＣ１２３``) are refused rather than stored: nobody searching
    for ``IC123`` would ever find them.
    """
    result = (required_text if required else text)(value, field, max_length=max_length)
    if not result.isascii():
        raise RuleError(
            "not_ascii",
            "use the half-width letters A–Z and digits 0–9 (no full-width characters)",
            field,
        )
    return result


def email(value: str | None, field: str = "email", *, required: bool = False) -> str:
    """An e-mail address (Django's EmailValidator), or empty when not required."""
    result = text(value, field, max_length=EMAIL_MAX_LENGTH)
    if not result:
        if required:
            raise RuleError("required", "this field is required", field)
        return ""
    try:
        _email_validator(result)
    except DjangoValidationError:
        raise RuleError(
            "invalid_email", f"{result!r} is not an e-mail address, e.g. name@example.com", field
        ) from None
    return result


def plausible_date(day: date, field: str) -> date:
    """A date in the window the platform handles (1900-01-01 to 2199-12-31)."""
    return check_date_range(day, field=field)


def birth_date(day: date, field: str = "birth_date", *, today: date | None = None) -> date:
    """After 1900-01-01 and before today."""
    today = today or timezone.localdate()
    if not DATE_MIN <= day < today:
        raise RuleError(
            "invalid_birth_date",
            f"the date of birth must be in the past and after {DATE_MIN.isoformat()}",
            field,
        )
    return day


def span(start: date, end: date | None, *, start_field: str, end_field: str) -> None:
    """A period: both ends in the plausible window, the end not before the start."""
    plausible_date(start, start_field)
    if end is not None:
        plausible_date(end, end_field)
        if end < start:
            raise RuleError("end_before_start", f"{end} is before {start}", end_field)


def validity(start: date, end: date | None, *, kind: str, start_field: str, end_field: str) -> None:
    """A document's validity: a :func:`span` no longer than the legal maximum for its kind."""
    span(start, end, start_field=start_field, end_field=end_field)
    years = MAX_VALIDITY_YEARS.get(kind)
    if end is None or years is None:
        return
    try:
        latest = start.replace(year=start.year + years)
    except ValueError:  # 29 February → 28 February
        latest = start.replace(year=start.year + years, day=28)
    if end > latest:
        raise RuleError(
            "validity_too_long",
            f"a {kind.replace('_', ' ')} is valid for at most {years} years "
            f"(until {latest.isoformat()} at the latest)",
            end_field,
        )


def nationality(code: str, *, field: str = "nationality") -> str:
    return country((code or "").strip().upper(), field=field).alpha3


def passport_number(number: str, *, field: str = "passport_number") -> str:
    result = check_id(number or "", "passport")
    if not result.valid:
        raise RuleError("invalid_passport_number", result.reason, field)
    return str(result.details.get("number", (number or "").replace(" ", "").upper()))


def uscc(code: str, *, field: str = "uscc") -> str:
    result = check_id(code or "", "uscc")
    if not result.valid:
        raise RuleError("invalid_uscc", result.reason, field)
    return (code or "").strip().upper()


def region_code(code: str, *, field: str = "region_code") -> str:

    try:
        return region(code).code
    except RuleError as exc:
        raise RuleError(exc.code, exc.message, field) from None


# --- pydantic (API schemas) ---------------------------------------------------------------------


def _after(check: Callable[[Any], Any]) -> AfterValidator:
    """Run a check above inside pydantic: its RuleError becomes a 422 at the field's location."""

    def run(value: Any) -> Any:
        try:
            return check(value)
        except RuleError as exc:
            raise PydanticCustomError(exc.code, exc.message) from None

    return AfterValidator(run)


@dataclass(frozen=True, slots=True)
class Text(at.GroupedMetadata):
    """``Annotated[str, Text(100)]``: at most 100 characters (the model's max_length, also in the
    OpenAPI document), stripped, no control characters (``multiline`` allows line breaks)."""

    max_length: int
    multiline: bool = False

    def __iter__(self) -> Iterator[object]:
        yield at.MaxLen(self.max_length)
        yield _after(lambda v: text(v, "", max_length=self.max_length, multiline=self.multiline))


@dataclass(frozen=True, slots=True)
class Identifier(at.GroupedMetadata):
    """``Annotated[str, Identifier(40)]``: a number of ASCII characters (may be empty here; the
    service says when it is required)."""

    max_length: int

    def __iter__(self) -> Iterator[object]:
        yield at.MaxLen(self.max_length)
        yield _after(lambda v: identifier(v, "", max_length=self.max_length, required=False))


# An id in a query string: the database's 64-bit integers (a larger one overflowed SQLite → 500,
# and PostgreSQL answered an empty list). Path ids need nothing: a lookup beyond range finds nothing.
INT64_MAX = 2**63 - 1
Id = Annotated[int, at.Ge(1), at.Le(INT64_MAX)]
Email = Annotated[str, at.MaxLen(EMAIL_MAX_LENGTH), _after(lambda v: email(v, ""))]
Day = Annotated[date, _after(lambda d: plausible_date(d, ""))]
BirthDate = Annotated[date, _after(lambda d: birth_date(d, ""))]


# --- Django forms ---------------------------------------------------------------------------------


def form_validator(check: Callable[[Any], Any]) -> Callable[[Any], None]:
    """A Django form-field validator from a check above (the form names the field itself; the
    field's own max_length check gives the length message)."""

    def validate(value: Any) -> None:
        try:
            check(value)
        except RuleError as exc:
            message = MESSAGES.get(exc.code)
            raise DjangoValidationError(
                exc.message if message is None else str(message), code=exc.code
            ) from None

    return validate


single_line = form_validator(lambda v: text(v, "", max_length=10_000))
multi_line = form_validator(lambda v: text(v, "", max_length=10_000, multiline=True))
ascii_identifier = form_validator(lambda v: identifier(v, "", max_length=10_000, required=False))
form_birth_date = form_validator(lambda d: birth_date(d, ""))
form_date = form_validator(lambda d: plausible_date(d, ""))
