"""The cards list and the agency's decision queue of card applications, on the shared list
toolkit (:mod:`expatsi.web.lists`), and the queue's bulk approval.

Scope comes from the selectors; the toolkit narrows, orders and pages. A bulk approval is the
single decision repeated: every application goes through ``services.application_decide`` —
checked and audited one by one — and the reader sees which were approved and which refused, why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from expatsi import spreadsheets
from expatsi.access.actors import Actor
from expatsi.cards import permissions, selectors, services
from expatsi.cards.forms import DecisionForm, card_rule_message
from expatsi.cards.models import (
    ApplicationKind,
    ApplicationStatus,
    Card,
    CardApplication,
    CardStatus,
)
from expatsi.employers.display import display_name
from expatsi.rules.errors import NotFound, RuleError
from expatsi.web import lists
from expatsi.web.actors import request_actor

BULK_LIMIT = 200


def _by_status(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(status=value)


def _by_kind(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(kind=value)


def _by_late(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(late=value == "late")


def _card_search(qs: QuerySet[Any], query: str) -> QuerySet[Any]:
    return selectors.card_search(qs, query)


def _application_search(qs: QuerySet[Any], query: str) -> QuerySet[Any]:
    return selectors.application_search(qs, query)


def _card_row(card: Card) -> list[spreadsheets.Cell]:
    return [
        card.person.family_name,
        card.person.given_names,
        card.card_number,
        card.permit_number,
        display_name(card.employer),
        card.valid_to,
        str(card.get_status_display()),
    ]


CARDS = lists.ListSpec(
    columns=(
        lists.Column(
            "holder", gettext_lazy("Holder"), ("person__family_name", "person__given_names")
        ),
        lists.Column("card", gettext_lazy("Card number"), ("card_number",)),
        lists.Column("permit", gettext_lazy("Work permit number"), ("permit_number",)),
        lists.Column("employer", gettext_lazy("Employer"), ("employer__name",)),
        lists.Column("valid_to", gettext_lazy("Valid until"), ("valid_to",)),
        lists.Column("status", gettext_lazy("Status")),
        lists.Column("updated", gettext_lazy("Last change"), ("updated_at",)),
    ),
    default_sort="-updated",
    filters=(
        lists.Filter(
            "status",
            gettext_lazy("Status"),
            CardStatus.choices,
            _by_status,
            any_label=gettext_lazy("Any status"),
        ),
    ),
    search=_card_search,
    search_label=gettext_lazy("Name, card number, permit number or social security number"),
    export_name="cards",
    export_header=(
        "family_name",
        "given_names",
        "card_number",
        "permit_number",
        "employer",
        "valid_to",
        "status",
    ),
    export_row=_card_row,
)


@login_required
def card_list(request: HttpRequest) -> HttpResponseBase:
    actor = request_actor(request)
    if not permissions.may_list_cards(actor):
        raise PermissionDenied
    found = lists.response_or_page(CARDS, request, selectors.cards_visible(actor))
    if not isinstance(found, lists.ListPage):
        return found
    rows = found.rows
    if (
        len(rows) == 1
        and not found.has_previous
        and permissions.is_holder(actor, rows[0])
        and not found.filtered
    ):
        return redirect("cards:detail", pk=rows[0].pk)
    may_decide = permissions.may_decide_applications(actor)
    return render(
        request,
        "cards/list.html",
        {
            "list": found,
            "may_decide": may_decide,
            "may_apply": permissions.may_open_application_form(actor),
            "pending": selectors.applications_awaiting_decision(actor=actor).count()
            if may_decide
            else 0,
        },
    )


# --- the decision queue ---------------------------------------------------------------------------


def _application_row(app: CardApplication) -> list[spreadsheets.Cell]:
    return [
        app.card.person.family_name,
        app.card.person.given_names,
        str(app.get_kind_display()),
        display_name(app.card.employer),
        timezone.localtime(app.filed_at).date(),
        app.deadline,
        _("late") if app.late else "",
        str(app.get_status_display()),
    ]


QUEUE = lists.ListSpec(
    columns=(
        lists.Column(
            "holder",
            gettext_lazy("Holder"),
            ("card__person__family_name", "card__person__given_names"),
        ),
        lists.Column("kind", gettext_lazy("Application")),
        lists.Column("employer", gettext_lazy("Employer"), ("card__employer__name",)),
        lists.Column("filed", gettext_lazy("Filed on"), ("filed_at",)),
        lists.Column("request", gettext_lazy("Request")),
        lists.Column("decide", gettext_lazy("Decide")),
    ),
    default_sort="filed",
    filters=(
        lists.Filter(
            "kind",
            gettext_lazy("Application"),
            ApplicationKind.choices,
            _by_kind,
            any_label=gettext_lazy("Any kind"),
        ),
        lists.Filter(
            "late",
            gettext_lazy("Filed"),
            [("late", gettext_lazy("Late")), ("on_time", gettext_lazy("In time"))],
            _by_late,
            any_label=gettext_lazy("Late or in time"),
        ),
    ),
    search=_application_search,
    search_label=gettext_lazy("Holder's name, card or permit number, or employer"),
    export_name="card-applications",
    export_header=(
        "family_name",
        "given_names",
        "application",
        "employer",
        "filed_on",
        "deadline",
        "late",
        "status",
    ),
    export_row=_application_row,
)


def _require_decide(actor: Actor) -> None:
    if not permissions.may_decide_applications(actor):
        raise PermissionDenied


@login_required
def queue(request: HttpRequest) -> HttpResponseBase:
    actor = request_actor(request)
    _require_decide(actor)
    found = lists.response_or_page(
        QUEUE, request, selectors.applications_awaiting_decision(actor=actor)
    )
    if not isinstance(found, lists.ListPage):
        return found
    return render_queue(request, actor, found)


def render_queue(
    request: HttpRequest,
    actor: Actor,
    found: lists.ListPage,
    failed: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = [
        (
            app,
            failed
            if failed is not None and failed.prefix == f"a{app.pk}"
            else DecisionForm(prefix=f"a{app.pk}"),
            selectors.application_request_for(actor, app),
        )
        for app in found.rows
    ]
    return render(request, "cards/queue.html", {"rows": rows, "list": found}, status=status)


@dataclass(frozen=True, slots=True)
class Outcome:
    application_id: int
    card_id: int | None
    name: str
    kind: str
    approved: bool
    reason: str


def approve_many(actor: Actor, ids: list[int]) -> list[Outcome]:
    """Approve each application through the single decision (each checked, audited and told to
    the employer on its own): one refusal does not undo the others."""
    known = {app.pk: app for app in selectors.applications_by_ids(actor=actor, ids=ids)}
    outcomes: list[Outcome] = []
    for pk in ids:
        app = known.get(pk)
        name = app.card.person.full_name if app else f"#{pk}"
        kind = str(app.get_kind_display()) if app else ""
        card_id = app.card_id if app else None
        try:
            services.application_decide(actor=actor, application_id=pk, approve=True)
        except NotFound:
            outcomes.append(
                Outcome(pk, None, name, kind, False, _("Not found, or not yours to decide."))
            )
        except RuleError as exc:
            outcomes.append(Outcome(pk, card_id, name, kind, False, card_rule_message(exc)))
        else:
            outcomes.append(Outcome(pk, card_id, name, kind, True, ""))
    return outcomes


@login_required
@require_POST
def applications_bulk(request: HttpRequest) -> HttpResponse:
    """Select → confirm → each application approved one by one, and the outcome of each."""
    actor = request_actor(request)
    _require_decide(actor)
    ids = lists.ids_from(request, limit=BULK_LIMIT)
    back = request.POST.get("back", "")
    if not back.startswith("?"):
        back = ""
    if not ids:
        return render(request, "cards/queue_bulk.html", {"step": "empty", "back": back}, status=400)
    if request.POST.get("step") != "confirm":
        chosen = list(
            selectors.applications_by_ids(actor=actor, ids=ids).filter(
                status=ApplicationStatus.SUBMITTED
            )
        )
        if not chosen:
            return redirect("cards:queue")
        return render(
            request, "cards/queue_bulk.html", {"step": "confirm", "chosen": chosen, "back": back}
        )
    outcomes = approve_many(actor, ids)
    return render(
        request,
        "cards/queue_bulk.html",
        {
            "step": "done",
            "done": [o for o in outcomes if o.approved],
            "refused": [o for o in outcomes if not o.approved],
            "back": back,
        },
    )
