"""The employee's own contributions, account statement (page and PDF) and pension outlook; the
same outlook for agency staff, for a person in their regions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from expatsi.billing import exports, permissions, provenance, retirement, selectors
from expatsi.billing.views.common import day_asked, page_actor, require
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.money import format_rate
from expatsi.web.errors import rule_message


@login_required
def me(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require(permissions.has_own_record(actor))
    on = day_asked(request)
    try:
        statement = selectors.my_statement(actor, on)
        statement_error = ""
    except RuleError as exc:
        statement, statement_error = None, rule_message(exc.code, exc.message)
    return render(
        request,
        "billing/me.html",
        {
            "contributions": selectors.my_contributions(actor),
            "months_counted": selectors.my_months_counted(actor),
            "closing": selectors.my_account_closing(actor),
            "statement": statement,
            "years": [(y, format_rate(y.rate_ppm)) for y in statement.years] if statement else [],
            "statement_error": statement_error,
            "statement_sources": provenance.statement_sources(statement) if statement else [],
            "on": on,
            "person_id": actor.person_id,  # the "Dispute this" links (cases' dispute_links)
        },
    )


@login_required
def pension(request: HttpRequest) -> HttpResponse:
    """Retirement month and age, months still needed and the projected pension, line by line."""
    actor = page_actor(request)
    require(permissions.has_own_record(actor))
    on = day_asked(request)
    try:
        outlook, error = retirement.projection(actor, on), ""
    except RuleError as exc:
        outlook, error = None, rule_message(exc.code, exc.message)
    return render(request, "billing/pension.html", {"outlook": outlook, "error": error, "on": on})


@login_required
def person_pension(request: HttpRequest, pk: int) -> HttpResponse:
    """The same outlook for agency staff, for a person in their regions (else 404)."""
    actor = page_actor(request)
    require(permissions.may_see_others_records(actor))
    on = day_asked(request)
    try:
        outlook, error = retirement.projection(actor, on, person_id=pk), ""
    except NotFound:
        raise Http404 from None
    except RuleError as exc:
        outlook, error = None, rule_message(exc.code, exc.message)
    person = selectors.record_person(actor, pk)
    return render(
        request,
        "billing/pension.html",
        {"outlook": outlook, "error": error, "on": on, "person": person},
    )


@login_required
def statement_pdf(request: HttpRequest, language: str) -> HttpResponse:
    actor = page_actor(request)
    require(permissions.has_own_record(actor))
    if language not in ("en", "zh-hans"):
        raise Http404
    on = day_asked(request)
    person = selectors.record_person(actor)
    try:
        st = selectors.my_statement(actor, on)
    except RuleError as exc:
        messages.error(request, rule_message(exc.code, exc.message))
        return redirect("billing:me")
    pdf = exports.statement_pdf(
        person=person,
        statement=st,
        months_counted=selectors.my_months_counted(actor),
        contributions=selectors.my_contributions(actor),
        language=language,
        on=on,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="account-statement-{on.isoformat()}-{language}.pdf"'
    )
    return response
