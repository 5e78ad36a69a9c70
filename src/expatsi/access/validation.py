"""Field validators shared by services: each raises RuleError naming the field."""

from __future__ import annotations

from datetime import date

from expatsi.rules.errors import RuleError
from expatsi.rules.identifiers import check_id, country


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


def required_text(value: str | None, field: str, *, max_length: int = 200) -> str:
    text = (value or "").strip()
    if not text:
        raise RuleError("required", "this field is required", field)
    if len(text) > max_length:
        raise RuleError("too_long", f"at most {max_length} characters", field)
    return text


def span(start: date, end: date | None, *, start_field: str, end_field: str) -> None:
    if end is not None and end < start:
        raise RuleError("end_before_start", f"{end} is before {start}", end_field)


def region_code(code: str, *, field: str = "region_code") -> str:
    from expatsi.rules.regions import region

    try:
        return region(code).code
    except RuleError as exc:
        raise RuleError(exc.code, exc.message, field) from None
