"""The audit viewer: agency staff filter the trail and see whether the hash chain is intact."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from expatsi.audit.permissions import may_read_audit_trail
from expatsi.audit.selectors import AuditFilter, audit_actions, audit_events
from expatsi.audit.services import audit_check, audit_last_full_verification
from expatsi.portal.selectors import audit_scope
from expatsi.rules.errors import Forbidden
from expatsi.web.actors import request_actor

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    person = forms.IntegerField(label=_("Person id"), required=False, min_value=1)
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


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    if not may_read_audit_trail(actor):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    filters = AuditFilter()
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        filters = AuditFilter(
            person_id=d["person"],
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
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    verification = audit_check(full=False)  # since the last checkpoint; nightly: full
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "page": page,
            "intact": verification.intact,
            "full_verified_at": audit_last_full_verification(),
            "broken_at": verification.first_bad_event,
            "problem": verification.problem,
            "sealed_at": verification.sealed_at,
            "actions": audit_actions(),
            "query": query.urlencode(),
        },
    )
