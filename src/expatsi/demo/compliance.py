"""The compliance part of the demo: the checks run once over the demo data, and one enforcement
case taken as far as the order to rectify, so the dashboard, the findings and the cases pages (and
the employer's inbox) have something to show from the first start.

Everything goes through the services with the ``SYSTEM`` actor, like the rest of the demo."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from expatsi.access.actors import SYSTEM
from expatsi.cases.models import Case, Finding, FindingStatus, Scan
from expatsi.cases.services import case_open, compliance_scan, order_issue

ORDER_DAYS = 30
# Preferred in this order for the demo case: the late payer's unpaid bill (demo/data.py _bills)
# reads most plainly; any other finding will do on a data set without it.
CASE_RULES = ("unpaid_past_due", "not_registered", "months_not_billed")
REQUIREMENTS = (
    "Pay the contributions in arrears and the late fee accrued to the day of payment. / "
    "缴纳欠缴的社会保险费及截至缴费之日的滞纳金。"
)


def load_compliance(today: date) -> tuple[Scan, Case | None]:
    """Run the checks as of ``today`` for every region; open a case from one finding and issue
    its order (deadline 30 days from the real today, as the service requires a future one)."""
    scan = compliance_scan(actor=SYSTEM, as_of=today)
    open_findings = Finding.objects.filter(case__isnull=True, resolved_on__isnull=True).exclude(
        status=FindingStatus.DISMISSED
    )
    target = None
    for rule in CASE_RULES:
        target = open_findings.filter(rule=rule).order_by("pk").first()
        if target is not None:
            break
    target = target or open_findings.order_by("pk").first()
    if target is None:
        return scan, None
    case = case_open(actor=SYSTEM, finding_ids=[target.pk])
    case = order_issue(
        actor=SYSTEM,
        case_id=case.pk,
        deadline=timezone.localdate() + timedelta(days=ORDER_DAYS),
        requirements=REQUIREMENTS,
    )
    return scan, case
