"""Every write of a departure: open, keep, sign the termination, decide, pay, reconcile.

Each service takes an explicit ``actor``, runs in one transaction, locks the row it moves, checks
the actor (permissions.py) and the current state, and writes an audit event. Money rows are
written once: a payout's amount and bank account never change; a payout the bank rejects gets a
reversing entry, and a new payout is issued.

Guarantees of the payment run: it takes the region's approved payouts not yet in a run, writes the
pain.001 file and marks them sent in the same transaction, so a run is all or nothing (a process
killed half-way leaves nothing behind) and a payout is in at most one run (the update is
conditional on ``run IS NULL``): running it twice pays once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.benefits import approval, bank, ledger, notices, pain001, permissions
from expatsi.benefits.models import (
    LIVE_APPLICATION,
    LIVE_CASE,
    SENT_KINDS,
    AccountClosure,
    ApplicationStatus,
    BankAccount,
    CaseStatus,
    ClaimStatus,
    DeathReport,
    DepartureCase,
    Heir,
    InheritanceClaim,
    PaymentRun,
    Payout,
    PayoutKind,
    PayoutStatus,
    ProgrammeApplication,
    ProgrammeStatus,
    SignedVia,
    TerminationApplication,
    Trigger,
)
from expatsi.benefits.permissions import Act, allowed, require, require_open_departure_on
from expatsi.benefits.selectors import application_get, case_get, departure_found
from expatsi.benefits.selectors_death import refuse_if_deceased
from expatsi.billing.services import account_close
from expatsi.insurance.models import Employment
from expatsi.insurance.selectors import persons_visible
from expatsi.people.models import Person
from expatsi.rules.dates import Month, parse_date
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RowError, RuleError

DECLARE_AHEAD = timedelta(days=90)  # a departure may be declared this far ahead
SIGNED_FORM_MAX_BYTES = 2 * 1024 * 1024
SIGNED_FORM_TYPES = {
    b"%PDF": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG": "image/png",
}


def second_approval_above() -> int:
    """Payouts above this many fen need a second agency user's approval (four eyes)."""
    return int(getattr(settings, "EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE", 5_000_000))


def debtor() -> pain001.Debtor:
    return pain001.Debtor(
        name=getattr(settings, "EXPATSI_PAYOUT_DEBTOR_NAME", "Social Insurance Agency"),
        account=getattr(settings, "EXPATSI_PAYOUT_DEBTOR_ACCOUNT", "0000000000000000"),
        bic=getattr(settings, "EXPATSI_PAYOUT_DEBTOR_BIC", "BKCHCNBJXXX"),
    )


# --- opening a departure -------------------------------------------------------------------------


def _region_of(person_id: int, on: date) -> str:
    """The region of the employer of the employment that ended last (or runs on ``on``)."""
    emp = (
        Employment.objects.filter(person_id=person_id, start_date__lte=on)
        .select_related("employer")
        .order_by(F("end_date").desc(nulls_first=True), "-start_date", "-pk")
        .first()
    )
    if emp is None:
        raise RuleError(
            "no_employment", "no employment in China is on record for this person", "person_id"
        )
    return emp.employer.region_code


def departure_open(
    *, actor: Actor, person_id: int, departure_date: date, trigger: str = Trigger.DECLARED
) -> tuple[DepartureCase, bool]:
    """Open the person's departure (or return the one already open). A person declares their own;
    agency staff open one for a person who declares at the counter; the daily job opens those
    that a deregistered card, an ended employment or an exit record makes known."""
    if trigger not in Trigger.values:
        raise RuleError("invalid_trigger", f"unknown trigger {trigger!r}", "trigger")
    require_open_departure_on(actor, trigger)
    validation.plausible_date(departure_date, "departure_date")
    if departure_date > timezone.localdate() + DECLARE_AHEAD:
        raise RuleError(
            "departure_too_far",
            "declare a departure at most 90 days ahead",
            "departure_date",
        )
    person = persons_visible(actor).filter(pk=person_id).first()
    if person is None:
        raise NotFound("not_found", f"no person {person_id} that you may see", "person_id")
    refuse_if_deceased(person.pk)
    region = _region_of(person.pk, departure_date)
    require(actor, Act.DECLARE, person_id=person.pk, region_code=region)
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        live = DepartureCase.objects.filter(person=person, status__in=LIVE_CASE).first()
        if live is not None:
            return live, False
        case = DepartureCase.objects.create(
            person=person,
            region_code=region,
            trigger=trigger,
            departure_date=departure_date,
            opened_by=actor.label[:200],
        )
        audit_record(
            actor=actor,
            action="departure.open",
            object_type="departure",
            object_id=case.pk,
            person_id=person.pk,
            detail={"trigger": trigger, "departure_date": departure_date, "region": region},
        )
        notices.departure_opened(case)
    return case, True


def departures_detect(*, actor: Actor, today: date | None = None) -> int:
    """Open a case for every person whose departure is known and not yet covered (the daily
    job): a deregistered card, an exit after the last employment ended, or the end of the last
    employment. Idempotent: a covered departure is not opened again."""
    require(actor, Act.DECLARE, region_code="")
    day = today or timezone.localdate()
    candidates = set(
        Employment.objects.filter(end_date__isnull=False, end_date__lt=day).values_list(
            "person_id", flat=True
        )
    )
    candidates -= set(DeathReport.objects.values_list("person_id", flat=True))  # frozen
    opened = 0
    for person_id in sorted(candidates):
        found = departure_found(person_id, day)
        if found is None:
            continue
        _case, created = departure_open(
            actor=actor, person_id=person_id, departure_date=found.on, trigger=found.trigger
        )
        opened += int(created)
    return opened


def _lock_case(actor: Actor, case_id: int) -> DepartureCase:
    case_get(actor=actor, case_id=case_id, audit=False)  # in scope, or not found
    return DepartureCase.objects.select_for_update().select_related("person").get(pk=case_id)


def departure_keep(*, actor: Actor, case_id: int) -> DepartureCase:
    """The person keeps the individual account: contribution periods add up when they work in
    China again (Order No. 16 Art. 5). The case is closed; a later declaration opens a new one."""
    with transaction.atomic():
        case = _lock_case(actor, case_id)
        require(actor, Act.CHOOSE, person_id=case.person_id, region_code=case.region_code)
        if case.status != CaseStatus.OPEN:
            raise Conflict(
                "case_not_open", f"this departure is {case.status}: nothing to choose", "case_id"
            )
        case.status = CaseStatus.KEPT
        case.chosen_at = timezone.now()
        case.save(update_fields=["status", "chosen_at"])
        audit_record(
            actor=actor,
            action="departure.keep",
            object_type="departure",
            object_id=case.pk,
            person_id=case.person_id,
        )
    return case


# --- the written application ---------------------------------------------------------------------


@dataclass(frozen=True)
class BankDetails:
    holder: str
    country: str
    iban: str = ""
    account_number: str = ""
    bank_code: str = ""
    bic: str = ""
    currency: str = ""


def bank_checked(details: BankDetails, *, in_china: bool = False) -> bank.CheckedAccount:
    """The details in compact form, or the first problem as a RuleError naming its field."""
    return bank.validate(
        country=details.country,
        iban=details.iban,
        account_number=details.account_number,
        bank_code=details.bank_code,
        bic=details.bic,
        currency=details.currency,
        in_china=in_china,
    )


def bank_account_store(person_id: int, holder: str, checked: bank.CheckedAccount) -> BankAccount:
    """A checked account, kept (encrypted, masked when shown) for the payouts to ``person_id``'s
    account: the person's own, or an heir's share of a deceased person's."""
    return BankAccount.objects.create(
        person_id=person_id,
        holder=holder,
        country=checked.country,
        iban=checked.iban,
        account_number=checked.account_number,
        bank_code=checked.bank_code,
        bic=checked.bic,
        currency=checked.currency,
    )


def _signed_form_type(data: bytes) -> str:
    if not data:
        raise RuleError("signed_form_required", "upload the signed application form", "signed_form")
    if len(data) > SIGNED_FORM_MAX_BYTES:
        raise RuleError(
            "signed_form_too_large", "the signed form must be at most 2 MB", "signed_form"
        )
    for magic, kind in SIGNED_FORM_TYPES.items():
        if data.startswith(magic):
            return kind
    raise RuleError(
        "signed_form_type", "the signed form must be a PDF, JPEG or PNG file", "signed_form"
    )


def refuse_at_pension_age(person: Person, closing_date: date) -> None:
    ret = ledger.pension_age_reached(person, closing_date)
    if ret is not None:
        raise RuleError(
            "pension_age_reached",
            f"on {closing_date.isoformat()} you have reached the statutory pension age "
            f"({ret.age_text}, from {ret.retirement_month}): the lump sum is paid only before it "
            "(Order No. 16 Art. 5); the pension route applies — apply for a monthly pension, "
            "paid abroad as well",
            "closing_date",
            {"age": ret.age_text, "month": str(ret.retirement_month)},
        )


def termination_apply(
    *,
    actor: Actor,
    case_id: int,
    bank_details: BankDetails,
    declaration: bool,
    password: str = "",
    signed_form: bytes | None = None,
    closing_date: date | None = None,
) -> TerminationApplication:
    """The written application to terminate the relationship and take the lump sum. Signed by
    the person in the portal (``password`` typed again) or as a signed form (``signed_form``,
    uploaded by the person or by agency staff). The amount and statement are fixed here."""
    today = timezone.localdate()
    closing = closing_date or today
    validation.plausible_date(closing, "closing_date")
    if closing > today:
        raise RuleError("future_date", "the closing date cannot be in the future", "closing_date")
    holder = validation.required_text(bank_details.holder, "holder", max_length=140)
    with transaction.atomic():
        case = _lock_case(actor, case_id)
        person = case.person
        via = SignedVia.UPLOAD if signed_form is not None else SignedVia.PORTAL
        require(
            actor,
            Act.UPLOAD_FORM if via == SignedVia.UPLOAD else Act.SIGN,
            person_id=person.pk,
            region_code=case.region_code,
        )
        live = TerminationApplication.objects.filter(person=person, status__in=LIVE_APPLICATION)
        if case.status == CaseStatus.TERMINATING or live.exists():
            raise Conflict(
                "termination_already_applied",
                "a termination application is already under way for you: a second one is not taken",
                "case_id",
            )
        if case.status != CaseStatus.OPEN:
            raise Conflict(
                "case_not_open", f"this departure is {case.status}: nothing to apply for", "case_id"
            )
        if closing < case.departure_date:
            raise RuleError(
                "closing_before_departure",
                f"the closing date cannot be before the departure on {case.departure_date}",
                "closing_date",
            )
        if not declaration:
            raise RuleError(
                "declaration_required",
                "confirm that you apply to terminate your social insurance relationship",
                "declaration",
            )
        form_type = ""
        if via == SignedVia.UPLOAD:
            form_type = _signed_form_type(signed_form or b"")
        else:
            user = (
                get_user_model().objects.filter(pk=actor.user_id).first()
                if actor.user_id is not None
                else None
            )
            if user is None or not password or not user.check_password(password):
                raise RuleError(
                    "wrong_password", "type your password again to sign the application", "password"
                )
        refuse_if_deceased(person.pk, "case_id")
        refuse_at_pension_age(person, closing)
        lump = ledger.lump_sum_on(person.pk, closing)
        if lump.amount <= 0:
            raise RuleError(
                "nothing_to_pay",
                "the individual account has no balance to pay out",
                "closing_date",
            )
        account = bank_account_store(person.pk, holder, bank_checked(bank_details))
        try:
            with transaction.atomic():
                app = TerminationApplication.objects.create(
                    case=case,
                    person=person,
                    closing_date=closing,
                    amount=lump.amount,
                    statement={
                        "years": [y.as_dict() for y in lump.statement.years],
                        "explanation": list(lump.explanation),
                        "status": lump.status.value,
                        "provisional": lump.provisional,
                    },
                    bank_account=account,
                    signed_via=via,
                    signed_by_id=actor.user_id,
                    signed_form=signed_form if via == SignedVia.UPLOAD else None,
                    signed_form_type=form_type,
                )
        except IntegrityError:
            raise Conflict(
                "termination_already_applied",
                "a termination application is already under way for you: a second one is not taken",
                "case_id",
            ) from None
        case.status = CaseStatus.TERMINATING
        case.chosen_at = timezone.now()
        case.save(update_fields=["status", "chosen_at"])
        audit_record(
            actor=actor,
            action="termination.apply",
            object_type="termination",
            object_id=app.pk,
            person_id=person.pk,
            detail={
                "case": case.pk,
                "amount": lump.amount,
                "closing_date": closing,
                "signed_via": via,
                "account": account.masked_number,
                "currency": account.currency,
            },
        )
        notices.application_received(app)
    return app


# --- the agency's decision -----------------------------------------------------------------------


def _lock_application(actor: Actor, termination_id: int) -> TerminationApplication:
    application_get(actor=actor, termination_id=termination_id, audit=False)
    return (
        TerminationApplication.objects.select_for_update()
        .select_related("case", "person", "bank_account")
        .get(pk=termination_id)
    )


def _issue_payout(
    actor: Actor, app: TerminationApplication, account: BankAccount | None = None
) -> Payout:
    """A new payout of the application's amount, to ``account`` (default: the one signed for)."""
    account = account or app.bank_account
    n = Payout.objects.filter(application=app, kind=PayoutKind.PAYOUT).count() + 1
    payout = Payout.objects.create(
        application=app,
        person=app.person,
        region_code=app.case.region_code,
        amount=app.amount,
        currency=account.currency,
        bank_account=account,
        end_to_end_id=f"LS{app.pk:010d}N{n:03d}",
        created_by=actor.label[:200],
    )
    audit_record(
        actor=actor,
        action="payout.create",
        object_type="payout",
        object_id=payout.pk,
        person_id=app.person_id,
        detail={"termination": app.pk, "amount": app.amount, "end_to_end_id": payout.end_to_end_id},
    )
    return payout


def termination_decide(
    *,
    actor: Actor,
    termination_id: int,
    decision: str,
    identity_checked: bool = False,
    note: str = "",
    reason: str = "",
) -> TerminationApplication:
    """Approve or reject. Approval needs the identity check and every month up to the closing
    date billed and paid; above the threshold a second, different agency user approves too."""
    if decision not in ("approve", "reject"):
        raise RuleError("invalid_decision", "decide approve or reject", "decision")
    note = validation.text(note, "note", max_length=500)
    with transaction.atomic():
        app = _lock_application(actor, termination_id)
        require(actor, Act.REVIEW, person_id=app.person_id, region_code=app.case.region_code)
        if app.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.SECOND_APPROVAL):
            raise Conflict(
                "already_decided", "this application has already been decided", "decision"
            )
        second = app.status == ApplicationStatus.SECOND_APPROVAL
        approval.refuse_same_reviewer(app, actor, second=second)
        if decision == "reject":
            text = validation.required_text(reason, "reason", max_length=500)
            app.status = ApplicationStatus.REJECTED
            app.rejection_reason = text
            approval.stamp(app, actor, second=second, note=note)
            app.save()
            DepartureCase.objects.filter(pk=app.case_id).update(status=CaseStatus.OPEN)
            audit_record(
                actor=actor,
                action="termination.reject",
                object_type="termination",
                object_id=app.pk,
                person_id=app.person_id,
                detail={"reason": text, "stage": "second" if second else "first"},
            )
            notices.application_rejected(app)
            return app
        if not identity_checked:
            raise RuleError(
                "identity_not_checked",
                "check the applicant's identity before approving",
                "identity_checked",
            )
        refuse_if_deceased(app.person_id, "decision")
        unsettled = ledger.unsettled_months(app.person_id, app.closing_date)
        if unsettled:
            raise Conflict(
                "months_not_settled",
                f"the application waits until every month is settled: {unsettled.text()}",
                "closing_date",
                {"unbilled": ", ".join(unsettled.unbilled), "unpaid": ", ".join(unsettled.unpaid)},
            )
        needs_second = app.amount > second_approval_above()
        approval.stamp(app, actor, second=second, note=note)
        if second:
            app.status = ApplicationStatus.APPROVED
        else:
            app.identity_checked = True
            app.status = (
                ApplicationStatus.SECOND_APPROVAL if needs_second else ApplicationStatus.APPROVED
            )
        app.save()
        audit_record(
            actor=actor,
            action="termination.approve",
            object_type="termination",
            object_id=app.pk,
            person_id=app.person_id,
            detail={
                "stage": "second" if second else "first",
                "identity_checked": True,
                "amount": app.amount,
                "note": note,
                "status": app.status,
            },
        )
        if app.status == ApplicationStatus.APPROVED:
            _issue_payout(actor, app)
            notices.application_approved(app)
    return app


# --- payment runs ---------------------------------------------------------------------------------


def _transfer(p: Payout) -> pain001.Transfer:
    acct = p.bank_account
    return pain001.Transfer(
        end_to_end_id=p.end_to_end_id,
        amount=p.amount,
        currency=p.currency,
        creditor_name=acct.holder,
        creditor_country=bank.alpha2(acct.country),
        iban=acct.iban,
        account_number=acct.account_number,
        bank_code=acct.bank_code,
        clearing_system=bank.COUNTRY_RULES.get(acct.country, bank.GENERIC).clearing_system,
        bic=acct.bic,
        remittance=_remittance(p),
    )


def _remittance(p: Payout) -> str:
    if p.kind == PayoutKind.PENSION:
        return f"Social insurance pension {p.month} {p.end_to_end_id} (pension {p.pension_id})"
    if p.kind == PayoutKind.INHERITANCE and p.heir is not None:
        claim = p.heir.claim
        return (
            f"Inheritance of a social insurance account {p.end_to_end_id} "
            f"(claim {claim.pk}, died {claim.death.died_on})"
        )
    if p.kind == PayoutKind.SUBSIDY and p.programme_application is not None:
        return (
            f"Social insurance benefit {p.end_to_end_id} "
            f"(programme {p.programme_application.programme})"
        )
    assert p.application is not None
    return (
        f"Social insurance lump sum {p.end_to_end_id} "
        f"(termination {p.application_id}, closing {p.application.closing_date})"
    )


def payment_run(
    *, actor: Actor, region_code: str, execution_date: date | None = None
) -> PaymentRun | None:
    """Send the region's approved payouts in one pain.001 file; None when there is nothing to pay
    (a second run right after the first finds nothing: it pays once)."""
    require(actor, Act.PAY, region_code=region_code)
    day = execution_date or timezone.localdate()
    validation.plausible_date(day, "execution_date")
    with transaction.atomic():
        payouts = list(
            # of=self: what a payout is for is an outer join (an application, an heir, a pension
            # or a programme application), which PostgreSQL does not lock
            Payout.objects.select_for_update(of=("self",))
            .select_related(
                "bank_account", "application", "heir__claim__death", "programme_application"
            )
            .filter(
                region_code=region_code,
                kind__in=SENT_KINDS,
                status=PayoutStatus.PENDING,
                run__isnull=True,
            )
            .order_by("pk")
        )
        if not payouts:
            return None
        now = timezone.now()
        message_id = f"EXP{region_code}{now:%Y%m%d%H%M%S}{uuid.uuid4().hex[:8].upper()}"
        xml = pain001.build(
            message_id=message_id,
            created=timezone.localtime(now).replace(tzinfo=None),
            execution_date=day,
            debtor=debtor(),
            transfers=[_transfer(p) for p in payouts],
        )
        run = PaymentRun.objects.create(
            region_code=region_code,
            message_id=message_id,
            created_by=actor.label[:200],
            execution_date=day,
            count=len(payouts),
            total=sum(p.amount for p in payouts),
            xml=xml,
            sha256=hashlib.sha256(xml.encode()).hexdigest(),
        )
        moved = Payout.objects.filter(
            pk__in=[p.pk for p in payouts], run__isnull=True, status=PayoutStatus.PENDING
        ).update(run=run, status=PayoutStatus.SENT)
        if moved != len(payouts):  # pragma: no cover - the rows are locked above
            raise Conflict(
                "run_in_progress", "another payment run took these payouts", "region_code"
            )
        audit_record(
            actor=actor,
            action="payment_run.create",
            object_type="payment_run",
            object_id=run.pk,
            detail={
                "region": region_code,
                "message_id": message_id,
                "count": run.count,
                "total": run.total,
                "sha256": run.sha256,
            },
        )
        for p in payouts:
            notices.payout_sent(p, day.isoformat())
    return run


# --- the bank's return file ------------------------------------------------------------------------

RETURN_COLUMNS = ("end_to_end_id", "status", "date")
PAID_CODES = {"ACSC", "ACCC", "PAID"}
REJECTED_CODES = {"RJCT", "REJECTED"}


@dataclass
class Reconciliation:
    rows: int = 0
    paid: int = 0
    rejected: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def payments_reconcile(*, actor: Actor, text: str) -> Reconciliation:
    """Apply the bank's return file: CSV with the columns ``end_to_end_id,status,date`` and an
    optional ``reason``; status ``ACSC`` (settled; also ACCC, PAID) or ``RJCT`` (rejected; also
    REJECTED), as in an ISO 20022 pain.002 status report. Every row is checked first; one bad row
    and nothing is written. A row already applied changes nothing (the file can be read twice).

    Paid: the payout is paid, the application paid, the departure terminated and the account
    closed at the closing date. Rejected: the payout keeps its row, a reversing entry is booked,
    and the application waits for a new payout (``payout_reissue``)."""
    report = Reconciliation()
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in RETURN_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RuleError(
            "missing_columns",
            f"the file needs the columns {', '.join(RETURN_COLUMNS)}; missing: {', '.join(missing)}",
            "file",
        )
    parsed: list[tuple[Payout, str, date, str]] = []
    seen: set[str] = set()
    for n, row in enumerate(reader, start=2):
        report.rows += 1
        try:
            e2e = (row.get("end_to_end_id") or "").strip()
            if not e2e:
                raise RuleError("required", "an end-to-end id is required", "end_to_end_id")
            if e2e in seen:
                raise RuleError("duplicate", f"{e2e} appears twice in the file", "end_to_end_id")
            seen.add(e2e)
            code = (row.get("status") or "").strip().upper()
            if code not in PAID_CODES | REJECTED_CODES:
                raise RuleError(
                    "invalid_status", "status must be ACSC (paid) or RJCT (rejected)", "status"
                )
            day = parse_date(row.get("date") or "", field="date")
            payout = (
                Payout.objects.select_related("application", "person")
                .filter(end_to_end_id=e2e, kind__in=SENT_KINDS)
                .first()
            )
            if payout is None or not allowed(actor, Act.PAY, region_code=payout.region_code):
                raise RuleError(
                    "unknown_payout", f"no payout {e2e} that you may see", "end_to_end_id"
                )
            outcome = "paid" if code in PAID_CODES else "rejected"
            if payout.status == PayoutStatus.PENDING:
                raise RuleError(
                    "not_sent", f"{e2e} has not been sent in a payment run", "end_to_end_id"
                )
            if (
                payout.status in (PayoutStatus.PAID, PayoutStatus.REJECTED)
                and payout.status != outcome
            ):
                raise RuleError(
                    "already_settled",
                    f"{e2e} is already {payout.status}: a correction is a reversing entry",
                    "status",
                )
            reason = validation.text(row.get("reason") or "", "reason", max_length=200)
            parsed.append((payout, outcome, day, reason))
        except RuleError as exc:
            report.errors.append(RowError(n, exc.field, exc.message, exc.code, exc.params))
    if report.errors:
        return report
    with transaction.atomic():
        for payout, outcome, day, reason in parsed:
            locked = Payout.objects.select_for_update().get(pk=payout.pk)
            if locked.status == outcome:
                report.unchanged += 1
                continue
            if outcome == "paid":
                _settle_paid(actor, locked, day)
                report.paid += 1
            else:
                _settle_rejected(actor, locked, day, reason)
                report.rejected += 1
    return report


def _settle_paid(actor: Actor, payout: Payout, day: date) -> None:
    Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.PAID, settled_on=day)
    if payout.kind == PayoutKind.INHERITANCE:
        _settle_heir_paid(actor, payout, day)
        return
    if payout.programme_application_id is not None:  # a benefit programme's payment
        ProgrammeApplication.objects.filter(pk=payout.programme_application_id).update(
            status=ProgrammeStatus.PAID
        )
    if payout.kind in (PayoutKind.PENSION, PayoutKind.SUBSIDY):  # nothing else to close
        audit_record(
            actor=actor,
            action="payout.paid",
            object_type="payout",
            object_id=payout.pk,
            person_id=payout.person_id,
            detail={"end_to_end_id": payout.end_to_end_id, "amount": payout.amount, "on": day},
        )
        if payout.kind == PayoutKind.SUBSIDY:
            notices.programme_paid(payout, day.isoformat())
        return
    assert payout.application_id is not None  # a lump sum's payout (a check constraint)
    app = TerminationApplication.objects.select_for_update().get(pk=payout.application_id)
    app.status = ApplicationStatus.PAID
    app.save(update_fields=["status"])
    DepartureCase.objects.filter(pk=app.case_id).update(status=CaseStatus.TERMINATED)
    AccountClosure.objects.get_or_create(
        application=app,
        defaults={
            "person_id": app.person_id,
            "closed_on": app.closing_date,
            "closed_month": str(Month.of(app.closing_date)),
            "amount": app.amount,
        },
    )
    # The closing entry in billing's ledger: its statement, months counted and pension outlook
    # start a new account after this month (same social security number).
    account_close(
        actor=actor,
        person_id=app.person_id,
        closed_on=app.closing_date,
        amount=app.amount,
        reference=f"termination:{app.pk}",
        region_code=payout.region_code,
    )
    audit_record(
        actor=actor,
        action="payout.paid",
        object_type="payout",
        object_id=payout.pk,
        person_id=payout.person_id,
        detail={"end_to_end_id": payout.end_to_end_id, "amount": payout.amount, "on": day},
    )
    notices.payout_paid(payout, day.isoformat())


def _settle_heir_paid(actor: Actor, payout: Payout, day: date) -> None:
    """An heir paid; the claim is paid when every heir with an amount is."""
    assert payout.heir_id is not None  # an heir's payout
    heir = Heir.objects.get(pk=payout.heir_id)
    claim = InheritanceClaim.objects.select_for_update().get(pk=heir.claim_id)
    unpaid = claim.heirs.filter(amount__gt=0).exclude(
        payouts__kind=PayoutKind.INHERITANCE, payouts__status=PayoutStatus.PAID
    )
    if not unpaid.exists() and claim.status == ClaimStatus.APPROVED:
        claim.status = ClaimStatus.PAID
        claim.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="payout.paid",
        object_type="payout",
        object_id=payout.pk,
        person_id=payout.person_id,
        detail={
            "end_to_end_id": payout.end_to_end_id,
            "amount": payout.amount,
            "on": day,
            "inheritance": claim.pk,
            "claim_status": claim.status,
        },
    )


def _settle_rejected(actor: Actor, payout: Payout, day: date, reason: str) -> None:
    Payout.objects.filter(pk=payout.pk).update(
        status=PayoutStatus.REJECTED, settled_on=day, bank_reason=reason
    )
    reversal = Payout.objects.create(
        application_id=payout.application_id,
        pension_id=payout.pension_id,
        month=payout.month,
        heir_id=payout.heir_id,
        programme_application_id=payout.programme_application_id,
        person_id=payout.person_id,
        region_code=payout.region_code,
        kind=PayoutKind.REVERSAL,
        amount=-payout.amount,
        currency=payout.currency,
        bank_account_id=payout.bank_account_id,
        end_to_end_id=f"{payout.end_to_end_id}R",
        reverses=payout,
        status=PayoutStatus.BOOKED,
        settled_on=day,
        created_by=actor.label[:200],
        bank_reason=reason,
    )
    audit_record(
        actor=actor,
        action="payout.rejected",
        object_type="payout",
        object_id=payout.pk,
        person_id=payout.person_id,
        detail={
            "end_to_end_id": payout.end_to_end_id,
            "reversal": reversal.pk,
            "reason": reason,
            "on": day,
        },
    )
    notices.payout_returned(payout, reason)


def payout_reissue(*, actor: Actor, termination_id: int) -> Payout:
    """A new payout for an approved application whose last payout the bank rejected."""
    with transaction.atomic():
        app = _lock_application(actor, termination_id)
        require(actor, Act.PAY, person_id=app.person_id, region_code=app.case.region_code)
        if app.status != ApplicationStatus.APPROVED:
            raise Conflict("not_approved", "only an approved application is paid", "termination_id")
        refuse_if_deceased(app.person_id, "termination_id")  # the balance goes to the heirs
        if Payout.objects.filter(
            Q(status=PayoutStatus.PENDING) | Q(status=PayoutStatus.SENT),
            application=app,
            kind=PayoutKind.PAYOUT,
        ).exists():
            raise Conflict(
                "payout_in_flight", "a payout of this application is under way", "termination_id"
            )
        return _issue_payout(actor, app)


def payout_bank_correct(*, actor: Actor, termination_id: int, bank_details: BankDetails) -> Payout:
    """After the bank returned the last payout (RJCT), the person (or agency staff of the region)
    gives corrected bank details: a NEW payout to the new account waits for the next payment run.
    The returned payout and its reversing entry stay as they are; the application keeps the account
    it was signed with, the new payout names the new one."""
    holder = validation.required_text(bank_details.holder, "holder", max_length=140)
    with transaction.atomic():
        app = _lock_application(actor, termination_id)
        if not permissions.may_correct_bank(
            actor, person_id=app.person_id, region_code=app.case.region_code
        ):
            raise Forbidden("forbidden", "you may not correct these bank details", "")
        if app.status != ApplicationStatus.APPROVED:
            raise Conflict("not_approved", "only an approved application is paid", "termination_id")
        payouts = Payout.objects.filter(application=app, kind=PayoutKind.PAYOUT)
        if payouts.filter(status__in=[PayoutStatus.PENDING, PayoutStatus.SENT]).exists():
            raise Conflict(
                "payout_in_flight", "a payout of this application is under way", "termination_id"
            )
        last = payouts.order_by("-pk").first()
        if last is None or last.status != PayoutStatus.REJECTED:
            raise Conflict(
                "no_returned_payout",
                "bank details are corrected only after the bank returned the payout",
                "termination_id",
            )
        account = bank_account_store(app.person_id, holder, bank_checked(bank_details))
        audit_record(
            actor=actor,
            action="payout.bank_corrected",
            object_type="termination",
            object_id=app.pk,
            person_id=app.person_id,
            detail={
                "returned": last.end_to_end_id,
                "old_account": last.bank_account.masked_number,
                "account": account.masked_number,
                "currency": account.currency,
            },
        )
        return _issue_payout(actor, app, account)
