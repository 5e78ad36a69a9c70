"""The demo data set fills the departure pages: a person whose termination waits for review (with
a signed form to download), and a person paid out whose account is closed."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from expatsi.benefits.models import Payout, TerminationApplication
from expatsi.billing.models import AccountClosing
from expatsi.demo.data import demo_load
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_pending_and_a_paid_out_departure() -> None:
    demo_load(password=settings.EXPATSI_DEMO_PASSWORD, people=120)
    pending = TerminationApplication.objects.get(person__user__username="employee-leaving")
    assert (pending.status, pending.signed_via) == ("submitted", "upload")
    paid = TerminationApplication.objects.get(person__user__username="employee-paid-out")
    assert paid.status == "paid" and paid.amount > 0
    assert Payout.objects.get(application=paid, kind="payout").status == "paid"
    assert AccountClosing.objects.get(person=paid.person).amount == paid.amount

    from django.contrib.auth.models import User

    staff = verified_login(Client(), User.objects.get(username="agency-officer"))
    queue = staff.get("/benefits/applications/").content.decode()
    assert pending.person.full_name in queue
    assert staff.get(f"/benefits/applications/{pending.pk}/signed-form/").status_code == 200
    payments = staff.get("/benefits/payments/").content.decode()
    assert "EXP110000" in payments  # the payment run's message id

    person = Client()
    person.force_login(paid.person.user)
    page = person.get("/benefits/leaving/").content.decode()
    assert "Terminated and paid out" in page
    assert 'id="account-closed"' in person.get("/billing/me/").content.decode()
