"""The audit viewer: agency staff filter the trail and see whether the hash chain is intact."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from expatsi import spreadsheets
from expatsi.audit.models import AuditEvent
from expatsi.audit.permissions import may_read_audit_trail
from expatsi.audit.selectors import AuditFilter, audit_actions, audit_events
from expatsi.audit.services import audit_check, audit_last_full_verification
from expatsi.portal.labels import actor_kind, actor_name, audit_action, audit_object, detail_items
from expatsi.portal.selectors import audit_people, audit_person_ids, audit_scope
from expatsi.rules.errors import Forbidden
from expatsi.web import lists
from expatsi.web.actors import request_actor


class AuditFilterForm(forms.Form):
    person = forms.CharField(
        label=_("Person"),
        help_text=_("Name, passport number or social security number"),
        required=False,
        max_length=100,
    )
    actor = forms.CharField(label=_("Actor (user id or name)"), required=False, max_length=200)
    action = forms.CharField(label=_("Action"), required=False, max_length=60)
    date_from = forms.DateField(
        label=_("Date from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Date to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, object] | None:
        data = super().clean()
        if (
            data
            and data.get("date_from")
            and data.get("date_to")
            and data["date_to"] < data["date_from"]
        ):
            self.add_error("date_to", _("The end date is before the start date."))
        return data


def _detail_words(detail: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in detail_items(detail))


def _export_row(event: AuditEvent) -> list[spreadsheets.Cell]:
    return [
        event.pk,
        timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
        actor_name(event.actor_label),
        actor_kind(event.actor_kind),
        audit_action(event.action),
        f"{audit_object(event.object_type)} {event.object_id}",
        event.person_id,
        event.ip,
        _detail_words(event.detail),
    ]


SPEC = lists.ListSpec(
    columns=(
        lists.Column("id", "#", ("id",)),
        lists.Column("at", _("Time")),
        lists.Column("actor", _("Actor")),
        lists.Column("action", _("Action")),
        lists.Column("object", _("Object")),
        lists.Column("person", _("Person")),
        lists.Column("ip", _("IP address")),
        lists.Column("detail", _("Details")),
    ),
    default_sort="-id",
    export_name="audit-trail",
    export_header=(
        "id",
        "time",
        "actor",
        "actor_kind",
        "action",
        "object",
        "person_id",
        "ip",
        "detail",
    ),
    export_row=_export_row,
    keep=("person", "actor", "action", "date_from", "date_to"),
)


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponseBase:
    actor = request_actor(request)
    if not may_read_audit_trail(actor):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    filters = AuditFilter()
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        person = d["person"].strip()
        filters = AuditFilter(
            person_ids=audit_person_ids(actor, person) if person else None,
            actor=d["actor"],
            action=d["action"],
            date_from=d["date_from"],
            date_to=d["date_to"],
        )
    try:
        events = audit_events(actor=actor, filters=filters, scope=audit_scope(actor))
    except Forbidden as exc:  # pragma: no cover - checked above, kept for defence in depth
        raise PermissionDenied from exc
    if form.is_bound and not form.is_valid():
        events = events.none()
    found = lists.response_or_page(SPEC, request, events)
    if not isinstance(found, lists.ListPage):
        return found
    verification = audit_check(full=False)  # since the last checkpoint; nightly: full
    people = audit_people(actor, (e.person_id for e in found.rows))
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "list": found,
            "rows": [(e, people.get(e.person_id or 0)) for e in found.rows],
            "intact": verification.intact,
            "full_verified_at": audit_last_full_verification(),
            "broken_at": verification.first_bad_event,
            "problem": verification.problem,
            "sealed_at": verification.sealed_at,
            "actions": audit_actions(),
        },
    )
