"""Benefit programmes (subsidies): defined as data, applied for by the card holder, reviewed by the
agency of the holder's region, paid through the payment run (a ``subsidy`` payout).

The programmes live in benefits/policies/programmes.toml: name and description in both languages,
who qualifies (contribution months of the account open now, region, an active Integrated Card),
the dates the programme is open, the amount in fen, its source and how sure that is. The file is
checked when read; a broken file stops with the programme and the field at fault.

The amount and the months counted are fixed when the person applies: what they saw is what is
reviewed and paid. One application per person and programme that is under way or paid.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.benefits import approval, notices, permissions
from expatsi.benefits.models import (
    LIVE_PROGRAMME,
    PROGRAMME_TO_DECIDE,
    Payout,
    PayoutKind,
    ProgrammeApplication,
    ProgrammeStatus,
)
from expatsi.benefits.services import (
    BankDetails,
    bank_account_store,
    bank_checked,
    second_approval_above,
)
from expatsi.billing.payments import contribution_months
from expatsi.cards.models import Card, CardStatus
from expatsi.insurance.models import Employment
from expatsi.insurance.selectors import persons_visible
from expatsi.people.models import Person
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError

POLICY = Path(__file__).parent / "policies" / "programmes.toml"
STATUSES = ("CONFIRMED", "SECONDARY", "UNCONFIRMED", "CONVENTION")


@dataclass(frozen=True)
class Programme:
    code: str
    name: str
    name_zh: str
    description: str
    description_zh: str
    min_months: int
    regions: tuple[str, ...]
    effective_from: date
    effective_to: date | None
    amount: int  # fen
    status: str
    source: str

    @property
    def title(self) -> str:
        """The name in the active language."""
        return self.name_zh if _chinese() else self.name

    @property
    def about(self) -> str:
        return self.description_zh if _chinese() else self.description

    def open_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


def _chinese() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


def _programme(raw: dict[str, Any], n: int) -> Programme:
    where = f"programmes.toml, programme {n}"

    def text(key: str, *, required: bool = True) -> str:
        value = raw.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise ValueError(f"{where}: {key} must be a non-empty string")
        return value.strip()

    def day(key: str) -> date:
        try:
            return date.fromisoformat(text(key))
        except ValueError:
            raise ValueError(f"{where}: {key} must be a date YYYY-MM-DD") from None

    amount = raw.get("amount_fen")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"{where}: amount_fen must be a positive whole number of fen")
    months = raw.get("min_months", 0)
    if isinstance(months, bool) or not isinstance(months, int) or not 0 <= months <= 840:
        raise ValueError(f"{where}: min_months must be a whole number 0–840")
    regions = raw.get("regions", [])
    if not isinstance(regions, list) or not all(
        isinstance(r, str) and r.isdigit() and len(r) == 6 for r in regions
    ):
        raise ValueError(f"{where}: regions must be a list of six-digit region codes")
    code = text("code")
    if not code.replace("_", "").isalnum() or len(code) > 40:
        raise ValueError(f"{where}: code must be letters, digits and _ (at most 40)")
    status = text("status")
    if status not in STATUSES:
        raise ValueError(f"{where}: status must be one of {', '.join(STATUSES)}")
    start = day("effective_from")
    end = day("effective_to") if raw.get("effective_to") else None
    if end is not None and end < start:
        raise ValueError(f"{where}: effective_to is before effective_from")
    return Programme(
        code=code,
        name=text("name"),
        name_zh=text("name_zh"),
        description=text("description", required=False),
        description_zh=text("description_zh", required=False),
        min_months=months,
        regions=tuple(regions),
        effective_from=start,
        effective_to=end,
        amount=amount,
        status=status,
        source=text("source"),
    )


def load(path: Path = POLICY) -> dict[str, Programme]:
    """The programmes of ``path`` by code, checked; ValueError names what is wrong."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    found: dict[str, Programme] = {}
    for n, raw in enumerate(data.get("programmes", []), start=1):
        prog = _programme(raw, n)
        if prog.code in found:
            raise ValueError(f"programmes.toml: the code {prog.code} appears twice")
        found[prog.code] = prog
    return found


@cache
def programmes() -> dict[str, Programme]:
    return load()


def programme_get(code: str) -> Programme:
    prog = programmes().get(code)
    if prog is None:
        raise RuleError("unknown_programme", f"no programme {code!r}", "programme")
    return prog


# --- who qualifies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Eligibility:
    programme: Programme
    months: int
    region: str
    reasons: tuple[Reason, ...]
    application: ProgrammeApplication | None

    @property
    def eligible(self) -> bool:
        return not self.reasons


def region_of(person_id: int, on: date) -> str:
    """The region of the employment running on ``on`` (the one the holder works in now)."""
    emp = (
        Employment.objects.filter(person_id=person_id, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .select_related("employer")
        .order_by("-start_date", "-pk")
        .first()
    )
    return emp.employer.region_code if emp else ""


def eligibility(person: Person, prog: Programme, on: date) -> Eligibility:
    """Whether ``person`` qualifies for ``prog`` on ``on``, and every reason they do not."""
    months = contribution_months(person.pk)
    region = region_of(person.pk, on)
    reasons: list[Reason] = []
    if not prog.open_on(on):
        reasons.append(
            Reason(
                "programme_closed",
                {
                    "start": prog.effective_from.isoformat(),
                    "end": prog.effective_to.isoformat() if prog.effective_to else "—",
                },
            )
        )
    if not Card.objects.filter(person=person, status=CardStatus.ACTIVE).exists():
        reasons.append(Reason("programme_no_card"))
    if not region:
        reasons.append(Reason("programme_not_employed"))
    elif prog.regions and region not in prog.regions:
        reasons.append(Reason("programme_region"))
    if months < prog.min_months:
        reasons.append(
            Reason(
                "programme_months",
                {"have": months, "need": prog.min_months, "missing": prog.min_months - months},
            )
        )
    existing = (
        ProgrammeApplication.objects.filter(
            person=person, programme=prog.code, status__in=LIVE_PROGRAMME
        )
        .order_by("-pk")
        .first()
    )
    if existing is not None:
        reasons.append(Reason("programme_applied"))
    return Eligibility(prog, months, region, tuple(reasons), existing)


def my_programmes(person: Person, on: date | None = None) -> list[Eligibility]:
    day = on or timezone.localdate()
    return [eligibility(person, p, day) for p in programmes().values()]


# --- reads -------------------------------------------------------------------------------------------


def applications_visible(actor: Actor) -> QuerySet[ProgrammeApplication]:
    """The person their own; agency staff their regions' (persons they may see); nobody else."""
    qs = ProgrammeApplication.objects.select_related("person", "bank_account")
    if actor.kind == "employee" and actor.person_id is not None:
        return qs.filter(person_id=actor.person_id)
    if actor.kind == "agency":
        qs = qs.filter(person__in=persons_visible(actor))
        regions = permissions.region_scope(actor)
        return qs if regions is None else qs.filter(regions)
    if actor.kind == "system":
        return qs
    return qs.none()


def application_get(
    *, actor: Actor, programme_application_id: int, audit: bool = True
) -> ProgrammeApplication:
    app = applications_visible(actor).filter(pk=programme_application_id).first()
    if app is None:
        raise NotFound(
            "not_found",
            f"no programme application {programme_application_id} that you may see",
            "programme_application_id",
        )
    if audit and permissions.reads_are_audited(actor):
        audit_record(
            actor=actor,
            action="programme.read",
            object_type="programme_application",
            object_id=app.pk,
            person_id=app.person_id,
        )
    return app


def applications_queue(actor: Actor) -> QuerySet[ProgrammeApplication]:
    """Applications awaiting review, oldest first (agency staff)."""
    if not permissions.may_review_programmes(actor):
        return ProgrammeApplication.objects.none()
    return (
        applications_visible(actor)
        .filter(status__in=PROGRAMME_TO_DECIDE)
        .order_by("applied_at", "pk")
    )


# --- writes ------------------------------------------------------------------------------------------


def programme_apply(
    *, actor: Actor, programme: str, bank_details: BankDetails, on: date | None = None
) -> ProgrammeApplication:
    """The card holder applies: they must qualify on the day; the amount and months are fixed."""
    if not permissions.may_apply_programmes(actor) or actor.person_id is None:
        raise Forbidden("forbidden", "the card holder applies for a programme", "")
    prog = programme_get(programme)
    day = on or timezone.localdate()
    holder = validation.required_text(bank_details.holder, "holder", max_length=140)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=actor.person_id)
        found = eligibility(person, prog, day)
        if not found.eligible:
            first = found.reasons[0]
            raise (Conflict if first.code == "programme_applied" else RuleError)(
                first.code,
                f"you do not qualify for {prog.code}: {first.code.replace('_', ' ')}",
                "programme",
                first.params,
            )
        # the holder usually lives in China: a Chinese account is taken
        checked = bank_checked(bank_details, in_china=True)
        account = bank_account_store(person.pk, holder, checked)
        try:
            with transaction.atomic():
                app = ProgrammeApplication.objects.create(
                    person=person,
                    programme=prog.code,
                    region_code=found.region,
                    amount=prog.amount,
                    months_counted=found.months,
                    bank_account=account,
                    applied_by=actor.label[:200],
                )
        except IntegrityError:
            raise Conflict(
                "programme_applied", "you already applied for this programme", "programme"
            ) from None
        audit_record(
            actor=actor,
            action="programme.apply",
            object_type="programme_application",
            object_id=app.pk,
            person_id=person.pk,
            detail={
                "programme": prog.code,
                "amount": prog.amount,
                "months": found.months,
                "account": account.masked_number,
            },
        )
    return app


def programme_decide(
    *,
    actor: Actor,
    programme_application_id: int,
    decision: str,
    note: str = "",
    reason: str = "",
) -> ProgrammeApplication:
    """Agency staff of the holder's region approve (a ``subsidy`` payout waits for the next
    payment run) or reject with a reason. Above ``EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE`` the first
    approval only moves the application to a second, different agency user, who approves (the
    payout is created then) or rejects — four eyes, as for lump sums, pensions and inheritance.
    Decided once."""
    if decision not in ("approve", "reject"):
        raise RuleError("invalid_decision", "decide approve or reject", "decision")
    note = validation.text(note, "note", max_length=500)
    with transaction.atomic():
        application_get(actor=actor, programme_application_id=programme_application_id, audit=False)
        app = (
            ProgrammeApplication.objects.select_for_update()
            .select_related("person", "bank_account")
            .get(pk=programme_application_id)
        )
        if not permissions.may_review_programme(actor, app.region_code):
            raise Forbidden("forbidden", "programme applications are reviewed by the agency", "")
        if app.status not in PROGRAMME_TO_DECIDE:
            raise Conflict(
                "already_decided", "this application has already been decided", "decision"
            )
        second = app.status == ProgrammeStatus.SECOND_APPROVAL
        approval.refuse_same_reviewer(app, actor, second=second, field="")
        approval.stamp(app, actor, second=second, note=note)
        if decision == "reject":
            app.rejection_reason = validation.required_text(reason, "reason", max_length=500)
            app.status = ProgrammeStatus.REJECTED
        elif not second and app.amount > second_approval_above():
            app.status = ProgrammeStatus.SECOND_APPROVAL
        else:
            app.status = ProgrammeStatus.APPROVED
        app.save()
        payout = None
        if app.status == ProgrammeStatus.APPROVED:
            payout = Payout.objects.create(
                programme_application=app,
                person=app.person,
                region_code=app.region_code,
                kind=PayoutKind.SUBSIDY,
                amount=app.amount,
                currency=app.bank_account.currency,
                bank_account=app.bank_account,
                end_to_end_id=f"BP{app.pk:010d}N001",
                created_by=actor.label[:200],
            )
        audit_record(
            actor=actor,
            action=f"programme.{decision}",
            object_type="programme_application",
            object_id=app.pk,
            person_id=app.person_id,
            detail={
                "programme": app.programme,
                "amount": app.amount,
                "note": note,
                "reason": app.rejection_reason,
                "payout": payout.end_to_end_id if payout else "",
                "stage": "second" if second else "first",
                "status": app.status,
            },
        )
        if app.status != ProgrammeStatus.SECOND_APPROVAL:  # the person hears the final decision
            prog = programmes().get(app.programme)
            # both names: the notice is rendered in the person's language, the name is data
            notices.programme_decided(
                app, f"{prog.name} ({prog.name_zh})" if prog else app.programme
            )
    return app
