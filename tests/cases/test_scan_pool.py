"""A compliance scan split into partitions by rule and employer id (cases/scan_pool.py) writes exactly the
findings, events and counts of one inline scan of the same scope; a partition worked twice writes
nothing new and the scan's totals count it once; the daily job, the portal and the API queue a
scan of a region or more and show its progress."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from expatsi.access.actors import SYSTEM
from expatsi.access.models import AgencyStaff
from expatsi.audit.models import AuditEvent
from expatsi.cases import scan_pool, services
from expatsi.cases.checks import CHECKS, Scope
from expatsi.cases.models import CaseEvent, Finding, FindingStatus, Scan, ScanPartition
from expatsi.cases.services import compliance_scan, compliance_scan_queue
from expatsi.cases.tasks import compliance_scan_start, scan_partition
from expatsi.cli import main
from expatsi.employers.models import Employer
from tests.cases.conftest import bill, employ, pay, permit, person, register
from tests.cases.test_web import client_for

pytestmark = pytest.mark.django_db

DAY = date(2025, 11, 20)
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
RULES = len(services.registry().rules)  # a queued scan has a partition per rule and range


def world(n: int = 6) -> list[Employer]:
    """``n`` employers in Shanghai and Beijing, each with a person never registered, one
    registered but billed for September only (October not billed), and September unpaid."""
    made = []
    for i in range(n):
        code = "310000" if i % 2 else "110000"
        e = Employer.objects.create(
            name=f"Pool {i} Co., Ltd.", uscc=f"9131000{i:02d}MA1FL8X3P0"[:18], region_code=code
        )
        late = person(f"Late{i}")
        permit(late, date(2025, 8, 20), date(2028, 8, 19))
        employ(late, e, date(2025, 9, 1))
        p = person(f"Billed{i}")
        register(employ(p, e, date(2025, 9, 1)))
        bill(
            e,
            "2025-09",
            date(2025, 10, 15),
            [{"person": p, "insurance": 1, "employer_amount": 100}],
        )
        made.append(e)
    return made


def state() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    findings = sorted(
        Finding.objects.values_list(
            "key", "status", "evidence_hash", "amount_fen", "found_on", "seen_on", "resolved_on"
        )
    )
    events = sorted(
        CaseEvent.objects.values_list("finding__key", "action", "from_status", "to_status")
    )
    return findings, events


def work_all(record: Scan) -> None:
    for pk in record.partitions.values_list("pk", flat=True):
        services.scan_partition_work(partition_id=pk)
    record.refresh_from_db()


def test_plan_covers_every_employer_id_once() -> None:
    employers = [3, 5, 8, 13, 21, 34, 55]
    plan = scan_pool.plan(employers, 3)
    assert plan == [(0, 7, 2), (8, 20, 2), (21, scan_pool.LAST, 3)]
    assert scan_pool.plan(employers, 1) == [(0, scan_pool.LAST, 7)]
    assert len(scan_pool.plan(employers, 50)) == 7  # at most one range per employer
    assert scan_pool.plan([], 8) == [(0, scan_pool.LAST, 0)]
    for employer in range(100):
        assert sum(lo <= employer <= hi for lo, hi, _ in plan) == 1


def test_scope_employer_range_in_sql() -> None:
    sql, params = Scope(as_of=DAY, regions=("310000",), employer_from=5, employer_to=9).sql()
    assert sql == " AND emp.region_code IN (%s) AND emp.id BETWEEN %s AND %s"
    assert params == ["310000", 5, 9]
    assert Scope(as_of=DAY).sql() == ("", [])
    assert Scope(as_of=DAY, employer_id=3).sql("e") == (" AND e.id = %s", [3])


def test_partitioned_scan_writes_what_the_inline_scan_writes() -> None:
    employers = world()
    compliance_scan(actor=SYSTEM, as_of=DAY)  # yesterday's scan: what the next one changes
    bills = {b.employer_id: b for b in employers[0].bills.all()}
    pay(bills[employers[0].pk], 100, DAY)  # resolves one finding of partition 0
    dismissed = Finding.objects.filter(employer=employers[-1], rule="not_registered").get()
    Finding.objects.filter(pk=dismissed.pk).update(status=FindingStatus.DISMISSED)
    late = person("Newcomer")
    permit(late, date(2025, 8, 20), date(2028, 8, 19))
    employ(late, employers[3], date(2025, 9, 1))  # new in partition 1 or 2
    day = DAY + timedelta(days=1)

    mark = transaction.savepoint()
    inline = compliance_scan(actor=SYSTEM, as_of=day)
    expected = state()
    transaction.savepoint_rollback(mark)

    record = compliance_scan_queue(actor=SYSTEM, as_of=day, partitions=4)
    assert record.partitions_total == 4 * RULES and record.finished_at is None
    work_all(record)
    assert record.finished_at is not None
    assert state() == expected
    assert record.counts == inline.counts
    assert sum(c["resolved"] for c in record.counts.values()) >= 1
    assert record.counts["not_registered"]["new"] == 1
    events = AuditEvent.objects.filter(action="compliance.scan", object_id=str(record.pk))
    assert [e.detail["partitions"] for e in events] == [4 * RULES]  # one, when the last was done


def test_each_rule_of_each_range_is_one_partition_heaviest_rules_first() -> None:
    world(4)
    record = compliance_scan_queue(actor=SYSTEM, as_of=DAY, partitions=2)
    parts = list(record.partitions.order_by("number"))
    pairs = [(p.rules[0], p.employer_from) for p in parts]
    assert all(len(p.rules) == 1 for p in parts)
    assert len(set(pairs)) == len(pairs) == 2 * RULES  # every rule of every range, once
    assert sorted({p.employer_from for p in parts}) == [0, parts[1].employer_from]
    weights = [CHECKS[p.rules[0]].weight for p in parts]
    assert weights == sorted(weights, reverse=True)  # the heaviest are queued first
    assert parts[0].rules == ["billed_after_exit"]  # 60,000 findings at 1 M: the costliest
    # A scan of some rules only has partitions of those rules.
    some = compliance_scan_queue(
        actor=SYSTEM, as_of=DAY, partitions=2, rules=["not_registered", "months_not_billed"]
    )
    assert [p.rules for p in some.partitions.order_by("number")] == [
        ["months_not_billed"],
        ["months_not_billed"],
        ["not_registered"],
        ["not_registered"],
    ]


def test_partition_worked_twice_writes_nothing_new_and_counts_once() -> None:
    world()
    record = compliance_scan_queue(actor=SYSTEM, as_of=DAY, partitions=3)
    work_all(record)
    before, counts = state(), record.counts
    assert counts["not_registered"]["new"] == 6
    for pk in record.partitions.values_list("pk", flat=True):
        services.scan_partition_work(partition_id=pk)  # the task delivered again
    record.refresh_from_db()
    assert state() == before and record.counts == counts
    assert AuditEvent.objects.filter(action="compliance.scan").count() == 1
    # Even with its record of the rules done lost, a partition run again over its range writes
    # no finding and no event twice: the store finds them all as they are.
    part = record.partitions.get(number=1)
    ScanPartition.objects.filter(pk=part.pk).update(counts={}, finished_at=None)
    services.scan_partition_work(partition_id=part.pk)
    assert state() == before
    part.refresh_from_db()
    assert all(c["new"] == 0 and c["changed"] == 0 for c in part.counts.values())


def test_partition_killed_after_some_rules_goes_on_from_there() -> None:
    world()
    # A partition of several rules (as partitions recorded before they were split by rule): a
    # worker recorded two of them and died (its heartbeat is past the lease).
    record = compliance_scan_queue(actor=SYSTEM, as_of=DAY, partitions=1)
    rules = list(services.registry().rules)[:2]
    parts = list(record.partitions.all())
    first = next(p for p in parts if p.rules == [rules[0]])
    next(p for p in parts if p.rules == [rules[1]]).delete()
    ScanPartition.objects.filter(pk=first.pk).update(rules=rules)
    Scan.objects.filter(pk=record.pk).update(partitions_total=len(parts) - 1)
    scope = Scope(as_of=DAY, employer_from=first.employer_from, employer_to=first.employer_to)
    done = {}
    for key in rules:
        with transaction.atomic():
            done[key] = services.scan.run_rule(scope, record, "x", key).as_dict()
    stale = timezone.now() - timedelta(hours=1)
    ScanPartition.objects.filter(pk=first.pk).update(counts=done, attempts=1, heartbeat_at=stale)
    progress = scan_pool.scan_progress(record, len(services.registry().rules))
    assert progress.status == "interrupted" and 0 < progress.percent < 50
    # The worker of the other partitions finishes them, then takes the lost partition over.
    for p in record.partitions.exclude(pk=first.pk).order_by("number"):
        services.scan_partition_work(partition_id=p.pk)
    record.refresh_from_db()
    first.refresh_from_db()
    assert record.finished_at is not None and first.attempts == 2
    assert {k: first.counts[k] for k in rules} == done  # not checked again
    assert record.counts["not_registered"]["new"] == 6
    assert Finding.objects.filter(rule="not_registered").count() == 6


def test_start_with_an_in_process_backend_runs_every_partition(settings: Any) -> None:
    settings.TASKS = IMMEDIATE
    world(4)
    record = compliance_scan_start(actor=SYSTEM, as_of=DAY)
    assert record.partitions_total == RULES and record.finished_at is not None  # one range
    assert record.counts["not_registered"]["new"] == 4


def test_daily_job_queues_the_scan_for_the_pool(settings: Any, capsys: Any) -> None:
    settings.EXPATSI_SCAN_PARTITIONS = 2
    world(4)
    assert main(["jobs", "run-daily", "--today", "2025-11-20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    queued = result["compliance_scan"]
    assert queued["status"] == "queued" and queued["partitions"] == 2 * RULES
    assert Finding.objects.count() == 0
    tasks = DBTaskResult.objects.filter(task_path=scan_partition.module_path)
    assert tasks.count() == 2 * RULES
    for t in tasks:
        scan_partition.call(**t.args_kwargs["kwargs"])
    record = Scan.objects.get(pk=queued["id"])
    assert record.finished_at is not None and record.counts["not_registered"]["new"] == 4


def test_daily_job_runs_inline_when_scans_are_not_queued(settings: Any, capsys: Any) -> None:
    settings.EXPATSI_SCAN_PARTITIONS = 0
    world(2)
    assert main(["jobs", "run-daily", "--today", "2025-11-20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["compliance_scan"]["partitions"] == 0
    assert result["compliance"]["not_registered"]["new"] == 2


def staff() -> Any:
    user = get_user_model().objects.create_user(username="scanner", email="s@example.org")
    AgencyStaff.objects.create(user=user, regions="")
    return client_for(user)


@pytest.mark.parametrize(
    ("prefix", "words"),
    [
        ("", ("Queued: waiting for a worker", f"0 of {2 * RULES} partitions done", "Done")),
        ("/zh-hans", ("排队中：等待工作进程", f"已完成 0 / {2 * RULES} 个分区", "已完成")),
    ],
)
def test_portal_queues_a_region_scan_and_shows_its_progress(
    settings: Any, prefix: str, words: tuple[str, str, str]
) -> None:
    settings.EXPATSI_SCAN_PARTITIONS = 2
    world(4)
    c = staff()
    response = c.post(f"{prefix}/cases/findings/scan/", {"region": "310000", "as_of": "2025-11-20"})
    record = Scan.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/cases/findings/scans/{record.pk}/")
    page = c.get(response["Location"]).text
    assert words[0] in page and words[1] in page
    assert 'http-equiv="refresh"' in page
    findings = c.get(f"{prefix}/cases/findings/").text
    assert f"/cases/findings/scans/{record.pk}/" in findings  # the running scan is linked
    work_all(record)
    page = c.get(response["Location"]).text
    assert words[2] in page and "100%" in page and 'http-equiv="refresh"' not in page
    # An employer is checked at once, as before.
    employer = Employer.objects.filter(region_code="310000").first()
    assert employer is not None
    c.post(f"{prefix}/cases/findings/scan/", {"employer": employer.pk})
    assert Scan.objects.filter(employer=employer, partitions_total=0).exists()


def test_api_queues_a_region_scan_and_follows_it(settings: Any) -> None:
    settings.EXPATSI_SCAN_PARTITIONS = 2
    world(4)
    c = staff()
    queued = c.post(
        "/api/v1/cases/scans",
        json.dumps({"region_code": "310000", "as_of": "2025-11-20"}),
        content_type="application/json",
    ).json()
    assert queued["status"] == "queued" and queued["partitions_total"] == 2 * RULES
    assert queued["percent"] == 0 and queued["counts"] == {}
    record = Scan.objects.get(pk=queued["id"])
    first, second = (
        record.partitions.filter(employer_from=0),
        record.partitions.exclude(employer_from=0),
    )
    for pk in first.values_list("pk", flat=True):  # the first employer range, every rule
        services.scan_partition_work(partition_id=pk)
    half = c.get(f"/api/v1/cases/scans/{record.pk}").json()
    assert half["status"] == "running" and half["partitions_done"] == RULES
    assert half["percent"] == 50
    assert half["counts"]["not_registered"]["new"] == 1
    for pk in second.values_list("pk", flat=True):
        services.scan_partition_work(partition_id=pk)
    done = c.get(f"/api/v1/cases/scans/{record.pk}").json()
    assert done["status"] == "done" and done["percent"] == 100
    assert done["counts"]["not_registered"]["new"] == 2
    assert c.get("/api/v1/cases/scans/999999").status_code == 404


def test_scan_page_and_api_ask_the_same_questions_for_2_or_8_partitions(settings: Any) -> None:
    world(8)
    c = staff()
    counted = []
    for n in (2, 8):
        record = compliance_scan_queue(actor=SYSTEM, as_of=DAY, partitions=n)
        services.scan_partition_work(partition_id=record.partitions.get(number=0).pk)
        with CaptureQueriesContext(connection) as page:
            assert c.get(f"/cases/findings/scans/{record.pk}/").status_code == 200
        with CaptureQueriesContext(connection) as api:
            assert c.get(f"/api/v1/cases/scans/{record.pk}").status_code == 200
        counted.append((len(page), len(api)))
    assert counted[0] == counted[1]


def test_portal_resumes_an_interrupted_scan(settings: Any) -> None:
    world(4)
    record = compliance_scan_queue(actor=SYSTEM, as_of=DAY, partitions=2)
    *others, lost = list(record.partitions.order_by("number"))
    for p in others:
        services.scan_partition_work(partition_id=p.pk)
    stale = timezone.now() - timedelta(hours=1)
    ScanPartition.objects.filter(pk=lost.pk).update(attempts=1, heartbeat_at=stale)
    c = staff()
    page = c.get(f"/zh-hans/cases/findings/scans/{record.pk}/").text
    assert "恢复检查" in page  # the resume button, in Chinese
    settings.TASKS = IMMEDIATE  # the re-queued partition runs at once
    assert c.post(f"/cases/findings/scans/{record.pk}/resume/").status_code == 302
    record.refresh_from_db()
    assert record.finished_at is not None and record.counts["not_registered"]["new"] == 4
    assert AuditEvent.objects.filter(action="compliance.scan_resume").count() == 1
    # Done now: resuming again is refused with a message, nothing queued.
    again = c.post(f"/cases/findings/scans/{record.pk}/resume/", follow=True)
    assert "Only an interrupted compliance scan can be resumed." in again.text
    assert c.post("/cases/findings/scans/999999/resume/").status_code == 404


def test_api_resumes_an_interrupted_scan(settings: Any) -> None:
    world(4)
    record = compliance_scan_queue(actor=SYSTEM, as_of=DAY, partitions=2)
    *others, lost = list(record.partitions.order_by("number"))
    for p in others:
        services.scan_partition_work(partition_id=p.pk)
    stale = timezone.now() - timedelta(hours=1)
    ScanPartition.objects.filter(pk=lost.pk).update(attempts=1, heartbeat_at=stale)
    c = staff()
    url = f"/api/v1/cases/scans/{record.pk}"
    assert c.get(url).json()["status"] == "interrupted"
    settings.TASKS = IMMEDIATE  # the re-queued partition runs at once
    resumed = c.post(f"{url}/resume", content_type="application/json")
    assert resumed.status_code == 202, resumed.content
    assert resumed.json()["status"] == "done" and resumed.json()["percent"] == 100
    assert resumed.json()["counts"]["not_registered"]["new"] == 4
    assert AuditEvent.objects.filter(action="compliance.scan_resume").count() == 1
    again = c.post(f"{url}/resume", content_type="application/json")
    assert again.status_code == 409
    assert again.json()["code"] == "scan_not_interrupted"
    assert c.post("/api/v1/cases/scans/999999/resume").status_code == 404
