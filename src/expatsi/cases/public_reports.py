"""Anyone reports an employer without an account (SIL Art. 82: "any organisation or individual has
the right to report"): the public page and ``POST /api/v1/reports`` share this service.

The report names a registered employer, by its unified social credit code (one not on file is
checked, check character included, to say what is wrong with it, like complaints.py does) or by its
exact registered name when only one employer bears it: a finding, the agency's scope and the reply clock all hang on the employer. It
says what happens (a word from :class:`ReportCategory`), where (a region on file, optional), and in
the reporter's words. The reporter may leave an e-mail address for the acknowledgement and the
reply, or ask to stay anonymous, which keeps no contact at all (and so sends nothing).

It is stored as a :class:`Complaint` of kind "report" submitted as "public": agency staff of the
employer's region see it in their complaints list with the reply clock (``complaint_reply``),
reply (by e-mail, after commit) and turn it into a finding like any other report. The address is
shown to them only on the report's page, an audited read (``complaint.read``).

Abuse, without any service on the network: a limited number of reports per client address and
hour (Django's cache, like the card check's limit; 429 ``rate_limited`` with Retry-After), a
hidden field that people leave empty (the page's honeypot) and limits on every text.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.access.clientip import address_bucket
from expatsi.access.throttle import fixed_window
from expatsi.cards.verification import RateLimitedError
from expatsi.cases.complaints import _event, reply_deadline
from expatsi.cases.models import Complaint, ComplaintKind, ReportCategory
from expatsi.cases.report_mail import send_acknowledgement
from expatsi.employers.models import Employer
from expatsi.rules.errors import RuleError
from expatsi.rules.regions import regions

RATE_PER_HOUR = 10
NAME_MAX = 200
DESCRIPTION_MAX = 4000
DESCRIPTION_MIN = 20  # a few words: enough for the agency to know what to look into
EMAIL_MAX = 254
SUBJECT_MAX = 120  # the first line of the description, as the report's subject


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who reports, as far as the agency may know: where the request came from (for the limit and
    the audit trail) and the page or the API."""

    ip: str
    via: str  # "portal" | "api"

    @property
    def actor(self) -> Actor:
        return Actor(kind="public", user_id=None, label="public", ip=self.ip, via=self.via)


def rate_per_hour() -> int:
    return int(getattr(settings, "EXPATSI_REPORT_RATE_PER_HOUR", RATE_PER_HOUR))


def rate_limit(ip: str) -> None:
    """Count one attempt from this client address (IPv6: per /64) in the current hour; refuse once
    the hour's budget is spent. Counted before the report is checked, so that guessing names or
    codes costs the same budget as reporting."""
    count, retry_after = fixed_window(
        f"expatsi:report-rate:{address_bucket(ip) if ip else '-'}", 3600
    )
    if count > rate_per_hour():
        error = RateLimitedError(
            "rate_limited",
            _("Too many reports from your address: try again in an hour."),
            "",
        )
        error.retry_after = retry_after
        raise error


def _employer(name: str, uscc: str) -> Employer:
    code = uscc.replace(" ", "").replace("-", "").upper()
    if code:
        code = validation.identifier(code, "uscc", max_length=18)
        found = Employer.objects.filter(uscc=code).first()
        if found is None:
            validation.uscc(code, field="uscc")  # a mistyped code: say what is wrong with it
            raise RuleError("unknown_employer", "no registered employer with this code", "uscc")
        return found
    if not name:
        raise RuleError(
            "employer_required", "give the employer's name or its credit code", "employer_name"
        )
    matches = list(Employer.objects.filter(name__iexact=name)[:2]) or list(
        Employer.objects.filter(name_zh=name)[:2]
    )
    if not matches:
        raise RuleError(
            "unknown_employer_name",
            "no registered employer has exactly this name: give its credit code",
            "employer_name",
        )
    if len(matches) > 1:
        raise RuleError(
            "ambiguous_employer_name",
            "several employers have this name: give the credit code",
            "employer_name",
        )
    return matches[0]


def _category(value: str) -> str:
    if value not in ReportCategory.values:
        raise RuleError(
            "invalid_category", f"choose one of {', '.join(ReportCategory.values)}", "category"
        )
    return value


def _place(value: str) -> str:
    code = (value or "").strip()
    if code and code not in regions():
        raise RuleError("invalid_region", "choose a region on file, or none", "region_code")
    return code


def _email(value: str, anonymous: bool) -> str:
    address = (value or "").strip()
    if not address:
        return ""
    if anonymous:
        raise RuleError(
            "anonymous_with_contact",
            "an anonymous report keeps no contact: leave the address empty",
            "email",
        )
    if len(address) > EMAIL_MAX:
        raise RuleError("invalid_email", "not an e-mail address", "email")
    try:
        validate_email(address)
    except ValidationError:
        raise RuleError("invalid_email", "not an e-mail address", "email") from None
    return address


def _description(value: str) -> str:
    text = validation.text(value, "description", max_length=DESCRIPTION_MAX, multiline=True)
    if not text:
        raise RuleError("required", "describe what happens", "description")
    if len(text) < DESCRIPTION_MIN:
        raise RuleError(
            "description_too_short",
            f"describe what happens in at least {DESCRIPTION_MIN} characters",
            "description",
        )
    return text


def report_file_public(
    *,
    reporter: Reporter,
    category: str,
    description: str,
    employer_name: str = "",
    uscc: str = "",
    region_code: str = "",
    email: str = "",
    anonymous: bool = False,
) -> Complaint:
    """File a report from someone without an account. Every field is checked (a RuleError names
    the field) before the employer is looked up; the reply clock starts on the day it is
    received; an acknowledgement goes to the address given, once committed."""
    rate_limit(reporter.ip)
    kind = _category(category)
    body = _description(description)
    name = validation.text(employer_name, "employer_name", max_length=NAME_MAX)
    place = _place(region_code)
    address = _email(email, anonymous)
    employer = _employer(name, uscc)
    today = timezone.localdate()
    due = reply_deadline(today).due
    actor = reporter.actor
    with transaction.atomic():
        complaint = Complaint.objects.create(
            number=f"tmp-{timezone.now().timestamp()}-public",
            kind=ComplaintKind.REPORT,
            region_code=employer.region_code,
            employer=employer,
            person=None,
            submitted_by=None,
            submitted_as="public",
            complainant_label="",
            subject=body.splitlines()[0][:SUBJECT_MAX],
            details=body,
            received_on=today,
            reply_due=due,
            category=kind,
            place=place,
            contact_email=address,
            anonymous=anonymous,
            language=(get_language() or settings.LANGUAGE_CODE)[:8],
        )
        complaint.number = f"CMP-{complaint.region_code}-{today.year}-{complaint.pk:06d}"
        complaint.save(update_fields=["number"])
        # The history and the audit trail say a report came in, never who from.
        _event(
            complaint,
            actor,
            "filed",
            kind=ComplaintKind.REPORT.value,
            category=kind,
            reply_due=due.isoformat(),
            contact=bool(address),
        )
        if address:
            transaction.on_commit(lambda: send_acknowledgement(complaint))
    return complaint
