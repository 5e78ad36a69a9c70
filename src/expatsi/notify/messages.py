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
