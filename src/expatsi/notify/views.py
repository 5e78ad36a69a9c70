"""The in-app inbox: a user's own notifications, unread first; marking them read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from expatsi.notify.models import Notification

PAGE_SIZE = 25


def _user_id(request: HttpRequest) -> int:
    pk = request.user.pk
    if pk is None:  # pragma: no cover - login_required runs first
        raise PermissionDenied
    return int(pk)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    notes = Notification.objects.filter(user_id=_user_id(request)).order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-id"
    )
    page = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    unread = Notification.objects.filter(user_id=_user_id(request), read_at__isnull=True).count()
    return render(request, "notify/inbox.html", {"page": page, "unread": unread})


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's own notifications read; another user's is simply not found."""
    note = get_object_or_404(Notification, pk=pk, user_id=_user_id(request))
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
    if request.headers.get("HX-Request"):
        return render(request, "notify/_notification.html", {"note": note})
    return redirect("notify:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    Notification.objects.filter(user_id=_user_id(request), read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("notify:inbox")
