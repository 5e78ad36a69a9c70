"""The person is told, in their language and only after the decision is committed: departure
opened, application received / approved / rejected, payout sent / paid / returned."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from expatsi.benefits import services
from expatsi.benefits.models import Payout
from expatsi.notify.models import Notification
from expatsi.people.models import Person
from tests.benefits.conftest import LEFT_ON, Departed
from tests.benefits.test_account_after_lump_sum import FRENCH
from tests.portal.factories import PASSWORD


def kinds(d: Departed) -> list[str]:
    return list(
        Notification.objects.filter(user=d.user).order_by("pk").values_list("kind", flat=True)
    )


def apply(d: Departed):
    case, _ = services.departure_open(actor=d.actor, person_id=d.person.pk, departure_date=LEFT_ON)
    return services.termination_apply(
        actor=d.actor,
        case_id=case.pk,
        bank_details=FRENCH,
        declaration=True,
        password=PASSWORD,
        closing_date=date(2025, 11, 20),
    )


def test_every_step_is_told_once_after_commit(
    departed: Departed, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        app = apply(departed)
    assert kinds(departed) == ["departure_opened", "termination_received"]
    received = Notification.objects.get(kind="termination_received")
    assert "¥7,227.00" in received.body and "2025-11-20" in received.body
    with django_capture_on_commit_callbacks(execute=True):
        services.termination_decide(
            actor=departed.agency(),
            termination_id=app.pk,
            decision="approve",
            identity_checked=True,
        )
        services.payment_run(
            actor=departed.agency(), region_code="110000", execution_date=date(2025, 12, 1)
        )
    payout = Payout.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        text = f"end_to_end_id,status,date,reason\n{payout.end_to_end_id},RJCT,2025-12-03,AC04 closed\n"
        services.payments_reconcile(actor=departed.agency(), text=text)
        services.payments_reconcile(actor=departed.agency(), text=text)  # again: nothing new
    assert kinds(departed) == [
        "departure_opened",
        "termination_received",
        "termination_approved",
        "payout_sent",
        "payout_returned",
    ]
    sent = Notification.objects.get(kind="payout_sent")
    assert "****2606" in sent.body and "2025-12-01" in sent.body and "EUR" in sent.body
    assert "FR1420041010050500013M02606" not in sent.body  # the account only masked
    returned = Notification.objects.get(kind="payout_returned")
    assert "AC04 closed" in returned.body


def test_rejection_in_chinese(departed: Departed, django_capture_on_commit_callbacks) -> None:
    Person.objects.filter(pk=departed.person.pk).update(preferred_language="zh-hans")
    departed.person.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        app = apply(departed)
        services.termination_decide(
            actor=departed.agency(), termination_id=app.pk, decision="reject", reason="签名不符"
        )
    note = Notification.objects.get(kind="termination_rejected")
    assert note.language == "zh-hans"
    assert note.subject == "您的终止申请被拒绝"
    assert "签名不符" in note.body


def test_a_rolled_back_decision_tells_nobody(
    departed: Departed, django_capture_on_commit_callbacks
) -> None:
    def failing_request() -> None:
        with transaction.atomic():
            apply(departed)
            raise RuntimeError("the request failed later")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing_request()
    assert kinds(departed) == []


def test_a_paid_payout_is_told(departed: Departed, django_capture_on_commit_callbacks) -> None:
    app = apply(departed)
    services.termination_decide(
        actor=departed.agency(), termination_id=app.pk, decision="approve", identity_checked=True
    )
    services.payment_run(actor=departed.agency(), region_code="110000")
    e2e = Payout.objects.get().end_to_end_id
    with django_capture_on_commit_callbacks(execute=True):
        services.payments_reconcile(
            actor=departed.agency(), text=f"end_to_end_id,status,date\n{e2e},ACSC,2025-12-03\n"
        )
    assert kinds(departed) == ["payout_paid"]
