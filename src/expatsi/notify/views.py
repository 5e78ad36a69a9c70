"""The in-app inbox: a user's own notifications, unread first; marking them read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from expatsi.notify import selectors, services
from expatsi.rules.errors import NotFound
from expatsi.web.actors import request_actor

PAGE_SIZE = 25


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    page = Paginator(selectors.inbox(actor=actor), PAGE_SIZE).get_page(request.GET.get("page"))
    unread = selectors.unread_count(actor=actor)
    return render(request, "notify/inbox.html", {"page": page, "unread": unread})


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's own notifications read; another user's is simply not found."""
    try:
        note = services.notification_mark_read(actor=request_actor(request), notification_id=pk)
    except NotFound:
        raise Http404 from None
    if request.headers.get("HX-Request"):
        return render(request, "notify/_notification.html", {"note": note})
    return redirect("notify:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(actor=request_actor(request))
    return redirect("notify:inbox")
