"""The compliance scan as background work (django.tasks; the database backend's ``db_worker``
runs it): a queued scan's partitions are tasks of their own, which any number of workers, on one
machine or many, claim. scan_pool.py says how the work is split and counted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.tasks import task

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.cases import permissions, scan_pool, selectors, services
from expatsi.cases.models import Scan
from expatsi.cases.permissions import Act
from expatsi.cases.registry import registry
from expatsi.rules.errors import Conflict


@task()
def scan_partition(*, partition: int) -> dict[str, Any]:
    """Check one partition of a queued scan (and any partition of it whose worker was lost).
    Worked again, it goes on from its last recorded rule."""
    part = services.scan_partition_work(partition_id=partition)
    return {"scan": part.scan_id, "partition": partition, "rules": len(part.counts)}


def compliance_scan_start(
    *,
    actor: Actor,
    as_of: date | None = None,
    region_code: str = "",
    rules: Sequence[str] | None = None,
) -> Scan:
    """Queue a scan of everything the actor covers (or one region) for the worker pool: one task
    per partition. With an in-process task backend the partitions run here, one after another."""
    record = services.compliance_scan_queue(
        actor=actor, as_of=as_of, region_code=region_code, rules=rules
    )
    for pk in record.partitions.order_by("number").values_list("pk", flat=True):
        scan_partition.enqueue(partition=pk)
    record.refresh_from_db()
    return record


def compliance_scan_auto(
    *,
    actor: Actor,
    as_of: date | None = None,
    region_code: str = "",
    employer_id: int | None = None,
) -> Scan:
    """A scan as the portal and the API ask for one: one employer is checked at once (small); a
    region or more goes to the worker pool, unless ``EXPATSI_SCAN_PARTITIONS`` is 0."""
    if employer_id is not None or not scan_pool.queued():
        return services.compliance_scan(
            actor=actor, as_of=as_of, region_code=region_code, employer_id=employer_id
        )
    return compliance_scan_start(actor=actor, as_of=as_of, region_code=region_code)


def compliance_scan_resume(*, actor: Actor, scan_id: int) -> Scan:
    """Queue again the partitions of an interrupted scan whose worker was lost (staff who may
    scan its region): they go on from their last recorded rule, so the scan ends as if never
    interrupted. Anything but an interrupted scan is refused."""
    record = selectors.scan_get(actor=actor, scan_id=scan_id)
    permissions.require(actor, Act.SCAN, region_code=record.region_code)
    status = scan_pool.scan_progress(record, len(registry().rules)).status
    if status != "interrupted":
        raise Conflict(
            "scan_not_interrupted", f"the scan is {status}: only an interrupted scan is resumed", ""
        )
    lost = scan_pool.orphaned(record.pk)
    audit_record(
        actor=actor,
        action="compliance.scan_resume",
        object_type="scan",
        object_id=record.pk,
        detail={"partitions": lost},
    )
    for pk in lost:
        scan_partition.enqueue(partition=pk)
    record.refresh_from_db()
    return record
