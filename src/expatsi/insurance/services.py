"""Writes for employment and social insurance registration.

Every function is one transaction, takes an explicit ``actor``, checks what that actor may do and
the current state of the rows it changes (locked), and writes the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.employers.models import Employer
from expatsi.insurance import permissions
from expatsi.insurance.cardlink import CARD_KINDS, card_document, is_pending
from expatsi.insurance.models import (
    CoverageCertificate,
    Employment,
    Registration,
    RegistrationStatus,
    SsnSequence,
)
from expatsi.notify.services import notify_employer_hr
from expatsi.people.models import Document, DocumentKind, Person
from expatsi.people.services import PersonData, document_add, person_find_or_create
from expatsi.rules.agreements import Agreement, agreements, check_total_exemption
from expatsi.rules.contributions import person_month
from expatsi.rules.dates import Month, add_months
from expatsi.rules.deadlines import deadline
from expatsi.rules.eligibility import DocumentSpan, eligibility
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from expatsi.rules.identifiers import DEFAULT_SSN_SCHEME, SsnScheme
from expatsi.rules.money import format_yuan
from expatsi.rules.penalties import late_fee

SSN_ATTEMPTS = 5


# --- employment ------------------------------------------------------------------------------


def employment_start(
    *,
    actor: Actor,
    person: Person,
    employer: Employer,
    start_date: date,
    position: str,
    contract_wage: int,
    end_date: date | None = None,
    seconded_by: str = "",
    seconded_by_country: str = "",
) -> Employment:
    """Record that ``employer`` employs ``person`` from ``start_date`` (the domestic entity enrols)."""
    permissions.require_file_for(actor, employer)
    validation.span(start_date, end_date, start_field="start_date", end_field="end_date")
    if contract_wage < 0:
        raise RuleError("negative_wage", "the contract wage must be ≥ 0", "contract_wage")
    seconded_by = (seconded_by or "").strip()
    if len(seconded_by) > 200:
        raise RuleError(
            "too_long", "the overseas company's name has at most 200 characters", "seconded_by"
        )
    if seconded_by:
        seconded_by_country = validation.nationality(
            seconded_by_country, field="seconded_by_country"
        )
    elif (seconded_by_country or "").strip():
        # A country alone would be dropped silently: the assignment needs the company too.
        raise RuleError(
            "required",
            "name the overseas company that assigned the employee, or leave its country empty",
            "seconded_by",
        )
    overlapping = Employment.objects.filter(
        person=person, employer=employer, start_date__lte=end_date or date.max
    )
    overlapping = overlapping.exclude(end_date__lt=start_date)
    if overlapping.exists():
        raise Conflict(
            "overlapping_employment",
            "this person already has an employment with this employer then",
            "start_date",
        )
    with transaction.atomic():
        emp = Employment.objects.create(
            person=person,
            employer=employer,
            start_date=start_date,
            end_date=end_date,
            position=validation.required_text(position, "position"),
            contract_wage=contract_wage,
            seconded_by=seconded_by,
            seconded_by_country=seconded_by_country if seconded_by else "",
            created_by_id=actor.user_id,
        )
        emp.engagement = emp
        emp.save(update_fields=["engagement"])
        audit_record(
            actor=actor,
            action="employment.start",
            object_type="employment",
            object_id=emp.pk,
            person_id=person.pk,
            detail={"employer": employer.pk, "start": start_date},
        )
    return emp


def employment_change(
    *,
    actor: Actor,
    employment_id: int,
    on: date,
    position: str | None = None,
    contract_wage: int | None = None,
) -> Employment:
    """New terms from ``on``: the current row closes the day before and a successor opens."""
    with transaction.atomic():
        current = (
            Employment.objects.select_for_update()
            .select_related("employer", "person")
            .filter(pk=employment_id)
            .first()
        )
        if current is None:
            raise NotFound("not_found", f"no employment {employment_id}", "employment_id")
        permissions.require_file_for(actor, current.employer)
        if current.end_date is not None and current.end_reason == "changed":
            raise Conflict(
                "superseded",
                "this version was already replaced; change the latest one",
                "employment_id",
            )
        if on <= current.start_date or (current.end_date is not None and on > current.end_date):
            raise RuleError(
                "change_outside_employment",
                f"the change must fall after {current.start_date} and within the employment",
                "on",
            )
        if contract_wage is not None and contract_wage < 0:
            raise RuleError("negative_wage", "the contract wage must be ≥ 0", "contract_wage")
        successor = Employment.objects.create(
            person=current.person,
            employer=current.employer,
            engagement_id=current.engagement_id or current.pk,
            start_date=on,
            end_date=current.end_date,
            position=validation.required_text(position, "position")
            if position
            else current.position,
            contract_wage=current.contract_wage if contract_wage is None else contract_wage,
            seconded_by=current.seconded_by,
            seconded_by_country=current.seconded_by_country,
            created_by_id=actor.user_id,
        )
        current.end_date = on - timedelta(days=1)
        current.end_reason = "changed"
        current.save(update_fields=["end_date", "end_reason"])
        audit_record(
            actor=actor,
            action="employment.change",
            object_type="employment",
            object_id=successor.pk,
            person_id=current.person_id,
            detail={"previous": current.pk, "on": on},
        )
    return successor


def employment_end(*, actor: Actor, employment_id: int, on: date) -> Employment:
    """The employment ends on ``on`` (last day worked)."""
    with transaction.atomic():
        emp = (
            Employment.objects.select_for_update()
            .select_related("employer")
            .filter(pk=employment_id)
            .first()
        )
        if emp is None:
            raise NotFound("not_found", f"no employment {employment_id}", "employment_id")
        permissions.require_file_for(actor, emp.employer)
        if emp.end_reason == "changed":
            raise Conflict(
                "superseded",
                "this version was already replaced; end the latest one",
                "employment_id",
            )
        validation.plausible_date(on, "end_date")
        if on < emp.start_date:
            raise RuleError(
                "end_before_start", f"{on} is before the start {emp.start_date}", "end_date"
            )
        emp.end_date = on
        emp.end_reason = "ended"
        emp.save(update_fields=["end_date", "end_reason"])
        audit_record(
            actor=actor,
            action="employment.end",
            object_type="employment",
            object_id=emp.pk,
            person_id=emp.person_id,
            detail={"on": on},
        )
    return emp


# --- registration ----------------------------------------------------------------------------


def _check_may_register(employment: Employment, permit: Document) -> None:
    """Refuse what the law does not allow to be registered, naming the field to correct.

    Work may not start before the work permit is issued; and the person must count as a foreigner
    working in China (Order No. 16 Art. 2): an employment document together with a residence
    permit, or a permanent resident ID card. Eligibility is judged on the first day both the
    employment and the permit run; a residence permit obtained after that (a Z-visa holder has 30
    days from entry to get one) is accepted from its own first day.
    """
    if permit.kind != DocumentKind.PERMANENT_RESIDENT_ID and employment.start_date < (
        permit.issued_on
    ):
        raise RuleError(
            "start_before_permit",
            f"employment may not start ({employment.start_date}) before the work permit is "
            f"issued ({permit.issued_on})",
            "start_date",
        )
    docs = list(Document.objects.filter(person_id=employment.person_id))
    spans = [DocumentSpan(d.kind, d.valid_from, d.valid_to) for d in docs]
    first = max(employment.start_date, permit.valid_from)
    later = (d.valid_from for d in docs if d.kind == DocumentKind.RESIDENCE_PERMIT)
    days = [first, *sorted(day for day in later if day > first)]
    if any(eligibility(spans, day).eligible for day in days):
        return
    answer = eligibility(spans, first)
    if "no_valid_residence_permit" in answer.failing:
        has_rp = any(d.kind == DocumentKind.RESIDENCE_PERMIT for d in docs)
        field = "residence_permit_valid_to" if has_rp else "residence_permit_number"
        raise RuleError(
            "not_eligible",
            "a residence permit valid when employment starts is required, or a permanent "
            f"resident ID card ({answer.legal_basis})",
            field,
        )
    raise RuleError(
        "not_eligible",
        f"the work permit is not valid when employment starts ({answer.legal_basis})",
        "permit_valid_to",
    )


def registration_submit(
    *, actor: Actor, employment: Employment, permit: Document | None = None
) -> Registration:
    """The employer applies to register the person for the five insurances.

    The deadline runs 30 days from the permit's issue date (Order No. 16 Art. 4); a person holding a
    permanent resident ID card instead runs from the start of employment (SIL Art. 58).
    """
    employer = employment.employer
    permissions.require_file_for(actor, employer)
    if permit is None:
        permit = (
            Document.objects.filter(
                person=employment.person,
                kind__in=[
                    DocumentKind.INTEGRATED_CARD,
                    DocumentKind.WORK_PERMIT,
                    DocumentKind.PRESS_CARD,
                    DocumentKind.PERMANENT_RESIDENT_ID,
                ],
            )
            .order_by("-issued_on")
            .first()
        )
    if permit is None:
        raise RuleError(
            "no_employment_document", "file the work permit (or Integrated Card) first", "permit"
        )
    _check_may_register(employment, permit)
    if permit.kind == DocumentKind.PERMANENT_RESIDENT_ID:
        clock = deadline("employment_registration", employment.start_date)
    else:
        clock = deadline("registration", permit.issued_on)
    try:
        with transaction.atomic():
            reg = Registration.objects.create(
                person=employment.person,
                employer=employer,
                employment=employment,
                permit=permit,
                permit_issued_on=permit.issued_on,
                deadline=clock.due,
                insurance_start=employment.start_date,
                submitted_by_id=actor.user_id,
            )
            audit_record(
                actor=actor,
                action="registration.submit",
                object_type="registration",
                object_id=reg.pk,
                person_id=employment.person_id,
                detail={"deadline": clock.due},
            )
    except IntegrityError:
        raise Conflict(
            "already_submitted",
            "this employment already has a registration in progress or done",
            "employment_id",
        ) from None
    return reg


class DbSequenceStore:
    """Sequence numbers for social security numbers, from a locked row per (key, parity)."""

    def next_sequence(self, key: str, parity: int) -> int:
        with transaction.atomic():
            row = SsnSequence.objects.select_for_update().filter(key=key, parity=parity).first()
            if row is None:
                try:
                    with transaction.atomic():
                        SsnSequence.objects.create(key=key, parity=parity, last=0)
                except IntegrityError:
                    pass  # created by a concurrent request; lock it below
                row = SsnSequence.objects.select_for_update().get(key=key, parity=parity)
            value = row.last + 2 if row.last else (1 if parity else 2)
            if value > 999:
                raise RuleError("sequence_exhausted", f"no sequence number left for {key}", "ssn")
            row.last = value
            row.save(update_fields=["last"])
            return value


def ssn_assign(*, person: Person, province: str, scheme: SsnScheme = DEFAULT_SSN_SCHEME) -> str:
    """Give ``person`` a social security number unless they already have one (kept for life).

    Uniqueness holds under concurrency twice over: the sequence row is locked, and the column is
    unique — a number that collides with one issued another way is skipped and the next one tried.
    """
    if person.ssn:
        return person.ssn
    store = DbSequenceStore()
    for _ in range(SSN_ATTEMPTS):
        number = scheme.assign(
            province=province,
            nationality=person.nationality,
            birth=person.birth_date,
            sex="male" if person.sex == "male" else "female",
            store=store,
        )
        try:
            with transaction.atomic():
                updated = Person.objects.filter(pk=person.pk, ssn__isnull=True).update(
                    ssn=number, ssn_assigned_at=timezone.now()
                )
        except IntegrityError:
            continue
        person.refresh_from_db(fields=["ssn", "ssn_assigned_at"])
        if updated or person.ssn:
            return str(person.ssn)
    raise Conflict("ssn_unavailable", "could not assign a unique social security number", "ssn")


def _decidable(actor: Actor, registration_id: int, *, with_person: bool = False) -> Registration:
    """Lock a submitted registration that this agency officer may decide. The employer's own HR
    learns that only the agency decides (403); anyone else learns nothing (404)."""
    qs = Registration.objects.select_for_update().select_related("employer")
    if with_person:
        qs = qs.select_related("person")
    reg = permissions.require_decide_registration(
        actor, qs.filter(pk=registration_id).first(), registration_id
    )
    if reg.status != RegistrationStatus.SUBMITTED:
        raise Conflict("wrong_state", f"the registration is {reg.status}, not submitted", "status")
    return reg


def _decide(reg: Registration, actor: Actor, status: str, **fields: object) -> None:
    reg.status = status
    reg.decided_at = timezone.now()
    reg.decided_by_id = actor.user_id
    for name, value in fields.items():
        setattr(reg, name, value)
    reg.save(update_fields=["status", "decided_at", "decided_by", *fields])


def registration_accept(
    *, actor: Actor, registration_id: int, registered_on: date | None = None
) -> Registration:
    """Agency staff accept: the person is insured, and gets a social security number if new."""
    with transaction.atomic():
        reg = _decidable(actor, registration_id, with_person=True)
        _decide(
            reg,
            actor,
            RegistrationStatus.ACCEPTED,
            registered_on=registered_on or timezone.localdate(),
        )
        ssn = ssn_assign(person=reg.person, province=reg.employer.region_code[:2])
        audit_record(
            actor=actor,
            action="registration.accept",
            object_type="registration",
            object_id=reg.pk,
            person_id=reg.person_id,
            detail={"registered_on": reg.registered_on, "ssn": ssn},
        )
    _notify_registration(reg)
    return reg


def registration_reject(*, actor: Actor, registration_id: int, reason: str) -> Registration:
    reason = validation.required_text(reason, "reason", max_length=300, multiline=True)
    with transaction.atomic():
        reg = _decidable(actor, registration_id)
        _decide(reg, actor, RegistrationStatus.REJECTED, rejection_reason=reason)
        audit_record(
            actor=actor,
            action="registration.reject",
            object_type="registration",
            object_id=reg.pk,
            person_id=reg.person_id,
            detail={"reason": reason},
        )
    _notify_registration(reg)
    return reg


def _notify_registration(reg: Registration) -> None:
    """Tell the employer's HR users about the decision (inbox and e-mail, in each user's language)."""
    kind = (
        "registration_accepted"
        if reg.status == RegistrationStatus.ACCEPTED
        else "registration_rejected"
    )
    notify_employer_hr(
        employer=reg.employer,
        kind=kind,
        params={
            "person": reg.person.full_name,
            "registration_id": reg.pk,
            "ssn": reg.person.ssn or "",
            "reason": reg.rejection_reason,
        },
        dedupe_key=f"{kind}:{reg.pk}",
    )


# --- the one-flow hire -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HireData:
    """A new hire. ``permit_number`` names the employment document: for an Integrated Card or a
    work permit, the card on file (its card number, its 18-digit permit number, or ``A`` and the
    number of its application) — its dates are the card's, so ``permit_issued_on`` and
    ``permit_valid_to`` are read only for a press card or a permanent resident ID card."""

    person: PersonData
    permit_kind: str
    permit_number: str
    permit_issued_on: date | None
    permit_valid_to: date | None
    start_date: date
    position: str
    contract_wage: int  # fen
    residence_permit_number: str = ""
    residence_permit_issued_on: date | None = None
    residence_permit_valid_to: date | None = None
    end_date: date | None = None
    seconded_by: str = ""
    seconded_by_country: str = ""


def hire_register(*, actor: Actor, employer: Employer, data: HireData) -> Registration:
    """Register a new hire in one go: person (or the same person again), documents, employment and
    the social insurance registration. All or nothing.

    An Integrated Card or work permit is the person's card on file (``cardlink``): the hire records
    it, never a second number typed beside it, so the person's record follows the card through
    approval, extension, change and deregistration."""
    permissions.require_file_for(actor, employer)
    if data.permit_kind not in (
        DocumentKind.INTEGRATED_CARD,
        DocumentKind.WORK_PERMIT,
        DocumentKind.PRESS_CARD,
        DocumentKind.PERMANENT_RESIDENT_ID,
    ):
        raise RuleError(
            "invalid_permit_kind",
            "the employment document must be an Integrated Card, work permit, "
            "press card or permanent resident ID card",
            "permit_kind",
        )
    with transaction.atomic():
        person, _ = person_find_or_create(actor=actor, data=data.person)
        if data.permit_kind in CARD_KINDS:
            permit = card_document(
                actor=actor, person=person, reference=data.permit_number, field="permit_number"
            )
        else:
            if data.permit_issued_on is None:
                raise RuleError(
                    "required", "the document's issue date is required", "permit_issued_on"
                )
            permit = document_add(
                actor=actor,
                person=person,
                kind=data.permit_kind,
                number=data.permit_number,
                issued_on=data.permit_issued_on,
                valid_to=data.permit_valid_to,
            )
        if data.residence_permit_number:
            if data.residence_permit_issued_on is None:
                raise RuleError(
                    "required",
                    "the residence permit's issue date is required",
                    "residence_permit_issued_on",
                )
            document_add(
                actor=actor,
                person=person,
                kind=DocumentKind.RESIDENCE_PERMIT,
                number=data.residence_permit_number,
                issued_on=data.residence_permit_issued_on,
                valid_to=data.residence_permit_valid_to,
            )
        employment = employment_start(
            actor=actor,
            person=person,
            employer=employer,
            start_date=data.start_date,
            position=data.position,
            contract_wage=data.contract_wage,
            end_date=data.end_date,
            seconded_by=data.seconded_by,
            seconded_by_country=data.seconded_by_country,
        )
        return registration_submit(actor=actor, employment=employment, permit=permit)


def registrations_permit_issued(*, actor: Actor, document: Document) -> int:
    """The card a hire was registered on while only applied for has been approved: its submitted
    registrations take the 30-day clock from the day it was issued (Order No. 16 Art. 4)."""
    due = deadline("registration", document.issued_on).due
    regs = list(
        Registration.objects.select_for_update().filter(
            permit=document, status=RegistrationStatus.SUBMITTED
        )
    )
    for reg in regs:
        reg.permit_issued_on = document.issued_on
        reg.deadline = due
        reg.save(update_fields=["permit_issued_on", "deadline"])
        audit_record(
            actor=actor,
            action="registration.clock",
            object_type="registration",
            object_id=reg.pk,
            person_id=reg.person_id,
            detail={"permit_issued_on": document.issued_on, "deadline": due},
        )
    return len(regs)


def hire_warnings_for(
    *, registration: Registration, data: HireData, today: date
) -> list[HireWarning]:
    """The warnings of a hire just registered, on the dates of the document it rests on (the
    card's, for a card). A hire on a card still applied for has no clock running yet: none."""
    permit = registration.permit
    if permit is not None and is_pending(permit):
        return []
    dated = replace(data, permit_issued_on=registration.permit_issued_on)
    return hire_warnings(employer=registration.employer, data=dated, today=today)


# --- certificates of coverage -----------------------------------------------------------------


def certificate_add(
    *, actor: Actor, person: Person, number: str, country: str, valid_from: date, valid_to: date
) -> CoverageCertificate:
    """File a home country's certificate of coverage; only agreement countries issue valid ones."""
    if not permissions.may_file_certificate(actor):
        raise Forbidden("forbidden", "certificates are filed by HR or agency staff", "")
    code = validation.nationality(country, field="country")
    if code not in agreements() or agreements()[code].in_force is None:
        raise RuleError(
            "no_agreement",
            f"China has no social security agreement in force with {code}",
            "country",
        )
    validation.span(valid_from, valid_to, start_field="valid_from", end_field="valid_to")
    _check_certificate_period(agreements()[code], valid_from, valid_to)
    try:
        with transaction.atomic():
            # Locked so that two certificates filed at once cannot together pass the total.
            Person.objects.select_for_update().filter(pk=person.pk).first()
            earlier = list(
                CoverageCertificate.objects.filter(person=person, country=code).values_list(
                    "valid_from", "valid_to"
                )
            )
            check_total_exemption(agreements()[code], earlier, valid_from, valid_to)
            cert = CoverageCertificate.objects.create(
                person=person,
                number=validation.required_text(number, "number", max_length=60),
                country=code,
                valid_from=valid_from,
                valid_to=valid_to,
            )
            audit_record(
                actor=actor,
                action="certificate.add",
                object_type="certificate",
                object_id=cert.pk,
                person_id=person.pk,
                detail={"country": code, "valid_to": valid_to},
            )
    except IntegrityError:
        raise Conflict(
            "duplicate_certificate", f"certificate {code} {number} is already on file", "number"
        ) from None
    return cert


def _check_certificate_period(agreement: Agreement, valid_from: date, valid_to: date) -> None:
    """An agreement exempts a seconded worker for at most ``max_exemption_months`` per
    certificate: a longer certificate is not one the agreement honours, so it is refused rather
    than silently exempting the months beyond. Extensions come as a further certificate; the
    total over all of a person's certificates for the country is checked at filing
    (rules.agreements.check_total_exemption)."""
    single = agreement.max_exemption_months
    if single is not None and valid_to >= add_months(valid_from, single):
        last = add_months(valid_from, single) - timedelta(days=1)
        raise RuleError(
            "certificate_too_long",
            f"the China–{agreement.country} agreement exempts for at most {single} months: "
            f"a certificate from {valid_from} may run until {last} at the latest",
            "valid_to",
        )


# --- late hires ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HireWarning:
    """A consequence the employer must see before confirming a hire that is accepted anyway.

    ``late_fee_exposure`` (fen) is the late fee (SIL Art. 86: 0.05 % a day) that the months owed
    would carry if paid ``today``: each month's employer + employee contributions on the contract
    wage (clamped to the region's base limits, no coverage certificate), counted from that month's
    own due date. ``basis`` says so in words.
    """

    code: str
    message: str
    field: str
    overdue_days: int
    months_owed: int
    owed_amount: int  # fen
    late_fee_exposure: int  # fen
    basis: str
    # What the figures rest on, for a page to say the basis in its own language.
    due: date | None = None
    as_of: date | None = None
    start_date: date | None = None
    wage: int = 0  # fen
    region_code: str = ""
    unpriced: tuple[str, ...] = ()


def hire_warnings(*, employer: Employer, data: HireData, today: date) -> list[HireWarning]:
    """What a hire registered ``today`` brings with it: a missed 30-day registration deadline
    means back contributions from the start of employment and late fees on them. The permit's
    issue date must be known (for a card, the card's: see ``hire_warnings_for``)."""
    if data.permit_kind == DocumentKind.PERMANENT_RESIDENT_ID:
        clock = deadline("employment_registration", data.start_date)
    elif data.permit_issued_on is None:
        return []
    else:
        clock = deadline("registration", data.permit_issued_on)
    if today <= clock.due:
        return []
    overdue = (today - clock.due).days
    owed = fee = months = 0
    unpriced: list[str] = []
    if data.start_date <= today:
        first = Month.of(data.start_date)
        months = Month.of(today).minus(first) + 1
        for i in range(months):
            month = first.plus(i)
            try:
                pm = person_month(
                    region_code=employer.region_code,
                    month=month,
                    wage=data.contract_wage,
                    nationality=data.person.nationality,
                )
            except RuleError:
                unpriced.append(str(month))
                continue
            total = pm.employer_total + pm.employee_total
            owed += total
            due = pm.region.due_date(month)
            if today > due:
                fee += late_fee(total, due, today).fee_fen
    basis = (
        f"{months} contribution months from {data.start_date} to {today} at the contract wage "
        f"{format_yuan(data.contract_wage)} (employer and employee shares, base limits of "
        f"{employer.region_code}): {format_yuan(owed)}; late fee 0.05 % a day on each month "
        f"from its due date to {today} (Social Insurance Law Art. 86): {format_yuan(fee)}"
    )
    if unpriced:
        basis += f"; no policy for {', '.join(unpriced)}: not included"
    return [
        HireWarning(
            code="late_registration",
            message=(
                f"the registration deadline {clock.due} passed {overdue} days ago: "
                f"{months} months of contributions are owed back, with a late fee of about "
                f"{format_yuan(fee)} if paid today"
            ),
            field="permit_issued_on"
            if data.permit_kind != DocumentKind.PERMANENT_RESIDENT_ID
            else "start_date",
            overdue_days=overdue,
            months_owed=months,
            owed_amount=owed,
            late_fee_exposure=fee,
            basis=basis,
            due=clock.due,
            as_of=today,
            start_date=data.start_date,
            wage=data.contract_wage,
            region_code=employer.region_code,
            unpriced=tuple(unpriced),
        )
    ]
