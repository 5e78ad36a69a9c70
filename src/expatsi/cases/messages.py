"""This context's words in the reader's language: the inbox messages it sends (registered with
the notify app at start, see apps.py), the refusals of its services, one sentence per RuleError
code, and the labels of the evidence a finding shows."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from expatsi.rules.errors import RuleError
from expatsi.web.errors import rule_message

NOTICES: dict[str, tuple[Promise, Promise]] = {
    "order_to_rectify": (
        _("Order to rectify by %(deadline)s: case %(case)s"),
        _(
            "The social insurance agency orders %(employer)s to rectify the following by "
            "%(deadline)s (case %(case)s): %(summary)s. The order, in English and Chinese, is "
            'under "Orders to rectify" in the portal. If it is not rectified by then, fines '
            "within the legal range may be imposed."
        ),
    ),
    "case_decided": (
        _("Decision in case %(case)s"),
        _(
            "The social insurance agency has decided case %(case)s concerning %(employer)s: "
            '%(outcome)s. Reasons: %(reason)s. The decision is under "Orders to rectify" in '
            "the portal."
        ),
    ),
}

CASE_MESSAGES: dict[str, Promise] = {
    "reason_required": _("Give the reason."),
    "already_in_case": _("This finding is already part of an enforcement case."),
    "finding_dismissed": _("A dismissed finding cannot go into a case: confirm it first."),
    "one_employer": _("All findings of a case must concern the same employer."),
    "no_findings": _("Choose at least one finding."),
    "wrong_state": _("This cannot be done at the case's present stage."),
    "deadline_not_passed": _(
        "Fines are proposed only once the order's deadline (%(deadline)s) has passed."
    ),
    "deadline_in_past": _("The deadline must be after today."),
    "deadline_too_far": _("The deadline can be at most one year from today."),
    "fine_not_applicable": _("This kind of fine does not apply to the findings of this case."),
    "fine_out_of_range": _(
        "The amount must be within the legal range: %(min)s to %(max)s (%(article)s)."
    ),
    "persons_required": _("Give the number of directly responsible persons."),
    "invalid_outcome": _("Choose a fine or no fine."),
    "no_proposal": _("A decision to fine needs at least one fine proposal."),
    "not_rectified": _(
        "The findings of this case are not all resolved: run the checks again once the employer "
        "has rectified, or decide the case first."
    ),
    "unknown_rule": _("Not a compliance rule."),
    "unknown_legacy": _("Not a regional legacy rule."),
    "legacy_region": _("This employer is not in the region of the legacy rule."),
    "signed_after_expiry": _("The opt-out must be signed while the legacy rule was in force."),
}

# Evidence keys → labels (a finding's page lists them in the reader's language).
EVIDENCE_LABELS: dict[str, Promise] = {
    "employment_start": _("Employment started"),
    "permit": _("Work permit or card"),
    "permit_issued_on": _("Permit issued on"),
    "clock_starts": _("Registration clock starts"),
    "deadline": _("Registration was due by"),
    "legacy": _("Regional legacy rule"),
    "month": _("Contribution month"),
    "insured_from": _("Insured from"),
    "registered_on": _("Registered on"),
    "people": _("People not billed"),
    "due_date": _("Due date"),
    "bill": _("Bill"),
    "bill_id": _("Bill"),
    "kind": _("Kind of bill"),
    "total_fen": _("Billed"),
    "paid_fen": _("Paid by the scan day"),
    "card": _("Card"),
    "deregistered_on": _("Card deregistered on"),
    "exit_on": _("Left China on"),
    "port": _("Port of exit"),
    "period_start": _("Contribution year from"),
    "declared_fen": _("Declared monthly wage"),
    "lower_limit_fen": _("Lower limit"),
    "exempt_lines": _("Exempted insurance lines"),
    "sign": _("Sign"),
    "card_status": _("Card status"),
    "card_valid_to": _("Card valid until"),
    "card_deregistered_on": _("Card deregistered on"),
    "card_region": _("Card issued in region"),
    "permit_valid_to": _("Permit valid until"),
    "days_late": _("Days late"),
    "months": _("Months of contributions"),
    "monthly_premiums_fen": _("Contributions a month (estimate)"),
    "policy_month": _("Rates of"),
    "days_overdue": _("Days overdue"),
    "late_fee_fen": _("Late fee accrued"),
    "days_abroad": _("Days abroad"),
    "rate_ppm": _("Combined rate"),
    "complaint": _("Complaint or report"),
    "complaint_kind": _("Kind"),
    "received_on": _("Received on"),
    "subject": _("Subject"),
    "details": _("Details"),
}
SIGNS: dict[str, Promise] = {
    "other_employer": _("works for an employer other than the card's"),
    "card_expired": _("works on an expired card"),
    "card_deregistered": _("works on a deregistered card"),
    "permit_expired": _("works on an expired work permit"),
}


def case_message(exc: RuleError) -> str:
    """``exc`` as a sentence in the active language, with its specifics."""
    return message_for(exc.code, exc.message, exc.params)


def message_for(code: str, fallback: str, params: Mapping[str, object] | None = None) -> str:
    message = CASE_MESSAGES.get(code)
    if message is None:
        return rule_message(code, fallback, params)
    try:
        return str(message) % dict(params or {}) if "%(" in str(message) else str(message)
    except (KeyError, TypeError, ValueError):
        return fallback
