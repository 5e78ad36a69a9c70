"""Every write of a pension paid abroad: the application, the agency's award, the monthly payment
run and the stop on death.

Why the award is fixed at the application: what the person saw (basic + individual-account
pension, each figure explained and marked CONFIRMED/…/UNCONFIRMED) is what the agency reviews and
what is paid; a later change of a policy table does not move an award already made.

Why the monthly run pays every month still owed: a month is owed from ``first_month`` to the run's
month (up to the month of death) while the pension is not suspended, and a month has at most one
live payout (a unique constraint). So a run made twice for the same month creates nothing new,
and the first run after a suspension is lifted pays every suspended month (back pay).
Months are paid through the same payment runs, pain.001 file and return file as the lump sums
(services.payment_run, services.payments_reconcile).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.benefits import approval, ledger, services
from expatsi.benefits.models import (
    DECIDABLE_PENSION,
    LIVE_PENSION,
    PaymentRun,
    Payout,
    PayoutKind,
    PayoutStatus,
    Pension,
    PensionOverpayment,
    PensionStatus,
)
from expatsi.benefits.permissions import PensionAct, require_pension
from expatsi.billing.models import BillLine
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment
from expatsi.insurance.selectors import persons_visible
from expatsi.people.models import Person
from expatsi.rules.accounts import contribution_months, statement
from expatsi.rules.dates import Month
from expatsi.rules.deadlines import deadline
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from expatsi.rules.money import format_yuan
from expatsi.rules.pension import MAX_INDEX, PensionBase, pension_award, pension_bases
from expatsi.rules.policy import Status

CONVENTION = Status.CONVENTION
INDEX_PLACES = Decimal("0.0001")


# --- the award -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Where a person stands on ``on``: statutory age reached, months counted and still missing."""

    person_id: int
    on: date
    retirement_month: Month
    age_text: str
    at_age: bool
    months: int
    minimum: int

    @property
    def missing(self) -> int:
        return max(0, self.minimum - self.months)


def eligibility(person: Person, on: date) -> Eligibility:
    """Contribution months of the open account (every employment and stay since the last lump
    sum, which ended the earlier periods), against the minimum for the year of statutory age."""
    ret = ledger.retirement_of(person)
    months = contribution_months(ledger.current_credits(person.pk))
    return Eligibility(
        person_id=person.pk,
        on=on,
        retirement_month=ret.retirement_month,
        age_text=ret.age_text,
        at_age=Month.of(on) >= ret.retirement_month,
        months=months,
        minimum=ret.min_contribution_months,
    )


def refuse_unless_eligible(e: Eligibility) -> None:
    """The two refusals of a pension application, each with its specifics for the page."""
    if not e.at_age:
        raise RuleError(
            "before_pension_age",
            f"a monthly pension starts at the statutory pension age ({e.age_text}, from "
            f"{e.retirement_month}); apply from that month",
            "person_id",
            {"age": e.age_text, "month": str(e.retirement_month)},
        )
    if e.missing:
        raise RuleError(
            "below_minimum_contribution",
            f"{e.months} contribution months are on record; a monthly pension needs {e.minimum}: "
            f"{e.missing} months are missing. Options: keep contributing (work in China again) "
            "until the minimum is reached, or pay the missing months up to the minimum in one sum "
            "(State Council Measures on the retirement age, Art. 2); or keep the account, or "
            "terminate the relationship and take the balance as a lump sum",
            "months",
            {"months": e.months, "minimum": e.minimum, "missing": e.missing},
        )


def _region(person_id: int) -> str:
    """The region of the latest employment: its agency awards and pays the pension."""
    emp = Employment.objects.filter(person_id=person_id).order_by("-start_date", "-pk").first()
    if emp is None:
        raise RuleError(
            "no_employment", "no employment in China is on record for this person", "person_id"
        )
    return Employer.objects.values_list("region_code", flat=True).get(pk=emp.employer_id)


def _base(region: str, year: int) -> tuple[PensionBase, bool]:
    """The calculation base of the year of the first month; the latest on file when that year's
    is not published yet (True: held over, a CONVENTION)."""
    found = [b for (r, _y), b in pension_bases().bases.items() if r == region]
    exact = [b for b in found if b.year == year]
    if exact:
        return exact[0], False
    earlier = [b for b in found if b.year < year]
    if not earlier:
        raise RuleError(
            "no_pension_base",
            f"no pension calculation base for region {region} in or before {year} is on file",
            "person_id",
        )
    return max(earlier, key=lambda b: b.year), True


def _index(person_id: int, calc: PensionBase) -> tuple[Decimal, str, Status]:
    """Mean pension contribution base of the regular bills on record over the calculation base,
    as the projected-pension page computes it (CONVENTION); 1.0 without any base on record."""
    bases = list(
        BillLine.objects.filter(
            person_id=person_id, insurance=0, base__gt=0, bill__kind="regular"
        ).values_list("base", flat=True)
    )
    if not bases:
        return (
            Decimal("1.0"),
            "No pension contribution base on record: index 1.0 (CONVENTION).",
            CONVENTION,
        )
    mean = Fraction(sum(bases), len(bases))
    exact = mean / calc.amount
    value = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        INDEX_PLACES, rounding=ROUND_HALF_UP
    )
    value = min(max(value, INDEX_PLACES), MAX_INDEX)
    return (
        value,
        f"Index = mean pension base on record {format_yuan(round(mean))} ({len(bases)} month(s)) "
        f"/ calculation base {format_yuan(calc.amount)} = {value} (CONVENTION: rounded half up to "
        "4 decimals, capped at 3).",
        CONVENTION,
    )


def _line(
    key: str, explanation: list[str], status: Status, *, amount: int | None = None, text: str = ""
) -> dict[str, Any]:
    return {
        "key": key,
        "amount": amount,
        "value": format_yuan(amount) if amount is not None else text,
        "explanation": explanation,
        "status": status.value,
    }


@dataclass(frozen=True, slots=True)
class AwardDraft:
    first_month: Month
    region: str
    basic: int
    account: int
    total: int
    lines: list[dict[str, Any]]
    status: Status


def award_draft(person: Person, on: date) -> AwardDraft:
    """The award for an application filed on ``on``: paid from the month after (never before the
    month of statutory age), computed by the rules engine (rules/pension.py) with the balance of
    the open account on ``on`` and the age at the first month (months divisor)."""
    e = eligibility(person, on)
    refuse_unless_eligible(e)
    first = max(Month.of(on).plus(1), e.retirement_month)
    region = _region(person.pk)
    calc, held = _base(region, first.year)
    index, index_text, index_status = _index(person.pk, calc)
    st = statement(ledger.current_credits(person.pk), on)
    age_months = first.minus(Month.of(person.birth_date))
    award = pension_award(
        region=calc.region,
        year=calc.year,
        contribution_months=e.months,
        index=index,
        balance_fen=st.balance,
        age_months=age_months,
    )
    first_text = (
        f"First month paid = the month after the application ({Month.of(on)} + 1), not before "
        f"the month of statutory age {e.retirement_month}: {first} (CONVENTION)."
    )
    base_status = calc.provenance.status
    base_steps = [award.steps[0]]
    if held:
        base_status = Status.weakest([base_status, CONVENTION])
        base_steps.append(
            f"No base for {first.year} is on file: the {calc.year} base stands for it "
            "(CONVENTION: the latest base on file)."
        )
    formula = pension_bases().formula.status
    basic_status = Status.weakest([base_status, formula, index_status])
    divisor_status = Status.weakest([p.status for p in award.divisor.provenance])
    balance_status = st.status
    account_status = Status.weakest([balance_status, divisor_status, formula])
    minimum_status = Status.weakest([p.status for p in award.provenance[-1:]])
    lines = [
        _line("first_month", [first_text], CONVENTION, text=str(first)),
        _line(
            "months",
            [
                "Months with a net positive pension credit, every employment and stay since the "
                "account was opened (earlier periods add up).",
                f"Minimum for reaching statutory age in {e.retirement_month.year}: {e.minimum}.",
            ],
            minimum_status,
            text=f"{e.months} / {e.minimum}",
        ),
        _line("calc_base", base_steps, base_status, amount=calc.amount),
        _line("index", [index_text], index_status, text=str(index)),
        _line(
            "basic",
            [award.steps[1], award.steps[2], award.steps[3]],
            basic_status,
            amount=award.basic_pension,
        ),
        _line(
            "balance",
            [*st.explanation, f"Balance on {on.isoformat()}: {format_yuan(st.balance)}."],
            balance_status,
            amount=st.balance,
        ),
        _line("divisor", [award.divisor.explanation], divisor_status, text=award.divisor.text),
        _line("account", [award.steps[5]], account_status, amount=award.account_pension),
        _line(
            "total",
            [award.steps[6]],
            Status.weakest([basic_status, account_status]),
            amount=award.total,
        ),
    ]
    return AwardDraft(
        first_month=first,
        region=region,
        basic=award.basic_pension,
        account=award.account_pension,
        total=award.total,
        lines=lines,
        status=Status.weakest([Status(line["status"]) for line in lines]),
    )


def pension_apply(
    *,
    actor: Actor,
    person_id: int,
    bank_details: services.BankDetails,
    password: str = "",
    today: date | None = None,
) -> Pension:
    """The application for a monthly pension: by the person (their password typed again, their
    own record only) or by agency staff for a person at the counter. Refused before the
    statutory age and short of the minimum contribution months (with the months missing)."""
    on = today or timezone.localdate()
    holder = validation.required_text(bank_details.holder, "holder", max_length=140)
    person = persons_visible(actor).filter(pk=person_id).first()
    if person is None:
        raise NotFound("not_found", f"no person {person_id} that you may see", "person_id")
    if actor.kind == "employee":
        user = (
            get_user_model().objects.filter(pk=actor.user_id).first()
            if actor.user_id is not None
            else None
        )
        if user is None or not password or not user.check_password(password):
            raise RuleError(
                "wrong_password", "type your password again to sign the application", "password"
            )
    region = _region(person.pk)
    require_pension(actor, PensionAct.APPLY, person_id=person.pk, region_code=region)
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        if Pension.objects.filter(person=person, status__in=LIVE_PENSION).exists():
            raise Conflict(
                "pension_already_applied",
                "a pension application or award is already on record for this person",
                "person_id",
            )
        draft = award_draft(person, on)
        account = services.bank_account_store(
            person.pk, holder, services.bank_checked(bank_details)
        )
        try:
            with transaction.atomic():
                pension = Pension.objects.create(
                    person=person,
                    region_code=draft.region,
                    applied_on=on,
                    applied_by=actor.label[:200],
                    by_agency=actor.kind == "agency",
                    first_month=str(draft.first_month),
                    basic=draft.basic,
                    account=draft.account,
                    total=draft.total,
                    lines=draft.lines,
                    figures_status=draft.status.value,
                    bank_account=account,
                )
        except IntegrityError:
            raise Conflict(
                "pension_already_applied",
                "a pension application or award is already on record for this person",
                "person_id",
            ) from None
        audit_record(
            actor=actor,
            action="pension.apply",
            object_type="pension",
            object_id=pension.pk,
            person_id=person.pk,
            detail={
                "total": draft.total,
                "basic": draft.basic,
                "account": draft.account,
                "first_month": str(draft.first_month),
                "status": draft.status.value,
                "account_masked": account.masked_number,
            },
        )
    return pension


# --- the agency's review ---------------------------------------------------------------------------


def pensions_visible(actor: Actor) -> QuerySet[Pension]:
    """The person their own; agency staff those of their regions and people they may see."""
    qs = Pension.objects.select_related("person", "bank_account")
    if actor.kind == "employee":
        return qs.filter(person_id=actor.person_id) if actor.person_id else qs.none()
    if actor.kind == "system":
        return qs
    if actor.kind == "agency":
        qs = qs.filter(person__in=persons_visible(actor))
        return qs if actor.covers_every_region else qs.filter(region_code__in=actor.regions or ())
    return qs.none()


def pension_get(*, actor: Actor, pension_id: int, audit: bool = True) -> Pension:
    pension = pensions_visible(actor).filter(pk=pension_id).first()
    if pension is None:
        raise NotFound("not_found", f"no pension {pension_id} that you may see", "pension_id")
    if audit and actor.kind == "agency":
        audit_record(
            actor=actor,
            action="pension.read",
            object_type="pension",
            object_id=pension.pk,
            person_id=pension.person_id,
        )
    return pension


def _lock(actor: Actor, pension_id: int) -> Pension:
    pension_get(actor=actor, pension_id=pension_id, audit=False)
    return Pension.objects.select_for_update().select_related("person").get(pk=pension_id)


def pension_decide(
    *,
    actor: Actor,
    pension_id: int,
    decision: str,
    identity_checked: bool = False,
    note: str = "",
    reason: str = "",
    today: date | None = None,
) -> Pension:
    """Award (after an identity check) or reject. A monthly pension above the payout threshold
    (services.second_approval_above) needs a second, different agency user's approval too (four
    eyes). The award starts the proof-of-life clock: the review with the identity check is the
    first verification (CONVENTION)."""
    if decision not in ("approve", "reject"):
        raise RuleError("invalid_decision", "decide approve or reject", "decision")
    note = validation.text(note, "note", max_length=500)
    day = today or timezone.localdate()
    with transaction.atomic():
        pension = _lock(actor, pension_id)
        require_pension(
            actor, PensionAct.REVIEW, person_id=pension.person_id, region_code=pension.region_code
        )
        if pension.status not in DECIDABLE_PENSION:
            raise Conflict("already_decided", "this application has already been decided", "")
        second = pension.status == PensionStatus.SECOND_APPROVAL
        approval.refuse_same_reviewer(pension, actor, second=second, what="pension", field="")
        approval.stamp(pension, actor, second=second, note=note)
        if decision == "reject":
            pension.rejection_reason = validation.required_text(reason, "reason", max_length=500)
            pension.status = PensionStatus.REJECTED
        else:
            if not identity_checked and not second:
                raise RuleError(
                    "identity_not_checked",
                    "check the applicant's identity before approving",
                    "identity_checked",
                )
            if not second and pension.total > services.second_approval_above():
                pension.status = PensionStatus.SECOND_APPROVAL
            else:
                pension.status = PensionStatus.AWARDED
                pension.verified_on = day
                pension.proof_due = deadline("proof_of_life", day).due
        pension.save()
        audit_record(
            actor=actor,
            action="pension.reject" if decision == "reject" else "pension.award",
            object_type="pension",
            object_id=pension.pk,
            person_id=pension.person_id,
            detail={
                "stage": "second" if second else "first",
                "status": pension.status,
                "total": pension.total,
                "note": note,
                "reason": pension.rejection_reason,
                "proof_due": pension.proof_due,
            },
        )
    return pension


# --- the monthly payment run -----------------------------------------------------------------------


def months_owed(pension: Pension, upto: Month) -> list[Month]:
    """Months from the first month to ``upto`` (and to the month of death) without a live payout;
    none while the pension is suspended or not awarded."""
    if pension.status != PensionStatus.AWARDED:
        return []
    last = upto
    if pension.last_month:
        last = min(last, Month.parse(pension.last_month))
    live = set(
        Payout.objects.filter(
            pension=pension,
            kind=PayoutKind.PENSION,
            status__in=[PayoutStatus.PENDING, PayoutStatus.SENT, PayoutStatus.PAID],
        ).values_list("month", flat=True)
    )
    owed: list[Month] = []
    m = Month.parse(pension.first_month)
    while m <= last:
        if str(m) not in live:
            owed.append(m)
        m = m.plus(1)
    return owed


@dataclass
class PensionRun:
    month: Month
    created: int
    amount: int
    run: PaymentRun | None


def pension_month_run(
    *,
    actor: Actor,
    region_code: str,
    month: Month,
    execution_date: date | None = None,
) -> PensionRun:
    """One payout per awarded pension per month owed up to ``month`` (back pay included), then
    the region's payment run (pain.001). Run twice for the same month: nothing new is created,
    and no second file is written for the same payouts."""
    require_pension(actor, PensionAct.PAY, region_code=region_code)
    if month > Month.of(timezone.localdate()):
        raise RuleError("future_month", "a month is paid in or after that month", "month")
    created = 0
    amount = 0
    with transaction.atomic():
        pensions = list(
            Pension.objects.select_for_update()
            .filter(region_code=region_code, status=PensionStatus.AWARDED)
            .order_by("pk")
        )
        for pension in pensions:
            for m in months_owed(pension, month):
                try:
                    with transaction.atomic():
                        payout = Payout.objects.create(
                            pension=pension,
                            month=str(m),
                            person_id=pension.person_id,
                            region_code=pension.region_code,
                            kind=PayoutKind.PENSION,
                            amount=pension.total,
                            currency=pension.bank_account.currency,
                            bank_account=pension.bank_account,
                            end_to_end_id=f"PEN{pension.pk}M{m.year}{m.month:02d}"
                            f"{uuid.uuid4().hex[:6].upper()}",
                            created_by=actor.label[:200],
                        )
                except IntegrityError:  # pragma: no cover - rows locked above
                    continue
                created += 1
                amount += pension.total
                audit_record(
                    actor=actor,
                    action="pension.payout",
                    object_type="payout",
                    object_id=payout.pk,
                    person_id=pension.person_id,
                    detail={"pension": pension.pk, "month": str(m), "amount": pension.total},
                )
    run = services.payment_run(actor=actor, region_code=region_code, execution_date=execution_date)
    return PensionRun(month=month, created=created, amount=amount, run=run)


# --- death ---------------------------------------------------------------------------------------


def pension_stop_on_death(*, actor: Actor, person: Person, died_on: date) -> Pension | None:
    """Stop the pension from the month after the month of death. Months already sent or paid
    after it are recorded as an overpayment to recover; months not yet sent are cancelled. None
    when the person has no pension being paid. Idempotent: a second call changes nothing."""
    validation.plausible_date(died_on, "died_on")
    if died_on > timezone.localdate():
        raise RuleError("future_date", "the date of death cannot be in the future", "died_on")
    if actor.kind not in ("agency", "system"):
        raise Forbidden("forbidden", "only the agency stops a pension", "")
    with transaction.atomic():
        pension = (
            Pension.objects.select_for_update()
            .filter(person=person)
            .filter(Q(status__in=LIVE_PENSION) | Q(status=PensionStatus.STOPPED))
            .order_by("-pk")
            .first()
        )
        if pension is None:
            return None
        require_pension(
            actor, PensionAct.STOP, person_id=pension.person_id, region_code=pension.region_code
        )
        if pension.status == PensionStatus.STOPPED:
            return pension
        last = Month.of(died_on)
        after = Payout.objects.select_for_update().filter(
            pension=pension, kind=PayoutKind.PENSION, month__gt=str(last)
        )
        cancelled = after.filter(status=PayoutStatus.PENDING, run__isnull=True).update(
            status=PayoutStatus.CANCELLED
        )
        overpaid = list(
            after.filter(status__in=[PayoutStatus.SENT, PayoutStatus.PAID]).order_by("month")
        )
        was = pension.status
        pension.status = PensionStatus.STOPPED
        pension.died_on = died_on
        pension.last_month = str(last)
        pension.save(update_fields=["status", "died_on", "last_month"])
        if overpaid:
            PensionOverpayment.objects.create(
                pension=pension,
                person=person,
                died_on=died_on,
                months=[p.month for p in overpaid],
                amount=sum(p.amount for p in overpaid),
                recorded_by=actor.label[:200],
            )
        audit_record(
            actor=actor,
            action="pension.stop_death",
            object_type="pension",
            object_id=pension.pk,
            person_id=person.pk,
            detail={
                "died_on": died_on,
                "was": was,
                "last_month": str(last),
                "cancelled": cancelled,
                "overpaid_months": [p.month for p in overpaid],
                "overpaid": sum(p.amount for p in overpaid),
            },
        )
    return pension
