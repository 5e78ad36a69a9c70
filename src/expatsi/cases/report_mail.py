"""E-mails to someone who reported an employer without an account (public_reports.py): the
acknowledgement with the report's number, and the agency's reply. They have no inbox, so the
address they gave is the only way to reach them; in the language they reported in.

Both are sent once the report or the reply is committed (``transaction.on_commit`` by the
callers). A mail server that is down never turns a committed report or reply into an error: the
failure is logged and the report stands (the reply is on its page for staff).
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from expatsi.cases.dispute_messages import NOTICES
from expatsi.cases.models import Complaint
from expatsi.employers.display import display_name

log = logging.getLogger(__name__)

# Line breaks and other control characters never reach a Subject header.
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _send(complaint: Complaint, subject: str, body: str) -> bool:
    try:
        send_mail(
            _HEADER_UNSAFE.sub(" ", subject).strip()[:200],
            body,
            settings.DEFAULT_FROM_EMAIL,
            [complaint.contact_email],
        )
    except Exception:
        log.exception("the e-mail about report %s could not be sent", complaint.pk)
        return False
    return True


def _language(complaint: Complaint) -> str:
    return complaint.language or str(settings.LANGUAGE_CODE)


def send_acknowledgement(complaint: Complaint) -> bool:
    """Tell the reporter their report's number and by when the agency replies."""
    if not complaint.contact_email:
        return False
    with translation.override(_language(complaint)):
        subject = _("Your report %(number)s to the social insurance agency") % {
            "number": complaint.number
        }
        body = _(
            "The social insurance agency received your report %(number)s about %(employer)s "
            "on %(received)s. It replies to this address by %(due)s.\n\n"
            "Keep the number %(number)s: quote it if you write to the agency about this report."
        ) % {
            "number": complaint.number,
            "employer": display_name(complaint.employer),
            "received": date_format(complaint.received_on, "DATE_FORMAT"),
            "due": date_format(complaint.reply_due, "DATE_FORMAT"),
        }
    return _send(complaint, subject, body)


def send_reply(complaint: Complaint) -> bool:
    """The agency's reply, worded like the inbox message of a signed-in complainant."""
    if not complaint.contact_email or not complaint.reply:
        return False
    subject_words, body_words = NOTICES["complaint_reply"]
    params = {
        "number": complaint.number,
        "subject": complaint.subject,
        "reply": complaint.reply,
        "replied_on": complaint.replied_on.isoformat() if complaint.replied_on else "",
    }
    with translation.override(_language(complaint)):
        subject = str(subject_words) % params
        body = str(body_words) % params
    return _send(complaint, subject, body)
