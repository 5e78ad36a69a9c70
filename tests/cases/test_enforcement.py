"""Re-running scans, dismissals, the Shanghai legacy rule, and enforcement cases: the order to
rectify (inbox and bilingual PDF), fine proposals inside and outside the legal ranges (worked by
hand below), the decision with late fees from the ledger, closing, and the history."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from expatsi.access.actors import SYSTEM, Actor
from expatsi.audit.models import AuditEvent
from expatsi.cases import notice, services
from expatsi.cases.models import Case, CaseEvent, Finding, OptOut
from expatsi.employers.models import Employer, HrMembership
from expatsi.notify.models import Notification
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from tests.cases.conftest import bill, employ, finding, pay, permit, person, register

pytestmark = pytest.mark.django_db
AS_OF = date(2025, 11, 20)
STAFF = Actor("agency", None, "officer-all", regions=None)
STAFF_BJ = Actor("agency", None, "officer-bj", regions=frozenset({"110000"}))


def today() -> date:
    return timezone.localdate()


def scan(as_of: date = AS_OF) -> None:
    services.compliance_scan(actor=SYSTEM, as_of=as_of)


# --- re-runs and dismissals ---------------------------------------------------------------------


def test_a_second_scan_creates_no_duplicate(sh: Employer) -> None:
    p = person("Late")
    permit(p, date(2025, 8, 20), date(2028, 8, 19))
    employ(p, sh, date(2025, 9, 1))
    bill(sh, "2025-09", date(2025, 10, 15), total=100_000)
    scan()
    before = sorted(Finding.objects.values_list("key", "pk"))
    assert {k.split("|")[0] for k, _ in before} == {"not_registered", "unpaid_past_due"}
    again = services.compliance_scan(actor=SYSTEM, as_of=AS_OF)
    assert sorted(Finding.objects.values_list("key", "pk")) == before
    assert all(c["new"] == 0 for c in again.counts.values())
    # a day later the late fee has grown: figures move, nothing is added or reopened
    services.compliance_scan(actor=SYSTEM, as_of=AS_OF + timedelta(days=1))
    assert sorted(Finding.objects.values_list("key", "pk")) == before
    unpaid = Finding.objects.get(rule="unpaid_past_due")
    assert unpaid.figures["days_overdue"] == 37 and unpaid.seen_on == AS_OF + timedelta(days=1)


def test_dismissed_stays_dismissed_unless_its_evidence_changes(sh: Employer) -> None:
    b = bill(sh, "2025-09", date(2025, 10, 15), total=100_000)
    scan()
    f = Finding.objects.get(rule="unpaid_past_due")
    with pytest.raises(RuleError) as no_reason:
        services.finding_dismiss(actor=STAFF, finding_id=f.pk, reason="  ")
    assert (no_reason.value.code, no_reason.value.field) == ("reason_required", "reason")
    services.finding_dismiss(
        actor=STAFF, finding_id=f.pk, reason="paid at the bank, not yet booked"
    )
    scan()
    scan(AS_OF + timedelta(days=3))  # the late fee grew: not evidence
    f.refresh_from_db()
    assert f.status == "dismissed"
    assert f.status_reason == "paid at the bank, not yet booked"
    pay(b, 30_000, date(2025, 11, 21))  # a part payment: what the finding rests on changed
    scan(AS_OF + timedelta(days=3))
    f.refresh_from_db()
    assert f.status == "open" and f.evidence["paid_fen"] == 30_000
    assert list(f.events.values_list("action", flat=True)) == ["dismissed", "reopened"]
    pay(b, 70_000, date(2025, 11, 22))
    scan(AS_OF + timedelta(days=4))
    f.refresh_from_db()
    assert f.resolved_on == AS_OF + timedelta(days=4)  # put right: resolved, kept as history


def test_review_is_for_agency_staff_of_the_region(sh: Employer) -> None:
    bill(sh, "2025-09", date(2025, 10, 15), total=100_000)
    scan()
    f = Finding.objects.get()
    with pytest.raises(NotFound):  # Shanghai's finding does not exist for Beijing staff
        services.finding_confirm(actor=STAFF_BJ, finding_id=f.pk)
    hr = Actor("hr", None, "hr", employer_ids=frozenset({sh.pk}))
    with pytest.raises(NotFound):
        services.finding_dismiss(actor=hr, finding_id=f.pk, reason="no")
    with pytest.raises(Forbidden):
        services.compliance_scan(actor=STAFF_BJ, region_code="310000", as_of=AS_OF)
    services.finding_confirm(actor=STAFF, finding_id=f.pk, reason="checked the ledger")
    assert AuditEvent.objects.filter(action="finding.confirmed", object_id=str(f.pk)).exists()


# --- Shanghai Notice No. 38 [2009] --------------------------------------------------------------


def _opted_out_foreigner(sh: Employer, *, opt_out: bool) -> Any:
    p = person("OptedOut" if opt_out else "NoOptOut")
    permit(p, date(2019, 1, 1), date(2023, 12, 31), kind="work_permit")
    employ(p, sh, date(2019, 1, 1))
    if opt_out:
        services.opt_out_record(
            actor=SYSTEM,
            legacy="shanghai_notice_38_2009",
            person_id=p.pk,
            employer_id=sh.pk,
            signed_on=date(2019, 1, 1),
            reference="contract § 9",
        )
    return p


def test_shanghai_opt_out_no_finding_until_15_august_2021(sh: Employer) -> None:
    opted = _opted_out_foreigner(sh, opt_out=True)
    other = _opted_out_foreigner(sh, opt_out=False)
    scan(date(2021, 8, 15))  # the last day Notice No. 38 was in force
    assert [f.person_id for f in Finding.objects.filter(rule="not_registered")] == [other.pk]
    # the obligation begins on 16 August 2021; its 30-day clock ends on 15 September
    scan(date(2021, 9, 15))
    assert [f.person_id for f in Finding.objects.filter(rule="not_registered")] == [other.pk]
    scan(date(2021, 9, 16))
    f = Finding.objects.get(rule="not_registered", person=opted)
    assert f.evidence["legacy"]["document"] == "沪人社养发〔2009〕38号"
    assert f.evidence["clock_starts"] == "2021-08-16"
    assert f.evidence["deadline"] == "2021-09-15"
    assert f.figures["months"] == 2  # August and September 2021


def test_months_before_the_obligation_are_not_unbilled_for_the_opted_out(sh: Employer) -> None:
    """Registered from June 2021 and never billed: for the opted-out, June and July ended
    before the obligation began (16 August 2021); August to October are unbilled for both."""
    opted = _opted_out_foreigner(sh, opt_out=True)
    other = _opted_out_foreigner(sh, opt_out=False)
    for p in (opted, other):
        register(p.employments.get(), insured_from=date(2021, 6, 1))
    scan(date(2021, 11, 20))  # October is due 15 November
    people = {
        f.period: f.evidence["person_ids"] for f in Finding.objects.filter(rule="months_not_billed")
    }
    assert people == {
        "2021-06": [other.pk],
        "2021-07": [other.pk],
        "2021-08": sorted([opted.pk, other.pk]),
        "2021-09": sorted([opted.pk, other.pk]),
        "2021-10": sorted([opted.pk, other.pk]),
    }


def test_the_legacy_rule_is_shanghais_and_the_opt_out_must_predate_its_expiry(
    sh: Employer, bj: Employer
) -> None:
    p = person("Beijing")
    employ(p, bj, date(2019, 1, 1))
    with pytest.raises(RuleError) as wrong_region:
        services.opt_out_record(
            actor=SYSTEM,
            legacy="shanghai_notice_38_2009",
            person_id=p.pk,
            employer_id=bj.pk,
            signed_on=date(2019, 1, 1),
        )
    assert wrong_region.value.code == "legacy_region"
    q = person("Late signer")
    employ(q, sh, date(2021, 1, 1))
    with pytest.raises(RuleError) as late:
        services.opt_out_record(
            actor=SYSTEM,
            legacy="shanghai_notice_38_2009",
            person_id=q.pk,
            employer_id=sh.pk,
            signed_on=date(2021, 8, 16),
        )
    assert (late.value.code, late.value.field) == ("signed_after_expiry", "signed_on")
    assert not OptOut.objects.exists()


# --- enforcement cases ----------------------------------------------------------------------------


def _hr_user(employer: Employer) -> Any:
    user = get_user_model().objects.create_user(
        username=f"hr-{employer.pk}", email=f"hr{employer.pk}@example.org"
    )
    HrMembership.objects.create(user=user, employer=employer)
    return user


def _past_deadline(case: Case) -> None:
    """Time passes: the order's deadline is yesterday."""
    Case.objects.filter(pk=case.pk).update(order_deadline=today() - timedelta(days=1))


def test_order_to_rectify_reaches_hr_after_commit_in_both_languages(
    sh: Employer, django_capture_on_commit_callbacks: Any
) -> None:
    user = _hr_user(sh)
    f = finding(
        "not_registered", sh, person("Weber"), amount=1_234_500, evidence={"deadline": "2025-10-01"}
    )
    case = services.case_open(actor=STAFF, finding_ids=[f.pk])
    f.refresh_from_db()
    assert (f.status, f.case_id) == ("confirmed", case.pk)
    deadline = today() + timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.order_issue(
            actor=STAFF, case_id=case.pk, deadline=deadline, requirements="Register Weber."
        )
    assert not Notification.objects.exists()  # nothing before commit
    for callback in callbacks:
        callback()
    note = Notification.objects.get(user=user)
    assert note.kind == "order_to_rectify" and deadline.isoformat() in note.subject
    assert case.number in note.body
    case.refresh_from_db()
    assert case.status == "ordered"
    document = notice.order_pdf(case)
    assert document.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=document, capture_output=True, check=True
        ).stdout.decode()
        squeezed = "".join(text.split())
        assert "限期改正通知书" in squeezed and "OrdertoRectify" in squeezed
        assert "CNY12,345.00·12,345.00元" in squeezed and "WEBER" in squeezed


def test_a_case_holds_findings_of_one_employer_never_dismissed_or_taken(
    sh: Employer, sh2: Employer
) -> None:
    a = finding("unpaid_past_due", sh)
    b = finding("unpaid_past_due", sh2)
    with pytest.raises(RuleError) as mixed:
        services.case_open(actor=STAFF, finding_ids=[a.pk, b.pk])
    assert mixed.value.code == "one_employer"
    services.finding_dismiss(actor=STAFF, finding_id=b.pk, reason="duplicate of a bank record")
    with pytest.raises(Conflict):
        services.case_open(actor=STAFF, finding_ids=[b.pk])
    services.case_open(actor=STAFF, finding_ids=[a.pk])
    with pytest.raises(Conflict):
        services.case_open(actor=STAFF, finding_ids=[a.pk])


def _ordered_case(employer: Employer, *findings: Finding) -> Case:
    case = services.case_open(actor=STAFF, finding_ids=[f.pk for f in findings])
    services.order_issue(actor=STAFF, case_id=case.pk, deadline=today() + timedelta(days=15))
    return Case.objects.get(pk=case.pk)


def test_no_fine_before_the_deadline_has_passed(sh: Employer) -> None:
    case = _ordered_case(sh, finding("not_registered", sh, person(), amount=1_000_000))
    with pytest.raises(Conflict) as early:
        services.fine_propose(
            actor=STAFF,
            case_id=case.pk,
            kind="failure_to_register",
            amount_fen=1_000_000,
            reason="r",
        )
    assert early.value.code == "deadline_not_passed"


# Ranges worked by hand from the law (policy-facts.md §2 and §9):
#  premiums payable 12,345.00 yuan × 1 … 3 = 12,345.00 … 37,035.00 (SIL Art. 84)
#  2 responsible persons × 500 … 3,000 yuan = 1,000.00 … 6,000.00 (SIL Art. 84)
#  arrears 600.00 yuan (1,000.00 billed − 400.00 paid) × 1 … 3 = 600.00 … 1,800.00 (SIL Art. 86)
#  3 illegally employed foreigners × 10,000 yuan = 30,000.00 exactly (Exit-Entry Law Art. 80)
#  12 of them: 120,000 yuan, capped at 100,000.00
FINES = [
    ("failure_to_register", None, 1_234_500, True),
    ("failure_to_register", None, 3_703_500, True),
    ("failure_to_register", None, 3_703_501, False),
    ("failure_to_register", None, 1_234_499, False),
    ("failure_to_register_responsible_person", 2, 100_000, True),
    ("failure_to_register_responsible_person", 2, 600_000, True),
    ("failure_to_register_responsible_person", 2, 600_001, False),
    ("failure_to_register_responsible_person", 2, 99_999, False),
]


@pytest.mark.parametrize(("kind", "persons", "amount", "inside"), FINES)
def test_fines_for_not_registering(
    sh: Employer, kind: str, persons: int | None, amount: int, inside: bool
) -> None:
    case = _ordered_case(sh, finding("not_registered", sh, person(), amount=1_234_500))
    _past_deadline(case)
    if inside:
        proposal = services.fine_propose(
            actor=STAFF, case_id=case.pk, kind=kind, amount_fen=amount, persons=persons, reason="r"
        )
        assert proposal.min_fen <= proposal.amount_fen <= proposal.max_fen
        assert Case.objects.get(pk=case.pk).status == "fine_proposed"
        return
    with pytest.raises(RuleError) as refused:
        services.fine_propose(
            actor=STAFF, case_id=case.pk, kind=kind, amount_fen=amount, persons=persons, reason="r"
        )
    assert (refused.value.code, refused.value.field) == ("fine_out_of_range", "amount")
    expected = {
        "failure_to_register": ("12,345.00", "37,035.00"),
        "failure_to_register_responsible_person": ("1,000.00", "6,000.00"),
    }[kind]
    assert (refused.value.params["min"], refused.value.params["max"]) == expected
    assert Case.objects.get(pk=case.pk).status == "ordered"


def test_fine_for_arrears_is_measured_on_the_ledger(sh: Employer) -> None:
    b = bill(sh, "2025-09", date(2025, 10, 15), total=100_000)
    pay(b, 40_000, date(2025, 10, 10))
    scan()
    case = _ordered_case(sh, Finding.objects.get(rule="unpaid_past_due"))
    _past_deadline(case)
    with pytest.raises(RuleError) as high:
        services.fine_propose(
            actor=STAFF, case_id=case.pk, kind="arrears_not_paid", amount_fen=180_001, reason="r"
        )
    assert (high.value.params["min"], high.value.params["max"]) == ("600.00", "1,800.00")
    with pytest.raises(RuleError) as wrong_kind:
        services.fine_propose(
            actor=STAFF,
            case_id=case.pk,
            kind="illegal_employment",
            amount_fen=1_000_000,
            reason="r",
        )
    assert (wrong_kind.value.code, wrong_kind.value.field) == ("fine_not_applicable", "kind")
    services.fine_propose(
        actor=STAFF,
        case_id=case.pk,
        kind="arrears_not_paid",
        amount_fen=120_000,
        reason="second month late",
    )
    decided = services.case_decide(
        actor=STAFF, case_id=case.pk, outcome="fine", reason="no payment after the order"
    )
    # the late fee on 600.00 from 16 October to today, from the same ledger the bills page uses
    days = (today() - date(2025, 10, 15)).days
    assert decided.late_fee_fen == (60_000 * 500 * days + 500_000) // 1_000_000
    assert decided.fine_total_fen == 120_000 and decided.decision == "fine"
    assert list(decided.proposals.values_list("status", flat=True)) == ["adopted"]


@pytest.mark.parametrize(("people", "exact"), [(3, 3_000_000), (12, 10_000_000)])
def test_fine_for_illegal_employment_per_person_capped(
    sh: Employer, people: int, exact: int
) -> None:
    found = [
        finding("illegal_employment", sh, person(f"P{i}"), amount=1_000_000) for i in range(people)
    ]
    case = _ordered_case(sh, *found)
    _past_deadline(case)
    for wrong in (exact - 1, exact + 1):
        with pytest.raises(RuleError) as refused:
            services.fine_propose(
                actor=STAFF,
                case_id=case.pk,
                kind="illegal_employment",
                amount_fen=wrong,
                reason="r",
            )
        assert refused.value.code == "fine_out_of_range"
    proposal = services.fine_propose(
        actor=STAFF, case_id=case.pk, kind="illegal_employment", amount_fen=exact, reason="r"
    )
    assert (proposal.persons, proposal.min_fen, proposal.max_fen) == (people, exact, exact)


def test_decision_closing_and_the_full_history(
    sh: Employer, django_capture_on_commit_callbacks: Any
) -> None:
    user = _hr_user(sh)
    case = _ordered_case(sh, finding("not_registered", sh, person(), amount=500_000))
    with pytest.raises(Conflict) as not_yet:  # the findings are not resolved: not rectified
        services.case_close(actor=STAFF, case_id=case.pk, reason="rectified")
    assert not_yet.value.code == "not_rectified"
    _past_deadline(case)
    with pytest.raises(Conflict):
        services.case_decide(
            actor=STAFF, case_id=case.pk, outcome="fine", reason="r"
        )  # no proposal
    with django_capture_on_commit_callbacks(execute=True):
        services.case_decide(
            actor=STAFF, case_id=case.pk, outcome="no_fine", reason="registered late, first offence"
        )
    assert Notification.objects.filter(user=user, kind="case_decided").exists()
    services.case_close(actor=STAFF, case_id=case.pk, reason="registration accepted")
    with pytest.raises(Conflict):
        services.case_close(actor=STAFF, case_id=case.pk, reason="again")
    case.refresh_from_db()
    assert case.status == "closed" and case.closed_on == today()
    actions = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert actions == ["opened", "issue_order", "decide", "close"]
    audited = set(
        AuditEvent.objects.filter(object_type="case", object_id=str(case.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"case.opened", "case.issue_order", "case.decide", "case.close"} <= audited


def test_a_rectified_case_closes_after_a_scan_finds_it_resolved(sh: Employer) -> None:
    b = bill(sh, "2025-09", date(2025, 10, 15), total=100_000)
    scan()
    case = _ordered_case(sh, Finding.objects.get(rule="unpaid_past_due"))
    pay(b, 100_000, date(2025, 11, 25))
    scan(AS_OF + timedelta(days=6))
    services.case_close(actor=STAFF, case_id=case.pk, reason="paid in full within the time limit")
    assert Case.objects.get(pk=case.pk).status == "closed"
