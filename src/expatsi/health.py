"""Liveness and readiness probes for the process manager, the load balancer and monitoring.

``/healthz`` answers as long as the process serves requests, without touching the database: a
database outage must not make an orchestrator restart every healthy app server. ``/readyz`` says
whether this server can do its work — the database answers and its schema is the one this code
expects (``migrate`` ran) — so that a load balancer sends traffic only to servers that can serve it,
and a deployment waits for migrations. Both are public (no sign-in, no session needed) and say
nothing about the installation: a fixed reason code, never an error message, host or version; the
details go to the log.
"""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, Error, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)

# Once this process has seen every migration applied, the schema cannot fall behind its code: a
# migration is added only with new code, which means a restart. Checked again only until then.
_schema_current = False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Error:
        log.warning("readiness: the database is unreachable", exc_info=True)
        return _unavailable("database_unreachable")
    try:
        current = _schema_is_current()
    except Error:
        log.warning("readiness: the migration state could not be read", exc_info=True)
        return _unavailable("database_unreachable")
    if not current:
        log.warning("readiness: migrations are pending (run `manage.py migrate`)")
        return _unavailable("migrations_pending")
    return JsonResponse({"status": "ok"})


def _schema_is_current() -> bool:
    """No migration of this code is missing from the database (what ``migrate`` would run)."""
    global _schema_current
    if not _schema_current:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        _schema_current = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _schema_current


def _unavailable(reason: str) -> JsonResponse:
    return JsonResponse({"status": "unavailable", "reason": reason}, status=503)
