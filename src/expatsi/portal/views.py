"""Portal pages: a home page per role, and the person page, which brings together what the
contexts below know of one person (identity documents, employments and registrations, cards).

The pages of each context live in that app (``insurance.views``: hires and registrations;
``cards.views``; ``billing.views``). Views are thin: build the actor, call selectors, render.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from expatsi.access.actors import Actor
from expatsi.cards.models import Card
from expatsi.cards.selectors import cards_of_documents
from expatsi.employers.models import Employer
from expatsi.employers.selectors import employer_search
from expatsi.employers.views import pick_employer
from expatsi.insurance.forms import RejectForm
from expatsi.insurance.list_views import hr_registrations_spec
from expatsi.insurance.permissions import may_see_people
from expatsi.insurance.selectors import (
    employments_of_person,
    person_get,
    person_search,
    registration_deadline_counts,
    registration_deadline_status,
    registration_load_by_region,
    registration_table_of_employer,
    registrations_awaiting_decision,
    registrations_of_person,
)
from expatsi.people.models import Document, DocumentKind, Person
from expatsi.people.permissions import own_person_id, passport_number_for
from expatsi.people.selectors import documents_of, passports_of
from expatsi.portal.forms import SearchForm
from expatsi.rules.errors import NotFound
from expatsi.rules.regions import regions
from expatsi.web import lists
from expatsi.web.actors import request_actor

# Documents a Card in the cards app can stand for.
CARD_DOCUMENT_KINDS = (DocumentKind.INTEGRATED_CARD, DocumentKind.WORK_PERMIT)


# --- home per role ----------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponseBase:
    """Each role has its own home page: navigation by role, not a permission."""
    if not request.user.is_authenticated:
        return render(
            request,
            "portal/home.html",
            {"regions": sorted(regions().values(), key=lambda r: r.code)},
        )
    actor = request_actor(request)
    if actor.kind == "agency":
        return _agency_home(request, actor)
    if actor.kind == "hr":
        return _hr_home(request, actor)
    if own_person_id(actor) is not None:
        return redirect("me")
    return render(request, "portal/home_norole.html")


def _agency_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    people: list[Person] = []
    employers: list[Employer] = []
    if query:
        people = list(person_search(actor=actor, query=query, limit=50))
        employers = list(employer_search(actor=actor, query=query)[:20])
    region_rows = registration_load_by_region(actor=actor, today=timezone.localdate())
    pending = registrations_awaiting_decision(actor=actor)
    return render(
        request,
        "portal/agency_home.html",
        {
            "form": form,
            "query": query,
            "people": people,
            "employers": employers,
            "region_rows": region_rows,
            "overdue_total": sum(r.overdue for r in region_rows),
            "pending": list(pending[:25]),
            # From the region table's counts: no second count over every submitted registration.
            "pending_total": sum(r.submitted for r in region_rows),
            "reject_form": RejectForm(),
        },
    )


def _hr_home(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    """The employer's foreign employees on the list toolkit: open registrations first, overdue
    at the top; the tiles count by deadline and link to the list so filtered."""
    employers = list(employer_search(actor=actor))
    current = pick_employer(request.GET.get("employer"), employers)
    spec = hr_registrations_spec()
    qs = registration_table_of_employer(actor=actor, employer=current)
    found = lists.response_or_page(spec, request, qs)
    if not isinstance(found, lists.ListPage):
        return found
    counts = registration_deadline_counts(qs)
    base = {"employer": current.pk}
    tiles = [
        (
            key,
            key.replace("_", "-"),
            label,
            counts[key],
            f"?{urlencode({**base, **params})}",
            current,
        )
        for key, label, params in (
            ("overdue", _("overdue"), {"deadline": "overdue"}),
            ("due_soon", _("due within 7 days"), {"deadline": "due_soon"}),
            ("on_time", _("on time"), {"deadline": "on_time"}),
            ("registered", _("registered"), {"status": "accepted"}),
        )
        for current in [all(found.state.filters.get(k) == v for k, v in params.items())]
    ]
    return render(
        request,
        "portal/hr_home.html",
        {"employers": employers, "employer": current, "list": found, "tiles": tiles},
    )


# --- the person page ----------------------------------------------------------------------------


def _documents_with_cards(
    actor: Actor, person: Person
) -> list[tuple[Document, Card | None, bool, bool]]:
    """Each document with the Card it is the document of, whether the reader may open that card,
    and whether it is a card document that no card on file stands behind (a number typed before
    hires recorded the card: never shown as "Valid")."""
    documents = list(documents_of(person))
    cards = cards_of_documents(
        actor=actor, document_ids={d.pk for d in documents if d.kind in CARD_DOCUMENT_KINDS}
    )
    rows: list[tuple[Document, Card | None, bool, bool]] = []
    for d in documents:
        match = cards.get(d.pk)
        unbacked = d.kind in CARD_DOCUMENT_KINDS and match is None
        rows.append((d, match[0] if match else None, match is not None and match[1], unbacked))
    return rows


def _person_page(request: HttpRequest, actor: Actor, person_id: int, *, own: bool) -> HttpResponse:
    try:
        person = person_get(actor=actor, person_id=person_id)
    except NotFound:
        raise Http404 from None
    registrations = [
        (reg, registration_deadline_status(reg))
        for reg in registrations_of_person(actor=actor, person=person, newest="submitted")
    ]
    return render(
        request,
        "portal/person.html",
        {
            "person": person,
            "own": own,
            # The link to the person's pension outlook, a page of agency staff (billing.views).
            "is_agency": actor.is_agency,
            "passports": [(p, passport_number_for(actor, p)) for p in passports_of(person)],
            "documents": _documents_with_cards(actor, person),
            "employments": employments_of_person(actor=actor, person=person),
            "registrations": registrations,
            "today": timezone.localdate(),
        },
    )


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    if not may_see_people(actor):
        raise PermissionDenied
    return _person_page(request, actor, pk, own=own_person_id(actor) == pk)


@login_required
def me(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    person_id = own_person_id(actor)
    if person_id is None:
        return redirect("home")
    return _person_page(request, actor, person_id, own=True)
