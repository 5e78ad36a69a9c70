"""Message templates, in both languages: rendered with the recipient's language active."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.functional import Promise

TEMPLATES: dict[str, tuple[Promise, Promise]] = {
    "registration_accepted": (
        _("Registration accepted: %(person)s"),
        _("The social insurance registration of %(person)s has been accepted. Social security number: %(ssn)s."),
    ),
    "registration_rejected": (
        _("Registration rejected: %(person)s"),
        _("The social insurance registration of %(person)s was rejected. Reason: %(reason)s"),
    ),
    "registration_due_soon": (
        _("Registration due by %(deadline)s: %(person)s"),
        _("Register %(person)s for social insurance by %(deadline)s (30 days from the work permit, "
          "Order No. 16 Art. 4)."),
    ),
    "registration_overdue": (
        _("Registration overdue: %(person)s"),
        _("The social insurance registration of %(person)s was due on %(deadline)s and is %(days)s day(s) "
          "late. Register now to limit late fees and fines (Social Insurance Law Art. 84)."),
    ),
    "certificate_expiring": (
        _("Certificate of coverage expiring on %(valid_to)s: %(person)s"),
        _("The certificate of coverage %(number)s of %(person)s expires on %(valid_to)s. Without a valid "
          "certificate, the exempted insurances become payable."),
    ),
    "residence_permit_expiring": (
        _("Residence permit expiring on %(valid_to)s: %(person)s"),
        _("The residence permit of %(person)s expires on %(valid_to)s. Apply for an extension at least 30 "
          "days before it expires (Exit and Entry Administration Law Art. 32)."),
    ),
}


def render(kind: str, params: Mapping[str, Any], language: str) -> tuple[str, str]:
    subject, body = TEMPLATES[kind]
    with translation.override(language):
        return str(subject) % params, str(body) % params
