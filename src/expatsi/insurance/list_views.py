"""The registrations list (agency staff: every status, the decision queue by default) and the
agency's bulk acceptance, on the shared list toolkit (:mod:`expatsi.web.lists`).

Scope comes from the selectors (``insurance.selectors.registration_table``); the toolkit only
narrows, orders and pages. A bulk acceptance is the single acceptance repeated: every
registration goes through ``registration_accept`` — checked and audited one by one — and the
reader sees which were accepted and which refused, and why.
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
from expatsi.employers.display import display_name
from expatsi.employers.permissions import may_act_in_region
from expatsi.insurance import permissions, selectors
from expatsi.insurance.models import Registration, RegistrationStatus
from expatsi.insurance.services import registration_accept
from expatsi.insurance.templatetags.deadlines import deadline_text
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.regions import regions
from expatsi.web import lists
from expatsi.web.actors import request_actor
from expatsi.web.errors import rule_message
from expatsi.web.templatetags.web import country_name, region_name

BULK_LIMIT = 200  # rows one confirmation may accept: a page at its largest


def deadline_choices() -> list[tuple[str, Any]]:
    return [
        ("overdue", gettext_lazy("Overdue")),
        ("due_soon", gettext_lazy("Due within 7 days")),
        ("on_time", gettext_lazy("On time")),
        ("registered_on_time", gettext_lazy("Registered on time")),
        ("registered_late", gettext_lazy("Registered late")),
        ("rejected", gettext_lazy("Rejected")),
    ]


def _by_status(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(status=value)


def _by_deadline(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return selectors.registration_filter_deadline(qs, value)


def _by_region(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(employer__region_code=value)


def _search(qs: QuerySet[Any], query: str) -> QuerySet[Any]:
    return selectors.registration_search(qs, query)


def export_row(reg: Registration) -> list[spreadsheets.Cell]:
    """One registration as the export shows it: words, not codes, in the reader's language."""
    person = reg.person
    return [
        person.family_name,
        person.given_names,
        person.chinese_name,
        country_name(person.nationality),
        display_name(reg.employer),
        reg.employer.uscc,
        region_name(reg.employer.region_code),
        reg.permit_issued_on,
        reg.deadline,
        timezone.localtime(reg.submitted_at).date(),
        str(reg.get_status_display()),
        deadline_text(selectors.registration_deadline_status(reg)),
        reg.registered_on,
        person.ssn or "",
    ]


EXPORT_HEADER = (
    "family_name",
    "given_names",
    "chinese_name",
    "nationality",
    "employer",
    "uscc",
    "region",
    "permit_issued_on",
    "deadline",
    "submitted_on",
    "status",
    "deadline_status",
    "registered_on",
    "ssn",
)


def _region_choices(actor: Actor) -> list[tuple[str, str]]:
    return [
        (code, region_name(code)) for code in sorted(regions()) if may_act_in_region(actor, code)
    ]


def registrations_spec(actor: Actor) -> lists.ListSpec:
    """The agency's registrations: the decision queue (submitted, soonest deadline first) unless
    the reader asks for another status or every one."""
    return lists.ListSpec(
        columns=(
            lists.Column(
                "name", gettext_lazy("Name"), ("person__family_name", "person__given_names")
            ),
            lists.Column("employer", gettext_lazy("Employer"), ("employer__name",)),
            lists.Column("region", gettext_lazy("Region")),
            lists.Column("submitted", gettext_lazy("Submitted"), ("submitted_at",)),
            lists.Column("deadline", gettext_lazy("Registration deadline"), ("deadline",)),
            lists.Column("status", gettext_lazy("Status")),
            lists.Column("actions", ""),
        ),
        default_sort="deadline",
        filters=(
            lists.Filter(
                "status",
                gettext_lazy("Status"),
                RegistrationStatus.choices,
                _by_status,
                any_label=gettext_lazy("Any status"),
                default=RegistrationStatus.SUBMITTED,
            ),
            lists.Filter(
                "deadline",
                gettext_lazy("Deadline"),
                deadline_choices(),
                _by_deadline,
                any_label=gettext_lazy("Any deadline"),
            ),
            lists.Filter(
                "region",
                gettext_lazy("Region"),
                _region_choices(actor),
                _by_region,
                any_label=gettext_lazy("Every region"),
            ),
        ),
        search=_search,
        search_label=gettext_lazy(
            "Name, passport number, social security number, employer or its USCC"
        ),
        export_name="registrations",
        export_header=EXPORT_HEADER,
        export_row=export_row,
    )


def _require_decisions(actor: Actor) -> None:
    if not permissions.may_decide_registrations(actor):
        raise PermissionDenied


@login_required
def registrations(request: HttpRequest) -> HttpResponseBase:
    """Agency: registrations of every status, searched, filtered, sorted, paged, exported; the
    decision queue (submitted, most urgent first) is what opens."""
    actor = request_actor(request)
    _require_decisions(actor)
    spec = registrations_spec(actor)
    found = lists.response_or_page(spec, request, selectors.registration_table(actor=actor))
    if not isinstance(found, lists.ListPage):
        return found
    return render(
        request,
        "portal/registrations.html",
        {"list": found, "bulk_limit": BULK_LIMIT},
    )


# --- bulk acceptance ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    registration_id: int
    name: str
    employer: str
    accepted: bool
    detail: str  # the SSN when accepted, the reason when refused


def accept_many(actor: Actor, ids: list[int]) -> list[Outcome]:
    """Accept each registration through the single acceptance (each checked and audited on its
    own, each in its own transaction): one refusal does not undo the others."""
    names = {
        reg.pk: (reg.person.full_name, display_name(reg.employer))
        for reg in selectors.registrations_by_ids(actor=actor, ids=ids)
    }
    outcomes: list[Outcome] = []
    for pk in ids:
        name, employer = names.get(pk, (f"#{pk}", ""))
        try:
            reg = registration_accept(actor=actor, registration_id=pk)
        except NotFound:
            outcomes.append(
                Outcome(pk, name, employer, False, _("Not found, or not yours to decide."))
            )
        except RuleError as exc:
            outcomes.append(Outcome(pk, name, employer, False, rule_message(exc.code, exc.message)))
        else:
            outcomes.append(Outcome(pk, name, employer, True, reg.person.ssn or ""))
    return outcomes


@login_required
@require_POST
def registrations_bulk(request: HttpRequest) -> HttpResponse:
    """Two steps: the selection is shown for confirmation; on confirmation each registration is
    accepted one by one and the outcome of every one is shown."""
    actor = request_actor(request)
    _require_decisions(actor)
    ids = lists.ids_from(request, limit=BULK_LIMIT)
    back = request.POST.get("back", "")
    if not back.startswith("?"):
        back = ""
    if not ids:
        return render(
            request,
            "portal/registrations_bulk.html",
            {"step": "empty", "back": back},
            status=400,
        )
    if request.POST.get("step") != "confirm":
        chosen = list(selectors.registrations_by_ids(actor=actor, ids=ids))
        if not chosen:
            return redirect("registrations")
        return render(
            request,
            "portal/registrations_bulk.html",
            {"step": "confirm", "chosen": chosen, "back": back},
        )
    outcomes = accept_many(actor, ids)
    return render(
        request,
        "portal/registrations_bulk.html",
        {
            "step": "done",
            "done": [o for o in outcomes if o.accepted],
            "refused": [o for o in outcomes if not o.accepted],
            "back": back,
        },
    )


# --- the HR home list -----------------------------------------------------------------------------


def hr_registrations_spec() -> lists.ListSpec:
    """An employer's foreign employees and their registration deadlines, for its HR: the open
    registrations first, overdue at the top."""
    return lists.ListSpec(
        columns=(
            lists.Column(
                "name", gettext_lazy("Name"), ("person__family_name", "person__given_names")
            ),
            lists.Column("nationality", gettext_lazy("Nationality")),
            lists.Column("permit", gettext_lazy("Work permit issued"), ("permit_issued_on",)),
            lists.Column(
                "deadline", gettext_lazy("Registration deadline"), ("open_first", "deadline")
            ),
            lists.Column("status", gettext_lazy("Status")),
            lists.Column("ssn", gettext_lazy("Social security number")),
        ),
        default_sort="deadline",
        filters=(
            lists.Filter(
                "deadline",
                gettext_lazy("Deadline"),
                deadline_choices(),
                _by_deadline,
                any_label=gettext_lazy("Any deadline"),
            ),
            lists.Filter(
                "status",
                gettext_lazy("Status"),
                RegistrationStatus.choices,
                _by_status,
                any_label=gettext_lazy("Any status"),
            ),
        ),
        search=_search,
        search_label=gettext_lazy("Name, passport number or social security number"),
        export_name="employees",
        export_header=EXPORT_HEADER,
        export_row=export_row,
        keep=("employer",),
    )
