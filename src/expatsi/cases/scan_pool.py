"""A compliance scan shared by the worker pool: its partitions and its progress (read only; the
writes are services.py's, the tasks are tasks.py's).

A queued scan is split by rule and by employer id into contiguous ranges
(``EXPATSI_SCAN_PARTITIONS`` ranges, default 1): one partition per rule and range, each a task in
the database queue, claimed by any ``db_worker`` on any machine. The rules are independent (a
finding belongs to one rule), and every finding and every event belongs to one employer, so the
partitions split the work without overlap: the sum of their counts is what one inline scan of the
whole scope counts. The rules come first because each rule is cheapest as one query over the whole
population: a range repeats each rule's region-wide reads (measured at 50,000 employees, two
ranges on two workers took 0.77× the time of one scan), while the rules of one scan shared by two
workers took 0.6–0.75× of it at 1,000,000 (docs/scaling.md). Ranges are for more workers than
rules. A partition records each rule's counts in the rule's own transaction (services.py), so a
partition worked again continues where it stopped and counts nothing twice; one whose worker died
(no heartbeat for ``EXPATSI_SCAN_LEASE_SECONDS``) is worked by the next worker that finishes a
partition of the scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone

from expatsi.cases.checks import CHECKS
from expatsi.cases.models import Scan, ScanPartition

LAST = 2**62  # the last range is open: an employer registered while the scan runs falls in it

ScanStatus = Literal["done", "queued", "running", "interrupted"]


def partition_count() -> int:
    """``EXPATSI_SCAN_PARTITIONS``: 0 means scans are not queued (run inline); else at least 1."""
    return max(0, int(settings.EXPATSI_SCAN_PARTITIONS))


def queued() -> bool:
    """Whether scans of a region or more go to the worker pool (``EXPATSI_SCAN_PARTITIONS`` > 0)."""
    return partition_count() > 0


def lease_cutoff(now: datetime | None = None) -> datetime:
    """A partition started but with no heartbeat since this moment has lost its worker."""
    return (now or timezone.now()) - timedelta(seconds=int(settings.EXPATSI_SCAN_LEASE_SECONDS))


def plan(employers: list[int], count: int) -> list[tuple[int, int, int]]:
    """Split the sorted employer ids into at most ``count`` contiguous ranges of at least one
    employer each: (lowest id, highest id, employers). The ranges cover every id from 0 on, so
    an employer that appears while the scan runs is checked too. No employer: one range."""
    count = max(1, min(count, len(employers)))
    if not employers:
        return [(0, LAST, 0)]
    bounds = [len(employers) * i // count for i in range(count + 1)]
    ranges = []
    for i in range(count):
        lowest = 0 if i == 0 else employers[bounds[i]]
        highest = employers[bounds[i + 1]] - 1 if i < count - 1 else LAST
        ranges.append((lowest, highest, bounds[i + 1] - bounds[i]))
    return ranges


def heaviest_first(rules: list[str]) -> list[str]:
    """The rules in the order their partitions are queued: the costliest first (``Check.weight``),
    so that the last rules a worker picks up are short ones and the workers finish together."""
    return sorted(rules, key=lambda key: -CHECKS[key].weight)


def sum_counts(parts: Iterable[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """Rule by rule, the sum of the partitions' counts."""
    total: dict[str, dict[str, int]] = {}
    for counts in parts:
        for rule, figures in counts.items():
            into = total.setdefault(rule, {})
            for name, n in figures.items():
                into[name] = into.get(name, 0) + int(n)
    return total


def orphaned(scan_id: int) -> list[int]:
    """Partitions of the scan started by a worker that has since gone quiet past the lease."""
    return list(
        ScanPartition.objects.filter(
            scan_id=scan_id,
            finished_at__isnull=True,
            attempts__gt=0,
            heartbeat_at__lt=lease_cutoff(),
        )
        .order_by("number")
        .values_list("pk", flat=True)
    )


@dataclass
class ScanProgress:
    scan: Scan
    status: ScanStatus
    partitions_total: int = 0
    partitions_done: int = 0
    rules_total: int = 0
    rules_done: int = 0  # partition × rule steps recorded
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)  # so far

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.rules_total:
            return 0
        return min(99, self.rules_done * 100 // self.rules_total)


def scan_progress(record: Scan, rules: int) -> ScanProgress:
    """A scan's progress from its partitions (``rules``: how many rules a partition checks when
    the scan names none). An inline scan is done or, briefly, running."""
    if not record.partitions_total:
        status: ScanStatus = "done" if record.finished_at else "running"
        return ScanProgress(record, status, counts=record.counts)
    parts = list(record.partitions.all())
    per = len(record.rules) if record.rules else rules
    progress = ScanProgress(
        record,
        "done" if record.finished_at else "queued",
        partitions_total=record.partitions_total,
        partitions_done=sum(p.finished_at is not None for p in parts),
        rules_total=sum(len(p.rules) if p.rules else per for p in parts),
        rules_done=sum(len(p.counts) for p in parts),
        counts=record.counts if record.finished_at else sum_counts(p.counts for p in parts),
    )
    if record.finished_at:
        return progress
    started = [p for p in parts if p.attempts and p.finished_at is None]
    cutoff = lease_cutoff()
    if any(p.heartbeat_at and p.heartbeat_at >= cutoff for p in started):
        progress.status = "running"
    elif started:
        progress.status = "interrupted"
    elif progress.partitions_done:
        progress.status = "running"
    return progress
