"""Corrections of issued bill lines that a decision orders (a mediation agreement, an arbitration
award, a judgment, the agency's decision on a dispute).

An issued line is never edited. A correction is an adjustment bill of the line's month holding, for
each line corrected, two entries: the **reversing** entry (the line's amounts with the opposite
sign, so the two cancel out) and the **new** entry (the amounts decided). The bill's total is what
the correction adds (negative: what the employer is owed back); each entry's note says what it
reverses or replaces and why. The bill is due by the region's adjustment rule counted from the day
it is issued, like the adjustments of a recalculation.

What is reversed is what the month says **as it stands** for that person and insurance at that
employer (the line and every later entry for it), not the line's own amounts: a second decision on
the same line (an appeal after mediation) replaces the first instead of reversing the original a
second time. Both entries carry ``BillLine.FLAG_DECIDED``: a later billing or recalculation run of
the month leaves a decided person-insurance alone (the amounts of a decision change only by another
decision) and still adjusts everything else the new inputs change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.billing import permissions
from expatsi.billing.models import Bill, BillKind, BillLine
from expatsi.employers.models import Employer
from expatsi.rules.dates import Month
from expatsi.rules.errors import Forbidden, NotFound, RuleError
from expatsi.rules.money import format_yuan
from expatsi.rules.regions import region

MAX_AMOUNT_FEN = 10_000_000_00  # ten million yuan a line: a typing slip beyond


@dataclass(frozen=True, slots=True)
class LineCorrection:
    """What one issued line should have said, in fen (the decided amounts; ``base``: the decided
    contribution base, None when the decision leaves it as it was)."""

    line_id: int
    employer_amount: int
    employee_amount: int
    base: int | None = None


@dataclass(frozen=True, slots=True)
class Correction:
    bill: Bill
    line_ids: tuple[int, ...]
    net_fen: int


def _amount(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError("invalid_amount", "a whole number of fen", field)
    if not 0 <= value <= MAX_AMOUNT_FEN:
        raise RuleError("invalid_amount", "from 0 to 10,000,000.00 yuan", field)
    return value


def _standing(
    employer_id: int, month: str, keys: set[tuple[int, int]]
) -> dict[tuple[int, int], tuple[int, int, int]]:
    """(person, insurance) → (employer sum, employee sum, latest base) over every entry of the
    employer's bills of ``month``: what the month says now, after earlier adjustments and decisions."""
    out: dict[tuple[int, int], tuple[int, int, int]] = {}
    entries = (
        BillLine.objects.filter(
            bill__employer_id=employer_id,
            bill__month=month,
            person_id__in={p for p, _ in keys},
            insurance__in={i for _, i in keys},
        )
        .order_by("pk")
        .values_list("person_id", "insurance", "employer_amount", "employee_amount", "base")
    )
    for person_id, insurance, er, ee, base in entries:
        key = (person_id, insurance)
        if key in keys:
            old_er, old_ee, _ = out.get(key, (0, 0, 0))
            out[key] = (old_er + er, old_ee + ee, base)
    return out


def correction_post(
    *,
    actor: Actor,
    employer_id: int,
    lines: Sequence[LineCorrection],
    reason: str,
    issued_on: date | None = None,
) -> Correction:
    """Post the correction of ``lines`` (all of one employer and one month) as reversing and new
    entries on a new adjustment bill; agency staff of the employer's region. Refused: a line of
    another employer or of another month (404 / 400), the same line twice, nothing to change."""
    if not lines:
        raise RuleError("no_lines", "choose at least one bill line", "lines")
    ids = [c.line_id for c in lines]
    if len(set(ids)) != len(ids):
        raise RuleError("duplicate_line", "a line is corrected at most once at a time", "lines")
    text = reason.strip()[:300]
    if not text:
        raise RuleError("reason_required", "give the reason", "reason")
    day = issued_on or timezone.localdate()
    with transaction.atomic():
        # the employer's lock, as a billing run takes it: one writer of its month's position at a time
        list(Employer.objects.select_for_update().filter(pk=employer_id).values_list("pk"))
        found = {
            line.pk: line
            for line in BillLine.objects.select_related("bill").filter(
                pk__in=ids, bill__employer_id=employer_id
            )
        }
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound("not_found", f"no bill line {missing[0]} of this employer", "lines")
        first = found[ids[0]].bill
        if not permissions.may_run_billing(actor, first.region_code):
            raise Forbidden("forbidden", "corrections are posted by the agency of the region", "")
        months = {found[i].bill.month for i in ids}
        if len(months) != 1:
            raise RuleError("one_month", "the lines belong to more than one month", "lines")
        keys = {(found[i].person_id, found[i].insurance) for i in ids}
        if len(keys) != len(ids):
            raise RuleError(
                "duplicate_line",
                "a person's insurance is corrected at most once at a time",
                "lines",
            )
        standing = _standing(employer_id, first.month, keys)
        rows: list[BillLine] = []
        net_er = net_ee = 0
        for c in lines:
            line = found[c.line_id]
            now_er, now_ee, now_base = standing[(line.person_id, line.insurance)]
            er = _amount(c.employer_amount, "employer_amount")
            ee = _amount(c.employee_amount, "employee_amount")
            base = now_base if c.base is None else _amount(c.base, "base")
            if er == now_er and ee == now_ee and base == now_base:
                raise RuleError(
                    "nothing_to_correct", f"line {line.pk} already says these amounts", "lines"
                )
            common = {
                "person_id": line.person_id,
                "insurance": line.insurance,
                "employer_rate": line.employer_rate,
                "employee_rate": line.employee_rate,
                "flags": line.flags | BillLine.FLAG_DECIDED,
            }
            rows.append(
                BillLine(
                    **common,
                    base=now_base,
                    employer_amount=-now_er,
                    employee_amount=-now_ee,
                    note=(
                        f"Reversal of line {line.pk} of bill {line.bill.number} as it stands: "
                        f"employer {format_yuan(now_er)}, employee {format_yuan(now_ee)}. {text}"
                    )[:300],
                )
            )
            rows.append(
                BillLine(
                    **common,
                    base=base,
                    employer_amount=er,
                    employee_amount=ee,
                    note=(
                        f"Corrected entry replacing line {line.pk} of bill {line.bill.number}: "
                        f"base {format_yuan(base)}, employer {format_yuan(er)}, employee "
                        f"{format_yuan(ee)}. {text}"
                    )[:300],
                )
            )
            net_er += er - now_er
            net_ee += ee - now_ee
        month = Month.parse(first.month)
        prefix = f"{first.region_code}-{month}-{employer_id:08d}-C"
        count = Bill.objects.filter(number__startswith=prefix).count()
        bill = Bill.objects.create(
            employer_id=employer_id,
            region_code=first.region_code,
            month=str(month),
            kind=BillKind.ADJUSTMENT,
            number=f"{prefix}{count + 1}",
            run=None,
            policy_version=first.policy_version,
            policy=first.policy,
            policy_status=first.policy_status,
            policy_sources=first.policy_sources,
            employer_total=net_er,
            employee_total=net_ee,
            due_date=region(first.region_code).adjustment_due_date(month, day),
            reason=f"Correction after a decision: {text}"[:300],
        )
        for row in rows:
            row.bill = bill
        BillLine.objects.bulk_create(rows)
        audit_record(
            actor=actor,
            action="bill.correction",
            object_type="bill",
            object_id=bill.pk,
            detail={
                "number": bill.number,
                "lines": ",".join(str(i) for i in ids),
                "amount": net_er + net_ee,
                "reason": text,
            },
        )
    return Correction(bill, tuple(ids), net_er + net_ee)
