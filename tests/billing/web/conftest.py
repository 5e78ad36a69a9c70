"""Two tenants with bills, and a signed-in client per role, for the billing API and pages.

A: Beijing Co. (110000) employs Alpha (German, certificate of coverage: pension and unemployment
exempt) at 30,000 and Bravo (American) at 5,000 (below the lower limit). B: Shanghai Rep Office
(310000) employs Charlie (Japanese) at 20,000. Both regions are billed for 2025-08. Roles: agency
(every region), agency_sh (Shanghai only), hr_a, hr_b, bravo (the employee Bravo), anon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.utils.connection import BaseConnectionHandler

from expatsi.access.actors import SYSTEM
from expatsi.billing.models import Bill
from expatsi.billing.services import billing_run
from expatsi.employers.models import Employer
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from tests.billing.conftest import employ, make_person
from tests.factories import AgencyStaffFactory, HrMembershipFactory, PassportFactory, UserFactory
from tests.twofactor import verified_login

API = "/api/v1/billing"


@dataclass
class BillingWorld:
    a: Employer
    b: Employer
    alpha: Person
    bravo: Person
    charlie: Person
    bill_a: Bill
    bill_b: Bill
    users: dict[str, Any] = field(default_factory=dict)

    def client(self, role: str) -> Client:
        c = Client()
        if role != "anon":
            verified_login(c, self.users[role])
        return c


@pytest.fixture
def bworld(beijing, shanghai, beijing_staff) -> BillingWorld:
    alpha, bravo = beijing_staff
    charlie = make_person("Charlie", "JPN")
    employ(charlie, shanghai, 20000)
    for person, country, number in (
        (alpha, "DEU", "C01X00T47"),
        (bravo, "USA", "561234987"),
        (charlie, "JPN", "TK1234567"),
    ):
        PassportFactory(person=person, country=country, number=number, is_current=True)
    billing_run(actor=SYSTEM, region_code="110000", month=Month(2025, 8))
    billing_run(actor=SYSTEM, region_code="310000", month=Month(2025, 8))
    users = {
        role: UserFactory(username=f"{role}-user", email=f"{role}@example.org")
        for role in ("agency", "agency_sh", "hr_a", "hr_b", "bravo")
    }
    AgencyStaffFactory(user=users["agency"], regions="")
    AgencyStaffFactory(user=users["agency_sh"], regions="310000")
    HrMembershipFactory(user=users["hr_a"], employer=beijing)
    HrMembershipFactory(user=users["hr_b"], employer=shanghai)
    Person.objects.filter(pk=bravo.pk).update(user=users["bravo"])
    return BillingWorld(
        a=beijing,
        b=shanghai,
        alpha=alpha,
        bravo=bravo,
        charlie=charlie,
        bill_a=Bill.objects.get(employer=beijing, month="2025-08"),
        bill_b=Bill.objects.get(employer=shanghai, month="2025-08"),
        users=users,
    )


def _reset(handler: BaseConnectionHandler) -> None:  # type: ignore[type-arg]
    handler.__dict__.pop("settings", None)
    for alias in list(handler.settings):
        if hasattr(handler._connections, alias):
            delattr(handler._connections, alias)


@pytest.fixture
def immediate_tasks(settings):
    """Background jobs run in-process, at once (Django's immediate backend)."""
    from django.tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    _reset(task_backends)
    yield
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _reset(task_backends)


def post_json(client: Client, url: str, body: dict[str, Any], **headers: str):
    return client.post(url, body, content_type="application/json", headers=headers)


def fen(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int(frac.ljust(2, "0"))


__all__ = ["API", "BillingWorld", "date", "fen", "post_json"]


@pytest.fixture(autouse=True)
def _english_urls():
    """reverse() follows the active language; a page in Chinese leaves it active for the thread."""
    from django.utils import translation

    with translation.override("en"):
        yield
