"""The benefit lists at volume: deaths, inheritance claims, pension applications, certificates to
review, pensions being paid and payouts waiting for a run — each on its own page of the list
toolkit (search, filters, sortable columns, cursor paging, CSV/XLSX of what is shown).

Why a page per list, not several lists on the pages that show them: the toolkit's state is the
page's query string (``q``, ``sort``, ``cursor``…), one list per address, so a link to "page 7
of the certificates" is a plain bookmark. The pages that held a fixed slice of each list
(deaths, pensions, payments) now show its first rows with the count and a link here.

Rows are read through the same selectors as before, with the actor, so the scope is unchanged;
the toolkit only narrows, orders and slices. An export is a bulk read of personal data: agency
staff's leave an audit event, as their reads of one record do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from expatsi import spreadsheets
from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.benefits import pensions, permissions, proof_of_life, selectors, selectors_death
from expatsi.benefits.models import (
    DECIDABLE_PENSION,
    LIVE_PENSION,
    SENT_KINDS,
    ClaimStatus,
    DeathReport,
    InheritanceClaim,
    Payout,
    Pension,
    PensionStatus,
    ProofOfLife,
    ProofRoute,
    Reporter,
)
from expatsi.rules.regions import regions
from expatsi.web import lists
from expatsi.web.actors import request_actor

PREVIEW = 20  # rows of each list on the page that links to it
CAP = lists.COUNT_CAP  # a preview's count past this reads "more than"
SEARCH_LABEL = _("Name, social security number or document number")


# --- shared pieces --------------------------------------------------------------------------------


def _region_names(actor: Actor) -> list[tuple[str, str]]:
    """The regions the reader covers, named in the reader's language (the filter's choices)."""
    known = regions()
    codes = sorted(known) if actor.regions is None else sorted(actor.regions)
    chinese = (get_language() or "").startswith("zh")
    out = []
    for code in codes:
        found = known.get(code)
        out.append((code, (found.name_zh if chinese else found.name) if found else code))
    return out


def _region_filter(path: str = "region_code") -> lists.Filter:
    def apply(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        return qs.filter(**{path: value})

    return lists.Filter("region", _("Region"), (), apply, any_label=_("Any region"))


def _status_filter(
    choices: list[tuple[str, Promise]], label: Promise | None = None
) -> lists.Filter:
    def apply(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        return qs.filter(status=value)

    return lists.Filter("status", label or _("Status"), choices, apply, any_label=_("Any status"))


def _person_column() -> lists.Column:
    return lists.Column("person", _("Person"), ("person__family_name", "person__given_names"))


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen) / 100


def _day(value: dt.datetime | dt.date | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date()
    return value


@dataclass(frozen=True, slots=True)
class BenefitList:
    """One list: its spec, the selector's scoped rows, the page's words and its row template.
    ``staff_only``: agency staff only (HR see deaths, nothing else here)."""

    name: str
    spec: lists.ListSpec
    rows: Callable[[Actor], QuerySet[Any]]
    title: Promise
    empty: Promise
    none_match: Promise
    row_template: str
    table_id: str
    back: str  # the page that shows the list's first rows
    back_label: Promise
    staff_only: bool = True

    def regional(self, actor: Actor) -> lists.ListSpec:
        """The spec with the reader's regions as the region filter's choices."""
        filters = tuple(
            replace(f, choices=_region_names(actor)) if f.name == "region" else f
            for f in self.spec.filters
        )
        return replace(self.spec, filters=filters)


def preview(found: BenefitList, actor: Actor) -> tuple[list[Any], int]:
    """The first rows of a list in its default order and its count (bounded like the list's own:
    more than :data:`lists.COUNT_CAP` reads as "more than 1,000"): two queries."""
    qs = found.rows(actor)
    state = lists.ListState(sort=found.spec.default_sort)
    ordered = lists.apply(found.spec, state, qs)
    return list(ordered[:PREVIEW]), qs.order_by()[: lists.COUNT_CAP + 1].count()


def _page(request: HttpRequest, found: BenefitList) -> HttpResponseBase:
    actor = request_actor(request)
    allowed = (
        permissions.may_examine_deaths(actor)
        if found.staff_only
        else permissions.may_use_deaths(actor)
    )
    if not allowed:
        raise PermissionDenied
    spec = found.regional(actor) if permissions.is_staff(actor) else _without_region(found.spec)
    fmt = lists.export_format(request)
    if fmt and permissions.reads_are_audited(actor):
        state = lists.ListState.from_request(spec, request)
        audit_record(
            actor=actor,
            action="benefits.list_export",
            object_type="benefit_list",
            object_id=found.name,
            detail={"download_format": fmt.upper(), "search": state.query},
        )
    result = lists.response_or_page(spec, request, found.rows(actor))
    if not isinstance(result, lists.ListPage):
        return result
    return render(
        request,
        "benefits/list_page.html",
        {
            "list": result,
            "rows": result.rows,
            "found": found,
            "staff": permissions.is_staff(actor),
            "cap": CAP,
        },
    )


def _without_region(spec: lists.ListSpec) -> lists.ListSpec:
    return replace(spec, filters=tuple(f for f in spec.filters if f.name != "region"))


# --- deaths and inheritance claims ----------------------------------------------------------------


def _by_reporter(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(reporter=value)


def _death_row(d: DeathReport) -> list[spreadsheets.Cell]:
    return [
        d.pk,
        d.person.family_name,
        d.person.given_names,
        d.died_on,
        d.region_code,
        str(d.get_reporter_display()),
        d.reporter_name,
        _day(d.recorded_at),
    ]


DEATHS = BenefitList(
    name="deaths",
    spec=lists.ListSpec(
        columns=(
            _person_column(),
            lists.Column("died", _("Date of death"), ("died_on",)),
            lists.Column("reporter", _("Reported by")),
            lists.Column("region", _("Region"), ("region_code",)),
            lists.Column("recorded", _("Recorded"), ("recorded_at",)),
        ),
        default_sort="-recorded",  # the newest first, as the page showed them
        filters=(
            lists.Filter(
                "reporter",
                _("Reported by"),
                list(Reporter.choices),
                _by_reporter,
                any_label=_("Anyone"),
            ),
            _region_filter(),
        ),
        search=selectors.by_person,
        search_label=SEARCH_LABEL,
        export_name="deaths",
        export_header=(
            "id",
            "family_name",
            "given_names",
            "died_on",
            "region",
            "reported_by",
            "reporter_name",
            "recorded_on",
        ),
        export_row=_death_row,
    ),
    rows=selectors_death.deaths_list,
    title=_("Deaths on record"),
    empty=_("No death is on record."),
    none_match=_("No death matches."),
    row_template="benefits/rows/death.html",
    table_id="deaths",
    back="benefits:deaths",
    back_label=_("Deaths and inheritance"),
    staff_only=False,
)


def _claim_row(c: InheritanceClaim) -> list[spreadsheets.Cell]:
    return [
        c.pk,
        c.person.family_name,
        c.person.given_names,
        c.death.died_on,
        c.region_code,
        _day(c.filed_at),
        _yuan(c.balance),
        str(c.get_status_display()),
    ]


CLAIMS = BenefitList(
    name="inheritance-claims",
    spec=lists.ListSpec(
        columns=(
            _person_column(),
            lists.Column("died", _("Date of death"), ("death__died_on",)),
            lists.Column("region", _("Region"), ("region_code",)),
            lists.Column("filed", _("Filed"), ("filed_at",)),
            lists.Column("status", _("Status")),
        ),
        default_sort="filed",  # the longest waiting first
        filters=(
            _status_filter(
                [
                    (ClaimStatus.SUBMITTED.value, ClaimStatus.SUBMITTED.label),
                    (ClaimStatus.SECOND_APPROVAL.value, ClaimStatus.SECOND_APPROVAL.label),
                ]
            ),
            _region_filter(),
        ),
        search=selectors.by_person,
        search_label=SEARCH_LABEL,
        export_name="inheritance-claims",
        export_header=(
            "id",
            "family_name",
            "given_names",
            "died_on",
            "region",
            "filed_on",
            "balance_yuan",
            "status",
        ),
        export_row=_claim_row,
    ),
    rows=selectors_death.claims_queue,
    title=_("Inheritance claims awaiting a decision"),
    empty=_("No claim is waiting."),
    none_match=_("No claim matches."),
    row_template="benefits/rows/claim.html",
    table_id="claims",
    back="benefits:deaths",
    back_label=_("Deaths and inheritance"),
)


@login_required
def deaths_all(request: HttpRequest) -> HttpResponseBase:
    return _page(request, DEATHS)


@login_required
def claims_all(request: HttpRequest) -> HttpResponseBase:
    return _page(request, CLAIMS)


# --- pensions and proofs of life ------------------------------------------------------------------


def pensions_waiting(actor: Actor) -> QuerySet[Pension]:
    return pensions.pensions_visible(actor).filter(status__in=DECIDABLE_PENSION)


def pensions_running(actor: Actor) -> QuerySet[Pension]:
    return (
        pensions.pensions_visible(actor)
        .filter(status__in=LIVE_PENSION)
        .exclude(status__in=DECIDABLE_PENSION)
    )


def _pension_row(p: Pension) -> list[spreadsheets.Cell]:
    return [
        p.pk,
        p.person.family_name,
        p.person.given_names,
        p.region_code,
        _yuan(p.total),
        p.applied_on,
        p.proof_due,
        str(p.get_status_display()),
    ]


PENSION_HEADER = (
    "id",
    "family_name",
    "given_names",
    "region",
    "monthly_pension_yuan",
    "applied_on",
    "proof_due",
    "status",
)

WAITING = BenefitList(
    name="pension-applications",
    spec=lists.ListSpec(
        columns=(
            _person_column(),
            lists.Column("region", _("Region"), ("region_code",)),
            lists.Column("total", _("Monthly pension"), ("total",)),
            lists.Column("applied", _("Applied"), ("applied_on",)),
            lists.Column("status", _("Status")),
        ),
        default_sort="applied",  # the longest waiting first
        filters=(
            _status_filter(
                [
                    (PensionStatus.SUBMITTED.value, PensionStatus.SUBMITTED.label),
                    (PensionStatus.SECOND_APPROVAL.value, PensionStatus.SECOND_APPROVAL.label),
                ]
            ),
            _region_filter(),
        ),
        search=selectors.by_person,
        search_label=SEARCH_LABEL,
        export_name="pension-applications",
        export_header=PENSION_HEADER,
        export_row=_pension_row,
    ),
    rows=pensions_waiting,
    title=_("Pension applications awaiting a decision"),
    empty=_("No application is waiting."),
    none_match=_("No application matches."),
    row_template="benefits/rows/waiting.html",
    table_id="waiting",
    back="benefits:pensions",
    back_label=_("Pensions and proofs of life"),
)


def _due_within(days: int) -> Callable[[QuerySet[Any]], QuerySet[Any]]:
    def apply(qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.filter(proof_due__lte=timezone.localdate() + dt.timedelta(days=days))

    return apply


DUE_FILTERS: dict[str, Callable[[QuerySet[Any]], QuerySet[Any]]] = {
    "overdue": lambda qs: qs.filter(proof_due__lt=timezone.localdate()),
    "30": _due_within(30),
    "90": _due_within(90),
}


def _by_due(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return DUE_FILTERS[value](qs)


RUNNING = BenefitList(
    name="pensions-paid",
    spec=lists.ListSpec(
        columns=(
            _person_column(),
            lists.Column("region", _("Region"), ("region_code",)),
            lists.Column("status", _("Status")),
            lists.Column("total", _("Monthly pension"), ("total",)),
            lists.Column("due", _("Next proof of life due by"), ("proof_due",)),
        ),
        default_sort="due",  # the proof due soonest first
        filters=(
            _status_filter(
                [
                    (PensionStatus.AWARDED.value, PensionStatus.AWARDED.label),
                    (PensionStatus.SUSPENDED.value, PensionStatus.SUSPENDED.label),
                ]
            ),
            lists.Filter(
                "due",
                _("Proof of life due"),
                [
                    ("overdue", _("Overdue")),
                    ("30", _("Within 30 days")),
                    ("90", _("Within 90 days")),
                ],
                _by_due,
                any_label=_("Any date"),
            ),
            _region_filter(),
        ),
        search=selectors.by_person,
        search_label=SEARCH_LABEL,
        export_name="pensions-paid",
        export_header=PENSION_HEADER,
        export_row=_pension_row,
    ),
    rows=pensions_running,
    title=_("Pensions being paid"),
    empty=_("No pension is being paid."),
    none_match=_("No pension matches."),
    row_template="benefits/rows/running.html",
    table_id="running",
    back="benefits:pensions",
    back_label=_("Pensions and proofs of life"),
)


def certificates_waiting(actor: Actor) -> QuerySet[ProofOfLife]:
    """The certificates to review, without their scans (a list never shows them)."""
    return proof_of_life.proofs_to_review(actor).defer("document")


def _by_route(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(route=value)


def _proof_row(p: ProofOfLife) -> list[spreadsheets.Cell]:
    return [
        p.pk,
        p.pension_id,
        p.person.family_name,
        p.person.given_names,
        p.pension.region_code,
        str(p.get_route_display()),
        p.verified_on,
        _day(p.submitted_at),
    ]


PROOFS = BenefitList(
    name="certificates",
    spec=lists.ListSpec(
        columns=(
            _person_column(),
            lists.Column("route", _("Route")),
            lists.Column("verified", _("Date of the certificate"), ("verified_on",)),
            lists.Column("region", _("Region"), ("pension__region_code",)),
            lists.Column("submitted", _("Sent"), ("submitted_at",)),
        ),
        default_sort="submitted",  # the longest waiting first
        filters=(
            lists.Filter(
                "route", _("Route"), list(ProofRoute.choices), _by_route, any_label=_("Any route")
            ),
            _region_filter("pension__region_code"),
        ),
        search=selectors.by_person,
        search_label=SEARCH_LABEL,
        export_name="certificates",
        export_header=(
            "id",
            "pension_id",
            "family_name",
            "given_names",
            "region",
            "route",
            "certificate_date",
            "sent_on",
        ),
        export_row=_proof_row,
    ),
    rows=certificates_waiting,
    title=_("Certificates awaiting review"),
    empty=_("No certificate is waiting."),
    none_match=_("No certificate matches."),
    row_template="benefits/rows/proof.html",
    table_id="proof-queue",
    back="benefits:pensions",
    back_label=_("Pensions and proofs of life"),
)


@login_required
def pensions_waiting_all(request: HttpRequest) -> HttpResponseBase:
    return _page(request, WAITING)


@login_required
def pensions_running_all(request: HttpRequest) -> HttpResponseBase:
    return _page(request, RUNNING)


@login_required
def proofs_all(request: HttpRequest) -> HttpResponseBase:
    return _page(request, PROOFS)


# --- payouts waiting for a payment run ------------------------------------------------------------


def _by_kind(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(kind=value)


def _payout_row(p: Payout) -> list[spreadsheets.Cell]:
    return [
        p.pk,
        p.end_to_end_id,
        p.person.family_name,
        p.person.given_names,
        str(p.get_kind_display()),
        p.month,
        p.region_code,
        _yuan(p.amount),
        p.currency,
        p.bank_account.masked_number,
        p.bank_account.bic,
        _day(p.created_at),
    ]


PENDING = BenefitList(
    name="payouts-pending",
    spec=lists.ListSpec(
        columns=(
            lists.Column("e2e", _("End-to-end id")),
            _person_column(),
            lists.Column("kind", _("Kind")),
            lists.Column("region", _("Region"), ("region_code",)),
            lists.Column("amount", _("Amount"), ("amount",)),
            lists.Column("account", _("Account")),
            lists.Column("created", _("Approved"), ("created_at",)),
        ),
        default_sort="created",  # the oldest first, as the run takes them
        filters=(
            lists.Filter(
                "kind",
                _("Kind"),
                [(k.value, k.label) for k in SENT_KINDS],
                _by_kind,
                any_label=_("Any kind"),
            ),
            _region_filter(),
        ),
        search=selectors.by_person,
        search_label=SEARCH_LABEL,
        export_name="payouts-pending",
        export_header=(
            "id",
            "end_to_end_id",
            "family_name",
            "given_names",
            "kind",
            "month",
            "region",
            "amount_yuan",
            "currency",
            "account",
            "bic",
            "approved_on",
        ),
        export_row=_payout_row,
    ),
    rows=selectors.payouts_pending,
    title=_("Approved payouts waiting for a run"),
    empty=_("No approved payout is waiting for a payment run."),
    none_match=_("No payout matches."),
    row_template="benefits/rows/payout.html",
    table_id="pending",
    back="benefits:payments",
    back_label=_("Payouts and payment runs"),
)


@login_required
def payouts_pending_all(request: HttpRequest) -> HttpResponseBase:
    return _page(request, PENDING)


__all__ = [
    "CAP",
    "CLAIMS",
    "DEATHS",
    "PENDING",
    "PROOFS",
    "RUNNING",
    "WAITING",
    "preview",
]
