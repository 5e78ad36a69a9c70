"""The refusals of this context in the reader's language, one sentence per RuleError code.

Services speak English with specifics (the months, the age); pages show these sentences with the
same specifics, and fall back to the shared catalogue (web/errors.py) for other codes.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from expatsi.benefits.messages_death import DEATH_MESSAGES
from expatsi.rules.errors import RuleError
from expatsi.web.errors import rule_message

BENEFIT_MESSAGES: dict[str, Promise] = {
    "pension_age_reached": _(
        "On the closing date you have reached the statutory pension age (%(age)s, from "
        "%(month)s): the lump sum is paid only before it. The pension route applies: apply for a "
        "monthly pension, which is paid abroad as well."
    ),
    "termination_already_applied": _(
        "A termination application is already under way for you: a second one is not taken."
    ),
    "months_not_settled": _(
        "The application waits until every month is settled. Not yet billed: %(unbilled)s. "
        "Billed but not fully paid: %(unpaid)s."
    ),
    "case_not_open": _("This departure is already decided: there is nothing to choose."),
    "declaration_required": _(
        "Confirm that you apply to terminate your social insurance relationship."
    ),
    "wrong_password": _("Type your password again to sign the application."),
    "nothing_to_pay": _("Your individual account has no balance to pay out."),
    "closing_before_departure": _("The closing date cannot be before the departure."),
    "future_date": _("The date cannot be in the future."),
    "departure_too_far": _("Declare a departure at most 90 days ahead."),
    "no_employment": _("No employment in China is on record for this person."),
    "bank_in_china": _("The lump sum abroad is paid to a bank outside China."),
    "iban_required": _("Banks in this country use IBAN: enter the IBAN."),
    "invalid_iban": _("Not a valid IBAN: check the country code, the length and the check digits."),
    "iban_country": _("This IBAN belongs to another country than the one chosen."),
    "iban_not_used": _(
        "Banks in this country do not use IBAN: enter the account number and the bank code."
    ),
    "invalid_account_number": _("Not a valid account number for a bank in this country."),
    "invalid_bank_code": _("Not a valid bank code for this country."),
    "bank_code_not_used": _("Banks in this country use no separate bank code: leave it empty."),
    "invalid_bic": _("Not a valid BIC (SWIFT code): 8 or 11 letters and digits."),
    "bic_country": _("This BIC belongs to a bank in another country than the one chosen."),
    "invalid_currency": _("Write the currency as a three-letter ISO 4217 code, e.g. EUR."),
    "identity_not_checked": _("Check the applicant's identity before approving."),
    "four_eyes": _(
        "This payout needs a second approval by another agency user: you approved it first."
    ),
    "already_decided": _("This application has already been decided."),
    "invalid_decision": _("Choose approve or reject."),
    "signed_form_required": _("Upload the signed application form."),
    "signed_form_too_large": _("The signed form must be at most 2 MB."),
    "signed_form_type": _("The signed form must be a PDF, JPEG or PNG file."),
    "unknown_payout": _("No payout with this end-to-end id that you may see."),
    "not_sent": _("This payout has not been sent in a payment run."),
    "already_settled": _(
        "This payout is already settled otherwise: a correction is a reversing entry."
    ),
    "invalid_status": _("The status must be ACSC (paid) or RJCT (rejected)."),
    "nothing_to_pay_run": _("No approved payout is waiting for a payment run."),
    "payout_in_flight": _("A payout of this application is already under way."),
    "not_approved": _("Only an approved application is paid."),
    # pensions and the proof of life (issue #11)
    "before_pension_age": _(
        "A monthly pension starts at the statutory pension age (%(age)s, from %(month)s): apply "
        "from that month."
    ),
    "below_minimum_contribution": _(
        "%(months)s contribution months are on record; a monthly pension needs %(minimum)s: "
        "%(missing)s months are missing. Your options: keep contributing (work in China again) "
        "until the minimum is reached; pay the missing months up to the minimum in one sum; or, "
        "if you leave China, keep your account or take its balance as a lump sum."
    ),
    "pension_already_applied": _(
        "A pension application or award is already on record for this person."
    ),
    "no_pension_base": _("No pension calculation base is on file for this region."),
    "pensioner_deceased": _(
        "This pension was stopped because of a death reported on %(died_on)s: no proof of life "
        "is taken."
    ),
    "pension_not_awarded": _("Only an awarded pension needs a proof of life."),
    "certificate_required": _("Upload the certificate."),
    "certificate_too_large": _("The certificate must be at most 2 MB."),
    "certificate_type": _("The certificate must be a PDF, JPEG or PNG file."),
    "certificate_too_old": _(
        "This certificate is more than 12 months old: it proves nothing for this year."
    ),
    "invalid_route": _("Upload an embassy certificate or a notarised certificate."),
    "no_returned_payout": _("Bank details are corrected only after the bank returned the payout."),
    "programme_closed": _("This programme takes applications from %(start)s to %(end)s only."),
    "programme_no_card": _("Only holders of an active Integrated Card may apply."),
    "programme_not_employed": _("You qualify only while you are employed in China."),
    "programme_region": _("This programme is for people employed in another region."),
    "programme_months": _(
        "You have %(have)s contribution months; this programme needs %(need)s (%(missing)s more)."
    ),
    "programme_applied": _("You have already applied for this programme."),
    "unknown_programme": _("No such programme."),
}
BENEFIT_MESSAGES.update(DEATH_MESSAGES)  # deaths and inheritance (messages_death.py)


def benefit_message(exc: RuleError) -> str:
    """``exc`` as a sentence in the active language, with its specifics."""
    return message_for(exc.code, exc.message, exc.params)


def message_for(code: str, fallback: str, params: Mapping[str, object] | None = None) -> str:
    message = BENEFIT_MESSAGES.get(code)
    if message is None:
        return rule_message(code, fallback, params)
    values = {k: (v if v not in ("", None) else "—") for k, v in (params or {}).items()}
    try:
        return str(message) % values if "%(" in str(message) else str(message)
    except (KeyError, TypeError, ValueError):
        return fallback
