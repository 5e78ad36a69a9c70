"""RuleError codes in the reader's language. The one place domain errors become page text.

Services speak English with specifics; the portal shows a translated sentence per code and falls
back to the service's own message for a code it does not know.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.dates import MONTHS
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from expatsi.access import validation

MESSAGES: dict[str, Promise] = {
    "required": _("This field is required."),
    "too_long": _("This is too long."),
    "unknown_country": _(
        "Not a known country: write the three-letter ISO code, e.g. DEU for Germany."
    ),
    "invalid_passport_number": _("Not a valid passport number: use 5 to 20 letters and digits."),
    "passport_unavailable": _(
        "This passport cannot be registered with these details: please contact the social "
        "insurance agency."
    ),
    "document_unavailable": _(
        "This document number cannot be registered with these details: please contact the "
        "social insurance agency."
    ),
    "invalid_sex": _("Choose male or female."),
    "invalid_language": _("Choose English or Simplified Chinese."),
    "end_before_start": _("This date is before the start date."),
    "overlapping_employment": _(
        "This person already has an employment with this employer in that period."
    ),
    "already_submitted": _("This employment already has a registration in progress or done."),
    "negative_wage": _("The wage cannot be negative."),
    "invalid_amount": _(
        "Not an amount in yuan: use digits with at most two decimals, e.g. 28500.00."
    ),
    "negative_amount": _("The amount cannot be negative."),
    "invalid_date": _("Not a date: write YYYY-MM-DD, e.g. 2026-11-16."),
    "invalid_permit_kind": _(
        "The employment document must be an Integrated Card, a work permit, a press card "
        "or a permanent resident ID card."
    ),
    "invalid_permanent_resident_id": _("Not a valid Foreign Permanent Resident ID Card number."),
    "no_employment_document": _("File the work permit or Integrated Card first."),
    "invalid_uscc": _("Not a valid unified social credit code."),
    "not_found": _("Not found, or not yours to see."),
    "forbidden": _("You may not do this."),
    "wrong_state": _("This registration has already been decided."),
    "unknown_column": _("Unknown column: check the spelling against the list of columns."),
    "missing_column": _("A required column is missing."),
    "no_rows": _("The file has no data rows."),
    "extra_cells": _("The row has more cells than the header has columns."),
    "empty_file": _("The file is empty."),
    "not_utf8": _("The CSV file must be saved as UTF-8."),
    "not_xlsx": _("The file is not an Excel workbook (.xlsx)."),
    "unsupported_file": _("Upload a .csv or .xlsx file."),
    "too_large": _("The file is larger than %(size)s: split it into smaller files."),
    "too_many_rows": _("Too many rows in one file: split it into files of at most 5,000 rows."),
    "conflict": _("The row clashes with data already on file."),
    "not_interrupted": _("Only an interrupted billing run can be resumed."),
    "scan_not_interrupted": _("Only an interrupted compliance scan can be resumed."),
    "username_unavailable": _("This user name is not available: choose another."),
    "invalid_username": _("Use letters, digits and @ . + - _ only, without spaces."),
    "start_before_permit": _(
        "Employment cannot start before the work permit is issued: check the start date and the "
        "permit's date of issue."
    ),
    "not_eligible": _(
        "Not eligible for registration: a valid work permit and a residence permit valid when "
        "employment starts, or a permanent resident ID card, are required (Order No. 16, Art. 2)."
    ),
    "certificate_too_long": _(
        "This certificate runs longer than the social security agreement allows for one "
        "certificate: check its end date."
    ),
    "exemption_total_exceeded": _(
        "Together with the earlier certificates of coverage for this country, this one exceeds "
        "the total exemption the social security agreement allows: check its end date."
    ),
    "no_such_day": _("There is no %(day)s %(month_name)s %(year)s: check the day and the month."),
    "duplicate_in_file": _(
        "This passport appears twice in this file (rows %(first)s and %(row)s) with different "
        "holders: correct one of the rows."
    ),
    "old_excel": _("This is an old Excel file (.xls): save it as .xlsx or CSV."),
    "unreadable_text": _("The file is not readable text: save it as CSV or .xlsx."),
    "document_required": _("Upload the document."),
    "document_too_large": _("The document is larger than %(size)s: scan it at a lower resolution."),
    "document_too_many_pixels": _("The image has more than 16 megapixels: scan it smaller."),
    "document_type": _(
        "The document must be a complete PDF, JPEG or PNG file (whatever its name says)."
    ),
    "invalid_document_kind": _("Choose which document this is."),
    "live_card_exists": _("This person already has a card in progress or in force."),
    "invalid_valid_to": _("The requested validity must end in the future."),
    "duplicate_uscc": _("An employer with this unified social credit code is already registered."),
    "invalid_region": _("Choose a region from the list."),
    **validation.MESSAGES,  # control characters, e-mail addresses, dates out of range …
    # One card number (cards.card_document): a hire names the card on file.
    "card_required": _(
        "Give the number of the person's Integrated Card or work permit, or A and the number of "
        "the card application."
    ),
    "card_unknown": _(
        "No Integrated Card, work permit or card application has this number: check it, or "
        "apply for the card first."
    ),
    "card_of_another_person": _(
        "This card is not this person's: check the number and the passport details."
    ),
    "card_not_in_force": _(
        "This card is no longer in force (deregistered, expired, rejected or lapsed): a hire "
        "needs a card in force or an application awaiting a decision."
    ),
    "card_kind_by_register": _(
        "An Integrated Card or work permit is recorded by the cards register, not typed here: "
        "apply for the card (/api/v1/cards), or the agency imports an older work permit."
    ),
}


def rule_message(code: str, fallback: str, params: Mapping[str, object] | None = None) -> str:
    """``params``: the error's specifics (a day, row numbers) that the sentence for ``code`` names."""
    message = MESSAGES.get(code)
    if message is None:
        return fallback
    if not params:
        text = str(message)
        return fallback if "%(" in text else text  # a sentence that needs specifics it lacks
    month = params.get("month")
    if isinstance(month, int) and month in MONTHS:
        params = {
            **params,
            "month_name": MONTHS[month],
        }  # the month's name in the reader's language
    try:
        return str(message) % params
    except (KeyError, TypeError, ValueError):
        return fallback
