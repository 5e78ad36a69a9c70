"""Death and inheritance: the report with its evidence, the frozen account, the heirs' claim, the
agency's decision on the shares, and a payout per heir through the payment runs.

On death the individual account balance is inherited (Social Insurance Law Art. 14; Order No. 16,
policy-facts rows 1.2-6 and 2-14). What this module guarantees:

* **Reported once, with evidence.** By the employer's HR (a person their employer employed on the
  date of death), or by agency staff — their own finding, a family member's report at the counter
  (the family member's name and relationship written down) or an employer's on paper. A report
  without a document (PDF, JPEG or PNG) is refused.
* **Frozen from the report on.** No departure, no lump sum (``selectors_death.refuse_if_deceased``
  is asked by services.py); an application not yet approved is rejected with the reason. The
  balance the heirs share is the balance on the date of death (the lump-sum statement, ledger.py).
  ``DeathReport.died_on`` is what the pension payments read to stop.
* **Shares decided by agency staff**, one fraction per heir, adding up to exactly the whole — else
  refused, naming the field. The balance is split in whole fen by the **largest remainder rule**
  (:func:`split_shares`): every heir gets the fen below their exact share, and the fen left over
  go one each to the heirs with the largest fractions of a fen left, ties to the heir filed first.
  The amounts add up to the balance exactly.
* **Money safety as for the lump sum.** A claim waits while months up to the month of death are
  unbilled or unpaid, and says which. Above ``EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE`` (compared with
  the whole balance, which the decision pays out) a second, different agency user approves.
  Each heir's payout is written once (kind ``inherit``) and leaves through the region's payment
  run; a payout the bank rejects keeps its row and gets a reversing entry (services.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from expatsi.access import validation
from expatsi.access.actors import SYSTEM, Actor
from expatsi.audit.services import audit_record
from expatsi.benefits import approval, ledger
from expatsi.benefits.models import (
    LIVE_CLAIM,
    ApplicationStatus,
    CaseStatus,
    ClaimStatus,
    DeathDocument,
    DeathReport,
    DepartureCase,
    Heir,
    InheritanceClaim,
    Payout,
    PayoutKind,
    PayoutStatus,
    Reporter,
    TerminationApplication,
)
from expatsi.benefits.pensions import pension_stop_on_death
from expatsi.benefits.permissions import DeathAct, death_require, reporter_of
from expatsi.benefits.selectors_death import claim_get, death_get
from expatsi.benefits.services import (
    BankDetails,
    bank_account_store,
    bank_checked,
    second_approval_above,
)
from expatsi.insurance.models import Employment
from expatsi.insurance.selectors import persons_visible
from expatsi.people.models import Person
from expatsi.rules.errors import Conflict, NotFound, RuleError
from expatsi.web.uploads import Upload

DOCUMENT_TYPES = {
    b"%PDF": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG": "image/png",
}
MAX_HEIRS = 20


# --- the split -------------------------------------------------------------------------------------


def parse_share(text: str, field: str) -> Fraction:
    """A share as a fraction ``1/3``, a decimal ``0.5`` or a whole ``1``: more than 0, at most 1."""
    raw = (text or "").strip()
    try:
        share = Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise RuleError(
            "invalid_share", "write the share as a fraction such as 1/3, or 0.5", field
        ) from None
    if share <= 0 or share > 1:
        raise RuleError("invalid_share", "a share is more than 0 and at most 1", field)
    if share.denominator > 1_000_000:
        raise RuleError("invalid_share", "write the share as a simpler fraction", field)
    return share


def split_shares(balance: int, shares: list[Fraction]) -> list[int]:
    """``balance`` fen split by ``shares`` (adding up to 1) in whole fen, by the largest remainder
    rule: each heir gets the whole fen of their exact share, and the fen left over go one each to
    the largest fractional remainders, ties to the earlier heir. The result adds up to
    ``balance``; e.g. 1,000,001 fen by 1/3 each: 333,334 + 333,334 + 333,333."""
    if sum(shares, Fraction(0)) != 1:
        raise ValueError("the shares must add up to 1")
    exact = [balance * s for s in shares]
    amounts = [int(e) for e in exact]  # floor: balance and shares are not negative
    left = balance - sum(amounts)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - amounts[i]), i))
    for i in order[:left]:
        amounts[i] += 1
    return amounts


# --- the report ------------------------------------------------------------------------------------


def _document_type(data: bytes, field: str) -> str:
    if not data:
        raise RuleError("evidence_required", "attach the document (PDF, JPEG or PNG)", field)
    for magic, kind in DOCUMENT_TYPES.items():
        if data.startswith(magic):
            return kind
    raise RuleError("evidence_type", "the document must be a PDF, JPEG or PNG file", field)


def _store_document(
    actor: Actor, death: DeathReport, upload: Upload, claim: InheritanceClaim | None, field: str
) -> DeathDocument:
    kind = _document_type(upload.data, field)
    name = validation.text(upload.name, field, max_length=200) or "document"
    return DeathDocument.objects.create(
        death=death,
        claim=claim,
        name=name,
        content_type=kind,
        content=upload.data,
        size=len(upload.data),
        uploaded_by_label=actor.label[:200],
    )


def _employment_on(person_id: int, day: date, employer_ids: frozenset[int] | None) -> Employment:
    """The employment that ran on ``day`` (else the last before it), among ``employer_ids``."""
    qs = Employment.objects.filter(person_id=person_id, start_date__lte=day).select_related(
        "employer"
    )
    if employer_ids is not None:
        qs = qs.filter(employer_id__in=sorted(employer_ids)).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=day)
        )
    emp = qs.order_by(F("end_date").desc(nulls_first=True), "-start_date", "-pk").first()
    if emp is None:
        if employer_ids is not None:
            raise NotFound(
                "not_found",
                "no person your employer employed on the date of death with this id",
                "person_id",
            )
        raise RuleError(
            "no_employment", "no employment in China is on record for this person", "person_id"
        )
    return emp


def death_report(
    *,
    actor: Actor,
    person_id: int,
    died_on: date,
    evidence: Upload,
    reporter: str = Reporter.AGENCY,
    reporter_name: str = "",
    relationship: str = "",
    note: str = "",
) -> DeathReport:
    """Record a death with its evidence and freeze the account: an application for the lump sum
    not yet approved is rejected with the reason. Reported once: a second report is refused."""
    reporter = reporter_of(actor, reporter)
    if reporter not in Reporter.values:
        raise RuleError(
            "invalid_reporter", "say who reports: employer, family or agency", "reporter"
        )
    validation.plausible_date(died_on, "died_on")
    if died_on > timezone.localdate():
        raise RuleError("future_date", "the date of death cannot be in the future", "died_on")
    name = validation.text(reporter_name, "reporter_name", max_length=140) or actor.label[:140]
    relation = validation.text(relationship, "relationship", max_length=80)
    if reporter == Reporter.FAMILY:
        name = validation.required_text(reporter_name, "reporter_name", max_length=140)
        relation = validation.required_text(relationship, "relationship", max_length=80)
    note = validation.text(note, "note", max_length=500)
    if actor.kind == "hr":
        emp = _employment_on(person_id, died_on, actor.employer_ids)
        person = emp.person
    else:
        found = persons_visible(actor).filter(pk=person_id).first()
        if found is None:
            raise NotFound("not_found", f"no person {person_id} that you may see", "person_id")
        person = found
        emp = _employment_on(person.pk, died_on, None)
    region = emp.employer.region_code
    death_require(actor, DeathAct.REPORT, region_code=region)
    if person.birth_date and died_on < person.birth_date:
        raise RuleError("died_before_birth", "the date of death is before the birth", "died_on")
    _document_type(evidence.data, "evidence")
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        if DeathReport.objects.filter(person=person).exists():
            raise Conflict(
                "already_reported", "this person's death is already on record", "person_id"
            )
        try:
            with transaction.atomic():
                death = DeathReport.objects.create(
                    person=person,
                    region_code=region,
                    died_on=died_on,
                    reporter=reporter,
                    reporter_name=name,
                    relationship=relation,
                    note=note,
                    recorded_by_id=actor.user_id,
                    recorded_by_label=actor.label[:200],
                )
        except IntegrityError:
            raise Conflict(
                "already_reported", "this person's death is already on record", "person_id"
            ) from None
        doc = _store_document(actor, death, evidence, None, "evidence")
        refused = _refuse_live_terminations(actor, death)
        # A pension stops with the month of death; months paid after it become an overpayment.
        # HR reports the death but does not decide on pensions: the stop is the agency's job's.
        stopped = pension_stop_on_death(
            actor=actor if actor.kind == "agency" else SYSTEM, person=person, died_on=died_on
        )
        audit_record(
            actor=actor,
            action="death.report",
            object_type="death",
            object_id=death.pk,
            person_id=person.pk,
            detail={
                "died_on": died_on,
                "reporter": reporter,
                "reporter_name": name,
                "relationship": relation,
                "region": region,
                "evidence": doc.name,
                "terminations_rejected": refused,
                "pension_stopped": stopped.pk if stopped is not None else None,
            },
        )
    return death


def _refuse_live_terminations(actor: Actor, death: DeathReport) -> list[int]:
    """Applications for the lump sum not yet approved are rejected: the account is frozen."""
    reason = (
        f"The applicant was reported dead (died on {death.died_on.isoformat()}): the account is "
        "frozen and its balance goes to the heirs."
    )
    refused = []
    apps = TerminationApplication.objects.select_for_update().filter(
        person_id=death.person_id,
        status__in=[ApplicationStatus.SUBMITTED, ApplicationStatus.SECOND_APPROVAL],
    )
    for app in apps:
        app.status = ApplicationStatus.REJECTED
        app.rejection_reason = reason
        app.save(update_fields=["status", "rejection_reason"])
        DepartureCase.objects.filter(pk=app.case_id).update(status=CaseStatus.OPEN)
        audit_record(
            actor=actor,
            action="termination.reject",
            object_type="termination",
            object_id=app.pk,
            person_id=app.person_id,
            detail={"reason": reason, "stage": "death"},
        )
        refused.append(app.pk)
    return refused


# --- the heirs' claim ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeirDetails:
    name: str
    relationship: str
    bank: BankDetails


def inheritance_claim_file(
    *,
    actor: Actor,
    death_id: int,
    heirs: list[HeirDetails],
    documents: list[Upload],
) -> InheritanceClaim:
    """The heirs' claim, filed at the agency with its documents (a notarised certificate of
    inheritance, a will, proof of kinship): every heir's name, relationship and bank account —
    abroad or in China (benefits/bank.py). One live claim per deceased person. Documents may
    follow (``claim_document_add``, the API's second step); the shares are decided only when
    at least one is on file."""
    death_get(actor=actor, death_id=death_id, audit=False)  # in scope, or not found
    if not heirs:
        raise RuleError("heirs_required", "name at least one heir", "heirs")
    if len(heirs) > MAX_HEIRS:
        raise RuleError("too_many_heirs", f"at most {MAX_HEIRS} heirs per claim", "heirs")
    checked = []
    for n, heir in enumerate(heirs):
        prefix = f"heirs.{n}."
        name = validation.required_text(heir.name, prefix + "name", max_length=140)
        relation = validation.required_text(
            heir.relationship, prefix + "relationship", max_length=80
        )
        b = heir.bank
        validation.required_text(b.holder, prefix + "holder", max_length=140)
        try:
            account = bank_checked(b, in_china=True)
        except RuleError as exc:
            raise RuleError(exc.code, exc.message, prefix + exc.field, exc.params) from None
        checked.append((name, relation, b.holder.strip(), account))
    for d in documents:
        _document_type(d.data, "documents")
    with transaction.atomic():
        death = DeathReport.objects.select_for_update().select_related("person").get(pk=death_id)
        death_require(actor, DeathAct.CLAIM, region_code=death.region_code)
        if InheritanceClaim.objects.filter(
            person_id=death.person_id, status__in=LIVE_CLAIM
        ).exists():
            raise Conflict(
                "claim_already_filed",
                "an inheritance claim is already under way for this account",
                "death_id",
            )
        claim = InheritanceClaim.objects.create(
            death=death,
            person_id=death.person_id,
            region_code=death.region_code,
            filed_by_label=actor.label[:200],
        )
        for position, (name, relation, holder, acct) in enumerate(checked, start=1):
            # the deceased's account being paid out; held by the heir
            stored = bank_account_store(death.person_id, holder, acct)
            Heir.objects.create(
                claim=claim,
                position=position,
                name=name,
                relationship=relation,
                bank_account=stored,
            )
        names = [_store_document(actor, death, d, claim, "documents").name for d in documents]
        audit_record(
            actor=actor,
            action="inheritance.file",
            object_type="inheritance",
            object_id=claim.pk,
            person_id=death.person_id,
            detail={
                "death": death.pk,
                "heirs": [{"name": n, "relationship": r} for n, r, _h, _a in checked],
                "documents": names,
            },
        )
    return claim


def claim_document_add(*, actor: Actor, claim_id: int, upload: Upload) -> DeathDocument:
    """A further document of a claim still awaiting its decision."""
    with transaction.atomic():
        claim = _lock_claim(actor, claim_id)
        death_require(actor, DeathAct.CLAIM, region_code=claim.region_code)
        if claim.status not in (ClaimStatus.SUBMITTED, ClaimStatus.SECOND_APPROVAL):
            raise Conflict("already_decided", "this claim has already been decided", "claim_id")
        doc = _store_document(actor, claim.death, upload, claim, "file")
        audit_record(
            actor=actor,
            action="inheritance.document",
            object_type="inheritance",
            object_id=claim.pk,
            person_id=claim.person_id,
            detail={"document": doc.pk, "name": doc.name},
        )
    return doc


# --- the decision ----------------------------------------------------------------------------------


def _lock_claim(actor: Actor, claim_id: int) -> InheritanceClaim:
    claim_get(actor=actor, claim_id=claim_id, audit=False)
    return (
        InheritanceClaim.objects.select_for_update()
        .select_related("death", "person")
        .get(pk=claim_id)
    )


def _shares(heirs: list[Heir], shares: dict[int, str]) -> list[Fraction]:
    """One share per heir of the claim (keyed by heir id), adding up to exactly 1."""
    ids = {h.pk for h in heirs}
    unknown = sorted(set(shares) - ids)
    if unknown:
        raise RuleError("unknown_heir", f"no heir {unknown[0]} in this claim", "shares")
    parsed = []
    for h in heirs:
        field = f"shares.{h.pk}"
        if h.pk not in shares or not str(shares[h.pk]).strip():
            raise RuleError("share_required", f"decide the share of {h.name}", field)
        parsed.append(parse_share(str(shares[h.pk]), field))
    total = sum(parsed, Fraction(0))
    if total != 1:
        raise RuleError(
            "shares_not_whole",
            f"the shares add up to {total}, not to the whole (1): decide them again",
            "shares",
            {"total": str(total)},
        )
    return parsed


def inheritance_decide(
    *,
    actor: Actor,
    claim_id: int,
    decision: str,
    shares: dict[int, str] | None = None,
    note: str = "",
    reason: str = "",
) -> InheritanceClaim:
    """Approve with the shares, or reject. The first approval fixes the shares, the balance on the
    date of death and each heir's amount; above the threshold a second, different agency user
    approves them as they are. Approval waits while months are unsettled."""
    if decision not in ("approve", "reject"):
        raise RuleError("invalid_decision", "decide approve or reject", "decision")
    note = validation.text(note, "note", max_length=500)
    with transaction.atomic():
        claim = _lock_claim(actor, claim_id)
        death_require(actor, DeathAct.DECIDE, region_code=claim.region_code)
        if claim.status not in (ClaimStatus.SUBMITTED, ClaimStatus.SECOND_APPROVAL):
            raise Conflict("already_decided", "this claim has already been decided", "decision")
        second = claim.status == ClaimStatus.SECOND_APPROVAL
        approval.refuse_same_reviewer(claim, actor, second=second)
        heirs = list(claim.heirs.select_for_update().order_by("position"))
        if decision == "reject":
            text = validation.required_text(reason, "reason", max_length=500)
            claim.status = ClaimStatus.REJECTED
            claim.rejection_reason = text
            approval.stamp(claim, actor, second=second, note=note)
            claim.save()
            audit_record(
                actor=actor,
                action="inheritance.reject",
                object_type="inheritance",
                object_id=claim.pk,
                person_id=claim.person_id,
                detail={"reason": text, "stage": "second" if second else "first"},
            )
            return claim
        if not second:
            _first_approval(claim, heirs, shares or {})
        approval.stamp(claim, actor, second=second, note=note)
        assert claim.balance is not None
        if second or claim.balance <= second_approval_above():
            claim.status = ClaimStatus.APPROVED
        else:
            claim.status = ClaimStatus.SECOND_APPROVAL
        claim.save()
        audit_record(
            actor=actor,
            action="inheritance.approve",
            object_type="inheritance",
            object_id=claim.pk,
            person_id=claim.person_id,
            detail={
                "stage": "second" if second else "first",
                "balance": claim.balance,
                "shares": {h.name: h.share_text for h in heirs},
                "amounts": {h.name: h.amount for h in heirs},
                "note": note,
                "status": claim.status,
            },
        )
        if claim.status == ClaimStatus.APPROVED:
            for heir in heirs:
                if heir.amount:
                    _issue_heir_payout(actor, claim, heir)
    return claim


def _first_approval(claim: InheritanceClaim, heirs: list[Heir], shares: dict[int, str]) -> None:
    fractions = _shares(heirs, shares)
    if not claim.documents.exists():
        raise RuleError(
            "documents_required",
            "attach the documents of the claim (PDF, JPEG or PNG)",
            "documents",
        )
    died_on = claim.death.died_on
    unsettled = ledger.unsettled_months(claim.person_id, died_on)
    if unsettled:
        raise Conflict(
            "months_not_settled",
            f"the claim waits until every month is settled: {unsettled.text()}",
            "decision",
            {"unbilled": ", ".join(unsettled.unbilled), "unpaid": ", ".join(unsettled.unpaid)},
        )
    if Payout.objects.filter(
        person_id=claim.person_id,
        kind=PayoutKind.PAYOUT,
        status__in=[PayoutStatus.PENDING, PayoutStatus.SENT],
    ).exists():
        raise Conflict(
            "termination_under_way",
            "a lump sum approved before the death is still being paid: wait for the bank's answer",
            "decision",
        )
    lump = ledger.lump_sum_on(claim.person_id, died_on)
    if lump.amount <= 0:
        raise RuleError(
            "nothing_to_inherit", "the individual account has no balance to inherit", "decision"
        )
    amounts = split_shares(lump.amount, fractions)
    for heir, share, amount in zip(heirs, fractions, amounts, strict=True):
        heir.share_num, heir.share_den, heir.amount = share.numerator, share.denominator, amount
        heir.save(update_fields=["share_num", "share_den", "amount"])
    claim.balance = lump.amount
    claim.statement = {
        "years": [y.as_dict() for y in lump.statement.years],
        "explanation": list(lump.explanation),
        "status": lump.status.value,
        "provisional": lump.provisional,
    }


def _issue_heir_payout(actor: Actor, claim: InheritanceClaim, heir: Heir) -> Payout:
    assert heir.amount
    n = Payout.objects.filter(heir=heir, kind=PayoutKind.INHERITANCE).count() + 1
    account = heir.bank_account
    payout = Payout.objects.create(
        heir=heir,
        person_id=claim.person_id,
        region_code=claim.region_code,
        kind=PayoutKind.INHERITANCE,
        amount=heir.amount,
        currency=account.currency,
        bank_account=account,
        end_to_end_id=f"IH{heir.pk:010d}N{n:03d}",
        created_by=actor.label[:200],
    )
    audit_record(
        actor=actor,
        action="payout.create",
        object_type="payout",
        object_id=payout.pk,
        person_id=claim.person_id,
        detail={
            "inheritance": claim.pk,
            "heir": heir.name,
            "amount": heir.amount,
            "end_to_end_id": payout.end_to_end_id,
        },
    )
    return payout


def inheritance_reissue(*, actor: Actor, claim_id: int) -> list[Payout]:
    """A new payout for every heir of an approved claim whose last payout the bank rejected."""
    with transaction.atomic():
        claim = _lock_claim(actor, claim_id)
        death_require(actor, DeathAct.PAY, region_code=claim.region_code)
        if claim.status != ClaimStatus.APPROVED:
            raise Conflict("not_approved", "only an approved claim is paid", "claim_id")
        made = []
        for heir in claim.heirs.select_for_update().order_by("position"):
            if not heir.amount:
                continue
            done = Payout.objects.filter(
                heir=heir,
                kind=PayoutKind.INHERITANCE,
                status__in=[PayoutStatus.PENDING, PayoutStatus.SENT, PayoutStatus.PAID],
            )
            if not done.exists():
                made.append(_issue_heir_payout(actor, claim, heir))
        if not made:
            raise Conflict(
                "payout_in_flight", "every heir's payout is under way or paid", "claim_id"
            )
    return made
