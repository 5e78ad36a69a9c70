"""Tell the person what happened to their departure, application and payout: an inbox entry (and
an e-mail) in their language, sent only once the transaction that decided it has committed.

The message texts are in notify/messages.py (both languages). Each notice has a key made of what
it is about, so a service that runs again (a return file applied twice) tells nobody twice. A
person without a portal user gets no notice (the agency writes to them on paper).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from expatsi.benefits.models import (
    DepartureCase,
    Payout,
    ProgrammeApplication,
    ProgrammeStatus,
    TerminationApplication,
)
from expatsi.notify.services import notify_user
from expatsi.people.models import Person
from expatsi.rules.money import format_yuan

log = logging.getLogger(__name__)


def yuan(fen: int) -> str:
    return f"¥{format_yuan(fen, thousands=True)}"


def _later(person: Person, kind: str, key: str, params: dict[str, Any]) -> None:
    """Queue the notice for after the commit; a failure is logged, never undoes the decision."""
    user_id = person.user_id
    if user_id is None:
        return
    payload = {"person": person.full_name, **params}

    def send() -> None:
        user = Person.objects.select_related("user").get(pk=person.pk).user
        if user is None:
            return
        try:
            notify_user(user=user, kind=kind, params=payload, dedupe_key=f"benefits:{key}")
        except Exception:
            log.exception("notice %s to person %s failed", kind, person.pk)

    transaction.on_commit(send)


def departure_opened(case: DepartureCase) -> None:
    _later(
        case.person,
        "departure_opened",
        f"departure:{case.pk}",
        {"date": case.departure_date.isoformat()},
    )


def application_received(app: TerminationApplication) -> None:
    _later(
        app.person,
        "termination_received",
        f"termination:{app.pk}:received",
        {"amount": yuan(app.amount), "closing_date": app.closing_date.isoformat()},
    )


def application_approved(app: TerminationApplication) -> None:
    _later(
        app.person,
        "termination_approved",
        f"termination:{app.pk}:approved",
        {"amount": yuan(app.amount), "account": app.bank_account.masked_number},
    )


def application_rejected(app: TerminationApplication) -> None:
    _later(
        app.person,
        "termination_rejected",
        f"termination:{app.pk}:rejected",
        {"reason": app.rejection_reason},
    )


def payout_sent(payout: Payout, execution_date: str) -> None:
    if payout.programme_application_id is not None:
        return  # a programme's payment is told when paid or returned
    _later(
        payout.person,
        "payout_sent",
        f"payout:{payout.pk}:sent",
        {
            "amount": yuan(payout.amount),
            "account": payout.bank_account.masked_number,
            "currency": payout.currency,
            "date": execution_date,
        },
    )


def payout_paid(payout: Payout, on: str) -> None:
    _later(
        payout.person,
        "payout_paid",
        f"payout:{payout.pk}:paid",
        {"amount": yuan(payout.amount), "account": payout.bank_account.masked_number, "date": on},
    )


def payout_returned(payout: Payout, reason: str) -> None:
    if payout.programme_application_id is not None:
        _later(
            payout.person,
            "programme_returned",
            f"payout:{payout.pk}:returned",
            {
                "amount": yuan(payout.amount),
                "account": payout.bank_account.masked_number,
                "reason": reason or "—",
            },
        )
        return
    _later(
        payout.person,
        "payout_returned",
        f"payout:{payout.pk}:returned",
        {
            "amount": yuan(payout.amount),
            "account": payout.bank_account.masked_number,
            "reason": reason or "—",
        },
    )


# --- benefit programmes ---------------------------------------------------------------------------


def programme_decided(app: ProgrammeApplication, name: str) -> None:
    approved = app.status == ProgrammeStatus.APPROVED
    _later(
        app.person,
        "programme_approved" if approved else "programme_rejected",
        f"programme:{app.pk}:{app.status}",
        {
            "programme": name,
            "amount": yuan(app.amount),
            "account": app.bank_account.masked_number,
            "reason": app.rejection_reason or "—",
        },
    )


def programme_paid(payout: Payout, on: str) -> None:
    _later(
        payout.person,
        "programme_paid",
        f"payout:{payout.pk}:paid",
        {"amount": yuan(payout.amount), "account": payout.bank_account.masked_number, "date": on},
    )
