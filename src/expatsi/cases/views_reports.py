"""The public page to report an employer, for anyone, without an account (public_reports.py).

Thin like the other pages: the form parses, one service call files, a RuleError is shown on its
field. A report filled in by a program (the honeypot) is refused with 400 and stores nothing; a
client address over its hourly budget gets 429 with a sentence and Retry-After, never a 500.
After filing, the reference number is shown on a page of its own (post, redirect, get): the
number is kept in the session for that page only.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from expatsi.access.actors import client_ip
from expatsi.cards.verification import RateLimitedError
from expatsi.cases import complaints, public_reports
from expatsi.cases.forms_reports import HONEYPOT, PublicReportForm, report_message
from expatsi.cases.models import Complaint
from expatsi.rules.deadlines import clock
from expatsi.rules.errors import RuleError

SESSION_KEY = "expatsi_public_report"


@never_cache
def report_public(request: HttpRequest) -> HttpResponse:
    form = PublicReportForm(request.POST or None)
    status = 200
    retry_after: int | None = None
    if request.method == "POST":
        status = 400
        reporter = public_reports.Reporter(ip=client_ip(request), via="portal")
        try:
            if form.data.get(HONEYPOT):
                public_reports.rate_limit(reporter.ip)  # a program's attempts count too
                form.add_error(None, report_message("honeypot", "refused"))
            elif form.is_valid():
                d = form.cleaned_data
                complaint = public_reports.report_file_public(
                    reporter=reporter,
                    category=d["category"],
                    description=d["description"],
                    employer_name=d["employer_name"],
                    uscc=d["uscc"],
                    region_code=d["region"],
                    email=d["email"],
                    anonymous=d["anonymous"],
                )
                request.session[SESSION_KEY] = complaint.pk
                return redirect("cases:report_sent")
        except RateLimitedError as exc:
            form.add_error(None, report_message(exc.code, exc.message))
            status, retry_after = 429, exc.retry_after
        except RuleError as exc:
            form.add_rule_error(exc)
    context = {
        "form": form,
        "fields": form.visible_fields_but_honeypot(),
        "honeypot": form[HONEYPOT],
        "reply_days": clock(complaints.CLOCK).amount,
    }
    response = render(request, "cases/report_public.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@never_cache
def report_sent(request: HttpRequest) -> HttpResponse:
    """The reference number of the report just sent from this browser (else back to the form)."""
    pk = request.session.get(SESSION_KEY)
    complaint = Complaint.objects.filter(pk=pk, submitted_as="public").first() if pk else None
    if complaint is None:
        return redirect("cases:report_public")
    return render(request, "cases/report_sent.html", {"complaint": complaint})
