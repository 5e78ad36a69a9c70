"""Portal pages: layout, home, health."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from expatsi.rules.regions import regions


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/home.html", {"regions": sorted(regions().values(), key=lambda r: r.code)}
    )


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for a load balancer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok", "database": connection.vendor})
