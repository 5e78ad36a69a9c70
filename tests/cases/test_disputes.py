"""Disputes and complaints (issue #12): a dispute's correction as reversing and new entries
(amounts worked by hand below), stages that only move forward, the parties' and staff's scope,
the agency's reply clock (5 working days, counted by hand over the National Day holiday), the reply
in the complainant's inbox after commit, and a report turned into a finding."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.models import AuditEvent
from expatsi.billing.corrections import LineCorrection
from expatsi.billing.models import Bill, BillLine
from expatsi.cases import complaints, disputes, notice, services
from expatsi.cases.models import (
    CaseEvent,
    Complaint,
    ComplaintStatus,
    DisputeEvent,
    Finding,
)
from expatsi.employers.models import Employer, HrMembership
from expatsi.notify.models import Notification
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from expatsi.rules.regions import region
from tests.cases.conftest import bill, employ, person
from tests.factories import UserFactory, uscc_for

pytestmark = pytest.mark.django_db

STAFF_SH = Actor("agency", None, "officer-sh", regions=frozenset({"310000"}))
STAFF_BJ = Actor("agency", None, "officer-bj", regions=frozenset({"110000"}))


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def world(sh: Employer, sh2: Employer) -> dict[str, Any]:
    """Ms Keller works for ``sh`` (Shanghai); her September 2025 bill has one pension line on a
    base of ¥30,000.00: employer 16% = ¥4,800.00, employee 8% = ¥2,400.00."""
    keller = person("Keller", "DEU")
    employ(keller, sh, date(2025, 1, 1))
    other = person("Other", "FRA")
    employ(other, sh2, date(2025, 1, 1))
    b = bill(
        sh,
        "2025-09",
        date(2025, 10, 15),
        lines=[
            {
                "person": keller,
                "insurance": 0,
                "base": 3_000_000,
                "employer_rate": 160_000,
                "employee_rate": 80_000,
                "employer_amount": 480_000,
                "employee_amount": 240_000,
            }
        ],
    )
    line = b.lines.get()
    hr = UserFactory(username="hr-sh")
    HrMembership.objects.create(user=hr, employer=sh)
    hr2 = UserFactory(username="hr-sh2")
    HrMembership.objects.create(user=hr2, employer=sh2)
    me = UserFactory(username="keller")
    Person.objects.filter(pk=keller.pk).update(user=me)
    return {
        "sh": sh,
        "sh2": sh2,
        "keller": keller,
        "bill": b,
        "line": line,
        "hr": Actor("hr", hr.pk, "hr-sh", employer_ids=frozenset({sh.pk})),
        "hr_other": Actor("hr", hr2.pk, "hr-sh2", employer_ids=frozenset({sh2.pk})),
        "employee": Actor("employee", me.pk, "keller", person_id=keller.pk),
        "employee_user": me,
    }


def _open(w: dict[str, Any], actor: Actor | None = None, **kw: Any) -> Any:
    args = {
        "employer_id": w["sh"].pk,
        "person_id": w["keller"].pk,
        "subject_kind": "bill_line",
        "subject_id": w["line"].pk,
        "claim": "My pension base was declared at ¥30,000 but my wage is ¥25,000.",
        "stage": "mediation",
        "stage_on": today() - timedelta(days=40),
    }
    args.update(kw)
    return disputes.dispute_open(actor=actor or w["employee"], **args)


# --- correction: reversing and new entries --------------------------------------------------------


def test_a_correction_after_a_decision_is_reversing_and_new_entries(world: dict[str, Any]) -> None:
    """The award: the base should have been ¥25,000.00. New amounts: employer 16% × 25,000.00 =
    ¥4,000.00, employee 8% × 25,000.00 = ¥2,000.00. The correction bill reverses the line
    (−¥4,800.00 / −¥2,400.00) and enters it again (¥4,000.00 / ¥2,000.00): its totals are
    −¥800.00 for the employer and −¥400.00 for the employee, −¥1,200.00 in all."""
    w = world
    d = _open(w)
    d = disputes.dispute_escalate(
        actor=w["hr"], dispute_id=d.pk, stage="arbitration", stage_on=today() - timedelta(days=20)
    )
    with pytest.raises(Conflict, match="record the outcome first"):
        disputes.dispute_correct(
            actor=STAFF_SH,
            dispute_id=d.pk,
            lines=[LineCorrection(w["line"].pk, 400_000, 200_000, 2_500_000)],
            reason="award",
        )
    disputes.dispute_decide(
        actor=STAFF_SH, dispute_id=d.pk, outcome="for_employee", text="Base is ¥25,000."
    )
    correction = disputes.dispute_correct(
        actor=STAFF_SH,
        dispute_id=d.pk,
        lines=[LineCorrection(w["line"].pk, 400_000, 200_000, 2_500_000)],
        reason="arbitration award no. 2025-77",
    )
    adj = correction.bill
    assert adj.kind == "adjustment" and adj.month == "2025-09"
    assert adj.number.endswith("-C1") and adj.number != w["bill"].number
    assert (adj.employer_total, adj.employee_total) == (-80_000, -40_000)
    assert correction.net_fen == -120_000
    assert adj.due_date == region("310000").adjustment_due_date(Month.parse("2025-09"), today())
    entries = list(
        adj.lines.order_by("pk").values_list("base", "employer_amount", "employee_amount")
    )
    assert entries == [(3_000_000, -480_000, -240_000), (2_500_000, 400_000, 200_000)]
    notes = list(adj.lines.order_by("pk").values_list("note", flat=True))
    assert notes[0].startswith(f"Reversal of line {w['line'].pk}")
    assert notes[1].startswith(f"Corrected entry replacing line {w['line'].pk}")
    # the issued line is untouched; the month now totals what was decided
    w["line"].refresh_from_db()
    assert (w["line"].employer_amount, w["line"].employee_amount) == (480_000, 240_000)
    month_lines = BillLine.objects.filter(bill__employer=w["sh"], bill__month="2025-09")
    assert sum(x.employer_amount for x in month_lines) == 400_000
    assert sum(x.employee_amount for x in month_lines) == 200_000
    # linked from the dispute, in its history and the audit trail
    assert list(d.corrections.values_list("bill_id", flat=True)) == [adj.pk]
    assert DisputeEvent.objects.filter(dispute=d, action="corrected").count() == 1
    assert AuditEvent.objects.filter(action="bill.correction", object_id=str(adj.pk)).exists()
    # posted once: the same line again is refused
    with pytest.raises(Conflict, match="corrected already"):
        disputes.dispute_correct(
            actor=STAFF_SH,
            dispute_id=d.pk,
            lines=[LineCorrection(w["line"].pk, 300_000, 150_000)],
            reason="again",
        )
    assert Bill.objects.filter(employer=w["sh"]).count() == 2


def test_only_staff_of_the_region_post_corrections_and_only_after_a_favourable_outcome(
    world: dict[str, Any],
) -> None:
    w = world
    d = _open(w)
    disputes.dispute_decide(actor=STAFF_SH, dispute_id=d.pk, outcome="for_employer", text="No.")
    fix = [LineCorrection(w["line"].pk, 400_000, 200_000)]
    with pytest.raises(Conflict, match="calls for no correction"):
        disputes.dispute_correct(actor=STAFF_SH, dispute_id=d.pk, lines=fix, reason="x")
    with pytest.raises(Forbidden):
        disputes.dispute_correct(actor=w["hr"], dispute_id=d.pk, lines=fix, reason="x")
    with pytest.raises(NotFound):  # staff of another region do not see it at all
        disputes.dispute_correct(actor=STAFF_BJ, dispute_id=d.pk, lines=fix, reason="x")
    assert Bill.objects.filter(employer=w["sh"]).count() == 1


def test_a_correction_touches_only_the_lines_of_the_dispute(
    world: dict[str, Any], sh: Employer
) -> None:
    w = world
    other_bill = bill(
        sh, "2025-10", date(2025, 11, 15), lines=[{"person": w["keller"], "employer_amount": 1}]
    )
    d = _open(w)
    disputes.dispute_decide(actor=STAFF_SH, dispute_id=d.pk, outcome="settled", text="Agreed.")
    with pytest.raises(NotFound, match="not one of this dispute's"):
        disputes.dispute_correct(
            actor=STAFF_SH,
            dispute_id=d.pk,
            lines=[LineCorrection(other_bill.lines.get().pk, 0, 0)],
            reason="x",
        )


# --- stages ------------------------------------------------------------------------------------------


def test_stages_move_forward_one_at_a_time_and_never_back(world: dict[str, Any]) -> None:
    w = world
    d = _open(w)
    with pytest.raises(Conflict, match="next stage is arbitration") as skipped:
        disputes.dispute_escalate(actor=w["employee"], dispute_id=d.pk, stage="litigation")
    assert skipped.value.code == "stage_skipped"
    with pytest.raises(Conflict) as same:
        disputes.dispute_escalate(actor=w["employee"], dispute_id=d.pk, stage="mediation")
    assert same.value.code == "stage_backwards"
    with pytest.raises(RuleError, match="before the present stage began"):
        disputes.dispute_escalate(
            actor=w["employee"],
            dispute_id=d.pk,
            stage="arbitration",
            stage_on=today() - timedelta(days=41),
        )
    disputes.dispute_decide(
        actor=STAFF_SH, dispute_id=d.pk, outcome="for_employer", text="Mediation failed."
    )
    d = disputes.dispute_escalate(actor=w["employee"], dispute_id=d.pk, stage="arbitration")
    assert (d.stage, d.status, d.arbitration_on) == ("arbitration", "open", today())
    with pytest.raises(Conflict) as back:
        disputes.dispute_escalate(actor=w["hr"], dispute_id=d.pk, stage="mediation")
    assert back.value.code == "stage_backwards"
    d = disputes.dispute_escalate(actor=w["hr"], dispute_id=d.pk, stage="litigation")
    assert d.stage == "litigation" and d.mediation_on == today() - timedelta(days=40)
    disputes.dispute_decide(actor=STAFF_SH, dispute_id=d.pk, outcome="partly", text="Judgment.")
    disputes.dispute_close(actor=STAFF_SH, dispute_id=d.pk, reason="Judgment final.")
    with pytest.raises(Conflict, match="closed"):
        disputes.dispute_escalate(actor=w["hr"], dispute_id=d.pk, stage="litigation")
    actions = list(DisputeEvent.objects.filter(dispute=d).values_list("action", "to_stage"))
    assert actions == [
        ("opened", "mediation"),
        ("decided", "mediation"),
        ("escalated", "arbitration"),
        ("escalated", "litigation"),
        ("decided", "litigation"),
        ("closed", "litigation"),
    ]
    assert AuditEvent.objects.filter(action="dispute.escalated", object_id=str(d.pk)).count() == 2


def test_only_staff_decide_and_close(world: dict[str, Any]) -> None:
    w = world
    d = _open(w)
    for actor in (w["hr"], w["employee"]):
        with pytest.raises(Forbidden):
            disputes.dispute_decide(actor=actor, dispute_id=d.pk, outcome="settled", text="x")
    with pytest.raises(Conflict):
        disputes.dispute_close(actor=STAFF_SH, dispute_id=d.pk, reason="not decided yet")


# --- who opens and sees a dispute ---------------------------------------------------------------------


def test_the_parties_and_staff_see_a_dispute_and_nobody_else(world: dict[str, Any]) -> None:
    w = world
    d = _open(w, actor=w["hr"])
    assert d.opened_as == "hr" and d.number.startswith("DSP-310000-")
    for actor in (w["hr"], w["employee"], STAFF_SH):
        assert disputes.dispute_get(actor=actor, dispute_id=d.pk).pk == d.pk
        assert list(disputes.dispute_list(actor=actor)) == [d]
    for actor in (w["hr_other"], STAFF_BJ):
        with pytest.raises(NotFound):
            disputes.dispute_get(actor=actor, dispute_id=d.pk)
        assert not disputes.dispute_list(actor=actor).exists()
        with pytest.raises(NotFound):
            disputes.document_add(actor=actor, dispute_id=d.pk, title="x", data=b"%PDF-1.4")


def test_a_dispute_is_opened_only_between_an_employee_and_their_employer(
    world: dict[str, Any],
) -> None:
    w = world
    with pytest.raises(NotFound):  # HR of another employer
        _open(w, actor=w["hr_other"])
    with pytest.raises(RuleError, match="never worked"):
        _open(w, actor=STAFF_SH, employer_id=w["sh2"].pk, subject_kind="other", subject_id=None)
    with pytest.raises(NotFound, match="between this employee and employer"):
        _open(w, subject_kind="bill", subject_id=w["bill"].pk + 999)
    with pytest.raises(RuleError, match="after today"):
        _open(w, stage_on=today() + timedelta(days=1))


def test_documents_are_pdf_jpeg_or_png(world: dict[str, Any]) -> None:
    w = world
    d = _open(w)
    doc = disputes.document_add(
        actor=w["employee"], dispute_id=d.pk, title="Mediation record", data=b"%PDF-1.4 x"
    )
    assert (doc.content_type, doc.size, doc.uploaded_as) == ("application/pdf", 10, "employee")
    with pytest.raises(RuleError, match="PDF, JPEG or PNG"):
        disputes.document_add(actor=w["hr"], dispute_id=d.pk, title="x", data=b"MZ\x90\x00")
    got = disputes.document_get(actor=w["hr"], dispute_id=d.pk, document_id=doc.pk)
    assert bytes(got.data) == b"%PDF-1.4 x"


# --- complaints: the reply clock ----------------------------------------------------------------------


def test_the_reply_clock_counts_five_working_days() -> None:
    """Received Monday 23 Nov 2026: Tue 24, Wed 25, Thu 26, Fri 27, Mon 30 → due 30 Nov.
    Received Wednesday 30 Sep 2026, before the National Day holiday (1–7 Oct) and its make-up
    working Saturday 10 Oct: Thu 8, Fri 9, Sat 10, Mon 12, Tue 13 → due 13 Oct."""
    assert complaints.reply_deadline(date(2026, 11, 23)).due == date(2026, 11, 30)
    clock = complaints.reply_deadline(date(2026, 9, 30))
    assert clock.due == date(2026, 10, 13)
    assert clock.provenance.status.value == "SECONDARY" and "Art. 18" in clock.law


def test_a_complaint_past_its_reply_clock_is_overdue(world: dict[str, Any]) -> None:
    w = world
    c = complaints.complaint_file(
        actor=w["employee"],
        kind="intervention",
        employer_id=w["sh"].pk,
        subject="Contributions not paid",
        details="My employer has not paid my contributions since July.",
    )
    assert c.reply_due == complaints.reply_deadline(today()).due
    assert c.status == ComplaintStatus.RECEIVED and c.person_id == w["keller"].pk
    assert not complaints.complaint_list(actor=STAFF_SH, overdue=True).exists()
    received = date(2026, 9, 30)
    Complaint.objects.filter(pk=c.pk).update(received_on=received, reply_due=date(2026, 10, 13))
    c.refresh_from_db()
    assert complaints.reply_clock(c, today=date(2026, 10, 13)).overdue is False
    late = complaints.reply_clock(c, today=date(2026, 10, 14))
    assert late.overdue is True and late.days_left == -1
    if today() > date(2026, 10, 13):
        assert list(complaints.complaint_list(actor=STAFF_SH, overdue=True)) == [c]
    complaints.complaint_reply(actor=STAFF_SH, complaint_id=c.pk, reply="Accepted.")
    c.refresh_from_db()
    assert complaints.reply_clock(c, today=date(2026, 10, 20)).overdue is False
    assert not complaints.complaint_list(actor=STAFF_SH, overdue=True).exists()


def test_the_reply_reaches_the_complainants_inbox_after_commit_in_their_language(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    Person.objects.filter(pk=w["keller"].pk).update(preferred_language="zh-hans")
    c = complaints.complaint_file(
        actor=w["employee"],
        kind="intervention",
        employer_id=w["sh"].pk,
        subject="Unpaid",
        details="Not paid.",
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            complaints.complaint_reply(
                actor=STAFF_SH, complaint_id=c.pk, reply="已受理，将进行调查。"
            )
        assert not Notification.objects.filter(kind="complaint_reply").exists()
    for callback in callbacks:
        callback()
    note = Notification.objects.get(kind="complaint_reply")
    assert note.user_id == w["employee_user"].pk and note.language == "zh-hans"
    assert c.number in note.subject and "社会保险经办机构" in note.subject
    assert "已受理，将进行调查。" in note.body
    with pytest.raises(Conflict):
        complaints.complaint_reply(actor=STAFF_SH, complaint_id=c.pk, reply="again")


def test_complaints_are_seen_by_who_filed_them_and_staff_of_the_region(
    world: dict[str, Any],
) -> None:
    w = world
    c = complaints.complaint_file(
        actor=w["hr_other"],
        kind="report",
        uscc=w["sh"].uscc,
        subject="Foreigners working without cards",
        details="Seen at the site.",
    )
    assert c.kind == "report" and c.person_id is None and c.employer_id == w["sh"].pk
    assert complaints.complaint_get(actor=w["hr_other"], complaint_id=c.pk).pk == c.pk
    assert complaints.complaint_get(actor=STAFF_SH, complaint_id=c.pk).pk == c.pk
    for actor in (w["hr"], w["employee"], STAFF_BJ):  # the employer reported never sees it
        with pytest.raises(NotFound):
            complaints.complaint_get(actor=actor, complaint_id=c.pk)
    with pytest.raises(Forbidden):
        complaints.complaint_reply(actor=w["hr_other"], complaint_id=c.pk, reply="x")
    with pytest.raises(Forbidden):  # only a foreign employee asks to intervene
        complaints.complaint_file(
            actor=w["hr"], kind="intervention", employer_id=w["sh"].pk, subject="x", details="x"
        )
    with pytest.raises(NotFound):  # not their employer
        complaints.complaint_file(
            actor=w["employee"],
            kind="intervention",
            employer_id=w["sh2"].pk,
            subject="x",
            details="x",
        )
    with pytest.raises(NotFound, match="no registered employer"):
        complaints.complaint_file(
            actor=w["employee"],
            kind="report",
            uscc=uscc_for("310000", 977),
            subject="x",
            details="x",
        )


def test_a_report_becomes_a_finding_with_the_report_as_evidence(world: dict[str, Any]) -> None:
    w = world
    c = complaints.complaint_file(
        actor=w["hr_other"],
        kind="report",
        uscc=w["sh"].uscc,
        subject="Illegal employment",
        details="Two foreigners work there on tourist visas.",
    )
    with pytest.raises(Forbidden):
        complaints.complaint_to_finding(actor=w["hr_other"], complaint_id=c.pk)
    finding = complaints.complaint_to_finding(actor=STAFF_SH, complaint_id=c.pk)
    assert (finding.rule, finding.status, finding.employer_id) == ("reported", "open", w["sh"].pk)
    assert finding.evidence["complaint"] == c.number
    assert finding.evidence["details"] == "Two foreigners work there on tourist visas."
    assert "hr-sh2" not in str(finding.evidence)  # who reported stays on the complaint
    c.refresh_from_db()
    assert c.finding_id == finding.pk
    assert complaints.complaint_to_finding(actor=STAFF_SH, complaint_id=c.pk).pk == finding.pk
    assert Finding.objects.filter(rule="reported").count() == 1
    assert CaseEvent.objects.filter(finding=finding, action="from_complaint").exists()
    assert AuditEvent.objects.filter(action="finding.from_complaint").exists()


def test_a_case_from_a_reported_finding_names_it_in_words_in_both_languages(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    c = complaints.complaint_file(
        actor=w["hr_other"], kind="report", uscc=w["sh"].uscc, subject="x", details="y"
    )
    finding = complaints.complaint_to_finding(actor=STAFF_SH, complaint_id=c.pk)
    case = services.case_open(actor=STAFF_SH, finding_ids=[finding.pk])
    with django_capture_on_commit_callbacks(execute=True):
        services.order_issue(actor=STAFF_SH, case_id=case.pk, deadline=today() + timedelta(days=30))
    note = Notification.objects.get(kind="order_to_rectify")
    assert note.params["summary"] == "Reported to the agency (1) / 向经办机构举报 (1)"
    line = notice._line(Finding.objects.get(pk=finding.pk))
    assert (line.rule_en, line.rule_zh) == ("Reported to the agency", "向经办机构举报")
