"""Is a background worker running? What a queued job's page tells the staff member waiting on it.

django-tasks' database backend keeps no worker heartbeat of its own; a live ``db_worker`` polls
for ready tasks every second or so and claims them. So a task that has stood ready for longer than
:data:`GRACE` with nothing claimed in that time and no billing run beating its heartbeat means no
worker is running — the job will wait for ever, and the page says how to start one. Another task
backend (an in-process one runs the job at once) gives no such signal: nothing is said.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.tasks import task_backends
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from expatsi.billing.models import BillingRun, RunStatus, lease_cutoff

# A live db_worker claims a ready task within a few seconds (its poll interval is one second).
GRACE = timedelta(seconds=20)
# How to start one, as the page shows it (the operations guide has the service units).
WORKER_COMMAND = "python src/expatsi/manage.py db_worker"


def _database_backend(alias: str) -> bool:
    try:
        return isinstance(task_backends[alias], DatabaseBackend)
    except Exception:
        return False


def no_live_worker(*, backend: str = "default", now: datetime | None = None) -> bool:
    """True when the database backend's oldest ready task has waited past ``GRACE`` and no worker
    has shown a sign of life meanwhile (no task claimed, no billing run's heartbeat)."""
    if not _database_backend(backend):
        return False
    now = now or timezone.now()
    waiting = (
        DBTaskResult.objects.ready().order_by("enqueued_at").values_list("enqueued_at", flat=True)
    )
    oldest = waiting.first()
    if oldest is None or now - oldest < GRACE:
        return False
    if DBTaskResult.objects.filter(started_at__gte=now - GRACE).exists():
        return False  # a worker claimed a task lately: it will come to this one
    beating = BillingRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__gte=lease_cutoff())
    return not beating.exists()
