"""Message templates, in both languages: rendered with the recipient's language active."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

TEMPLATES: dict[str, tuple[Promise, Promise]] = {
    "registration_accepted": (
        _("Registration accepted: %(person)s"),
        _(
            "The social insurance registration of %(person)s has been accepted. Social security number: %(ssn)s."
        ),
    ),
    "registration_rejected": (
        _("Registration rejected: %(person)s"),
        _("The social insurance registration of %(person)s was rejected. Reason: %(reason)s"),
    ),
    "registration_due_soon": (
        _("Registration due by %(deadline)s: %(person)s"),
        _(
            "Register %(person)s for social insurance by %(deadline)s (30 days from the work permit, "
            "Order No. 16 Art. 4)."
        ),
    ),
    "registration_overdue": (
        _("Registration overdue: %(person)s"),
        _(
            "The social insurance registration of %(person)s was due on %(deadline)s and is %(days)s day(s) "
            "late. Register now to limit late fees and fines (Social Insurance Law Art. 84)."
        ),
    ),
    "certificate_expiring": (
        _("Certificate of coverage expiring on %(valid_to)s: %(person)s"),
        _(
            "The certificate of coverage %(number)s of %(person)s expires on %(valid_to)s. Without a valid "
            "certificate, the exempted insurances become payable."
        ),
    ),
    "residence_permit_expiring": (
        _("Residence permit: apply for the extension by %(deadline)s: %(person)s"),
        _(
            "The residence permit of %(person)s expires on %(valid_to)s. The extension must be applied for "
            "at least 30 days before it expires, that is by %(deadline)s (Exit and Entry Administration Law "
            "Art. 32)."
        ),
    ),
    "residence_permit_extension_late": (
        _("Residence permit extension late: %(person)s"),
        _(
            "The extension of the residence permit of %(person)s should have been applied for by "
            "%(deadline)s (at least 30 days before expiry, Exit and Entry Administration Law Art. 32). "
            "Apply now: the permit expires on %(valid_to)s."
        ),
    ),
    "card_active": (
        _("Integrated Card active: %(person)s"),
        _(
            "The Integrated Card %(card_number)s of %(person)s is active. Apply for the residence permit by "
            "%(residence_permit_due)s (30 days after entry)."
        ),
    ),
    "card_application_approved": (
        _("Card application approved: %(person)s"),
        _(
            "The application (%(application_kind)s) for the Integrated Card of %(person)s has been approved."
        ),
    ),
    "card_application_rejected": (
        _("Card application rejected: %(person)s"),
        _(
            "The application (%(application_kind)s) for the Integrated Card of %(person)s was rejected. Reason: %(reason)s"
        ),
    ),
    "departure_choice_open": (
        _("Your social insurance after %(end_date)s"),
        _(
            "The work permit of %(person)s ended on %(end_date)s. If you leave China before the statutory pension "
            "age you may keep your individual account (periods add up when you work in China again), or apply in "
            "writing to terminate your social insurance relationship and receive the balance as a lump sum."
        ),
    ),
    "proof_of_life_due": (
        _("Proof of life due by %(due)s"),
        _(
            "Your pension is paid abroad: prove once a year that you are alive, by %(due)s. Online in the "
            "portal (your password), with a life certificate from a Chinese embassy or consulate, with a "
            "notarised and apostilled certificate, or in person at an agency."
        ),
    ),
    "pension_suspended": (
        _("Pension suspended: no proof of life"),
        _(
            "No proof of life was received by %(due)s: your pension of %(amount)s a month is suspended. "
            "Prove that you are alive and the suspended months are paid in the next monthly run."
        ),
    ),
    "pension_resumed": (
        _("Pension resumed"),
        _(
            "Your proof of life is accepted: your pension is paid again, with the suspended months, in the "
            "next monthly run. Next proof of life due by %(due)s."
        ),
    ),
    "departure_opened": (
        _("Leaving China: your choice for your social insurance"),
        _(
            "A departure from China on %(date)s is recorded for %(person)s. In the portal, under Leaving "
            "China, choose to keep your individual account (your contribution periods add up when you work in "
            "China again) or apply in writing to terminate your social insurance relationship and receive the "
            "balance as a lump sum."
        ),
    ),
    "termination_received": (
        _("Your termination application is received"),
        _(
            "Your application to terminate your social insurance relationship (closing date %(closing_date)s, "
            "lump sum %(amount)s) is received. The agency checks your identity and reviews it; you will be told "
            "of its decision."
        ),
    ),
    "termination_approved": (
        _("Your termination application is approved"),
        _(
            "Your application to terminate your social insurance relationship is approved. The lump sum of "
            "%(amount)s is paid to the account %(account)s in the next payment run."
        ),
    ),
    "termination_rejected": (
        _("Your termination application is rejected"),
        _(
            "Your application to terminate your social insurance relationship was rejected. Reason: "
            "%(reason)s. You may keep your account or apply again in the portal, under Leaving China."
        ),
    ),
    "payout_sent": (
        _("Your lump sum is sent to your bank"),
        _(
            "The lump sum of %(amount)s was sent to your bank on %(date)s, to the account %(account)s; your "
            "bank converts it to %(currency)s."
        ),
    ),
    "payout_paid": (
        _("Your lump sum is paid: your account is closed"),
        _(
            "Your bank confirmed the payment of the lump sum of %(amount)s to the account %(account)s on "
            "%(date)s. Your individual account is closed; if you work in China again, a new account starts "
            "under the same social security number."
        ),
    ),
    "payout_returned": (
        _("Your lump sum was returned by the bank"),
        _(
            "Your bank returned the lump sum of %(amount)s sent to the account %(account)s (reason: "
            "%(reason)s). Check and correct your bank details in the portal, under Leaving China: the amount is "
            "sent again in the next payment run."
        ),
    ),
    "programme_approved": (
        _("Your application is approved: %(programme)s"),
        _(
            "Your application for %(programme)s is approved. %(amount)s is paid to the account %(account)s in "
            "the next payment run."
        ),
    ),
    "programme_rejected": (
        _("Your application is rejected: %(programme)s"),
        _("Your application for %(programme)s was rejected. Reason: %(reason)s."),
    ),
    "programme_paid": (
        _("Your benefit is paid"),
        _("Your bank confirmed the payment of %(amount)s to the account %(account)s on %(date)s."),
    ),
    "programme_returned": (
        _("Your benefit was returned by the bank"),
        _(
            "Your bank returned the payment of %(amount)s sent to the account %(account)s (reason: "
            "%(reason)s). Contact the agency to correct your bank details."
        ),
    ),
    "proof_of_life_rejected": (
        _("Your life certificate was not accepted"),
        _(
            "The life certificate you sent on %(date)s was not accepted. Reason: %(reason)s. Send "
            "another proof of life by %(due)s: online in the portal, with a new certificate, or in "
            "person at an agency."
        ),
    ),
}


def in_language(
    kind: str, params: Mapping[str, Any], language: str, stored: tuple[str, str]
) -> tuple[str, str]:
    """A stored message again in ``language`` (the reader's, who may have switched since it was
    sent); the stored text for a kind or parameters these templates no longer know."""
    if kind not in TEMPLATES:
        return stored
    try:
        return render(kind, params, language)
    except (KeyError, TypeError, ValueError):
        return stored


def render(kind: str, params: Mapping[str, Any], language: str) -> tuple[str, str]:
    subject, body = TEMPLATES[kind]
    with translation.override(language):
        return str(subject) % params, str(body) % params
