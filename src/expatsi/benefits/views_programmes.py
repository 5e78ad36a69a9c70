"""Benefit programme pages. The card holder: the programmes, whether they qualify (and why not),
the application and its payment. Agency staff: the queue and the review.

Views are thin: build the actor, call one function of benefits/programmes.py, show a RuleError
next to its field.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from expatsi import spreadsheets
from expatsi.access.actors import Actor
from expatsi.benefits import permissions, programmes, selectors, services
from expatsi.benefits.forms import ProgrammeApplyForm, ProgrammeDecisionForm
from expatsi.benefits.messages import message_for
from expatsi.benefits.models import PROGRAMME_TO_DECIDE, ProgrammeApplication, ProgrammeStatus
from expatsi.billing.provenance import status_label
from expatsi.people.models import Person
from expatsi.rules.errors import NotFound, RuleError
from expatsi.web import lists
from expatsi.web.actors import request_actor


def _actor(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    if not permissions.may_use_programmes(actor):
        raise PermissionDenied
    return actor


@login_required
def programmes_page(request: HttpRequest) -> HttpResponse:
    """The card holder's page: each programme, whether they qualify, the application form."""
    actor = _actor(request)
    if not permissions.may_apply_programmes(actor) or actor.person_id is None:
        raise PermissionDenied
    person = Person.objects.get(pk=actor.person_id)
    found = programmes.my_programmes(person, timezone.localdate())
    form = ProgrammeApplyForm(
        request.POST or None,
        programmes=[(f.programme.code, f.programme.title) for f in found if f.eligible],
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                app = programmes.programme_apply(
                    actor=actor,
                    programme=data["programme"],
                    bank_details=services.BankDetails(
                        holder=data["holder"],
                        country=data["country"],
                        iban=data["iban"],
                        account_number=data["account_number"],
                        bank_code=data["bank_code"],
                        bic=data["bic"],
                        currency=data["currency"],
                    ),
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(request, _("Your application is sent to the agency for review."))
                return redirect("benefits:programme_application", programme_application_id=app.pk)
        status = 400
    rows = [
        (
            f,
            [message_for(r.code, r.code, r.params) for r in f.reasons],
            status_label(f.programme.status),
        )
        for f in found
    ]
    return render(
        request,
        "benefits/programmes.html",
        {
            "rows": rows,
            "form": form,
            "any_eligible": any(f.eligible for f in found),
            "applications": list(
                programmes.applications_visible(actor).order_by("-applied_at")[:50]
            ),
        },
        status=status,
    )


def _by_programme(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(programme=value)


def _queue_row(app: ProgrammeApplication) -> list[spreadsheets.Cell]:
    return [
        app.pk,
        app.person.family_name,
        app.person.given_names,
        app.programme,
        app.region_code,
        Decimal(app.amount) / 100,
        app.applied_at.date() if app.applied_at else None,
    ]


QUEUE = lists.ListSpec(
    columns=(
        lists.Column(
            "person", gettext_lazy("Person"), ("person__family_name", "person__given_names")
        ),
        lists.Column("programme", gettext_lazy("Programme"), ("programme",)),
        lists.Column("region", gettext_lazy("Region"), ("region_code",)),
        lists.Column("amount", gettext_lazy("Amount"), ("amount",)),
        lists.Column("applied", gettext_lazy("Applied"), ("applied_at",)),
    ),
    default_sort="applied",  # oldest first
    filters=(
        lists.Filter(
            "programme",
            gettext_lazy("Programme"),
            (),
            _by_programme,
            any_label=gettext_lazy("Any programme"),
        ),
    ),
    search=selectors.by_person,
    search_label=gettext_lazy("Name, social security number or document number"),
    export_name="programme-applications",
    export_header=(
        "id",
        "family_name",
        "given_names",
        "programme",
        "region",
        "amount_yuan",
        "applied_on",
    ),
    export_row=_queue_row,
)


@login_required
def queue(request: HttpRequest) -> HttpResponseBase:
    """Applications awaiting review on the list toolkit (the page rendered the oldest 200), each
    with its programme's title, not its code."""
    actor = _actor(request)
    if not permissions.may_review_programmes(actor):
        raise PermissionDenied
    offered = programmes.programmes()
    titles = {code: p.title for code, p in offered.items()}
    spec = replace(QUEUE, filters=(replace(QUEUE.filters[0], choices=sorted(titles.items())),))
    found = lists.response_or_page(
        spec, request, programmes.applications_queue(actor).select_related("person")
    )
    if not isinstance(found, lists.ListPage):
        return found
    return render(
        request,
        "benefits/programme_queue.html",
        {
            "list": found,
            "rows": [(a, titles.get(a.programme, a.programme)) for a in found.rows],
            "programmes": list(offered.values()),
        },
    )


def _page(
    request: HttpRequest,
    actor: Actor,
    app: ProgrammeApplication,
    form: ProgrammeDecisionForm,
    status: int,
) -> HttpResponse:
    prog = programmes.programmes().get(app.programme)
    return render(
        request,
        "benefits/programme_application.html",
        {
            "app": app,
            "programme": prog,
            "form": form,
            "decidable": permissions.may_review_programme(actor, app.region_code)
            and app.status in PROGRAMME_TO_DECIDE,
            "threshold": services.second_approval_above(),
            "staff": permissions.is_staff(actor),
            "payouts": list(app.payouts.order_by("pk")),
        },
        status=status,
    )


@login_required
def application(request: HttpRequest, programme_application_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        app = programmes.application_get(
            actor=actor, programme_application_id=programme_application_id
        )
    except NotFound:
        raise Http404 from None
    return _page(request, actor, app, ProgrammeDecisionForm(), 200)


@login_required
@require_POST
def decide(request: HttpRequest, programme_application_id: int) -> HttpResponse:
    actor = _actor(request)
    if not permissions.is_staff(actor):
        raise PermissionDenied
    try:
        app = programmes.application_get(
            actor=actor, programme_application_id=programme_application_id, audit=False
        )
    except NotFound:
        raise Http404 from None
    form = ProgrammeDecisionForm(request.POST)
    if form.is_valid():
        try:
            app = programmes.programme_decide(
                actor=actor,
                programme_application_id=app.pk,
                decision=request.POST.get("decision", ""),
                note=form.cleaned_data["note"],
                reason=form.cleaned_data["reason"],
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            done: dict[str, str] = {
                ProgrammeStatus.APPROVED: _(
                    "Approved: the payment waits for the next payment run."
                ),
                ProgrammeStatus.SECOND_APPROVAL: _(
                    "Approved: a second agency user must approve this payout too."
                ),
            }
            messages.success(
                request, done.get(app.status, _("Rejected: the card holder is told why."))
            )
            return redirect("benefits:programme_application", programme_application_id=app.pk)
    return _page(request, actor, app, form, 400)
