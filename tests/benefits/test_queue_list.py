"""The agency's queue of termination applications at volume: a page at a time, searched, filtered
by stage, sorted and exported in the database (it rendered the oldest 200)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from expatsi.benefits.models import (
    ApplicationStatus,
    BankAccount,
    DepartureCase,
    TerminationApplication,
)
from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment
from expatsi.people.models import Person
from tests.benefits.conftest import Departed
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db


def queued(
    n: int, employer: Employer, region: str = "110000", first: int = 0
) -> list[TerminationApplication]:
    """``n`` applications of ``region`` by people who worked for ``employer``, signed a day apart
    (Q00 the oldest); every third waits for a second approval."""
    apps = []
    for i in range(first, first + n):
        person = Person.objects.create(
            family_name=f"Q{i:02d}", sex="male", birth_date=date(1985, 1, 1), nationality="FRA"
        )
        Employment.objects.create(
            person=person,
            employer=employer,
            start_date=date(2025, 1, 1),
            end_date=date(2025, 9, 30),
            position="Engineer",
            contract_wage=3_000_000,
        )
        case = DepartureCase.objects.create(
            person=person,
            region_code=region,
            trigger="declared",
            departure_date=date(2025, 9, 30),
            status="applied",
            opened_by="test",
        )
        account = BankAccount.objects.create(
            person=person, holder=f"Q{i:02d}", country="FRA", bic="PSSTFRPPPAR", currency="EUR"
        )
        app = TerminationApplication.objects.create(
            case=case,
            person=person,
            closing_date=date(2025, 11, 20),
            amount=100_000 + i,
            bank_account=account,
            signed_via="portal",
            status=ApplicationStatus.SECOND_APPROVAL if i % 3 == 0 else ApplicationStatus.SUBMITTED,
        )
        TerminationApplication.objects.filter(pk=app.pk).update(
            signed_at=datetime(2025, 10, 1, tzinfo=UTC) + timedelta(days=i)
        )
        apps.append(app)
    return apps


def names(html: str) -> list[str]:
    if 'id="queue"' not in html:
        return []
    table = html.split('id="queue"', 1)[1].split("</table>", 1)[0]
    return [
        row.split("</a>", 1)[0].rsplit(">", 1)[1].split()[0] for row in table.split("<tr id=")[1:]
    ]


def test_the_queue_pages_searches_filters_and_exports(departed: Departed) -> None:
    queued(30, departed.employer)
    # a Beijing employee's departure handled in Shanghai: not a Beijing officer's to decide
    queued(2, departed.employer, region="310000", first=30)
    staff = verified_login(Client(), departed.officer)
    first = names(staff.get("/benefits/applications/?per_page=25").content.decode())
    assert first == [f"Q{i:02d}" for i in range(25)]  # oldest first
    rest = names(staff.get("/benefits/applications/?per_page=25&page=2").content.decode())
    assert rest == [f"Q{i:02d}" for i in range(25, 30)]
    assert names(staff.get("/benefits/applications/?q=Q07").content.decode()) == ["Q07"]
    second = names(staff.get("/benefits/applications/?status=second_approval").content.decode())
    assert second == [f"Q{i:02d}" for i in range(0, 30, 3)]
    newest = names(staff.get("/benefits/applications/?sort=-signed&per_page=25").content.decode())
    assert newest[0] == "Q29"
    sent = staff.get("/benefits/applications/?export=csv&status=second_approval")
    rows = list(csv.reader(io.StringIO(b"".join(sent.streaming_content).decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == [f"Q{i:02d}" for i in range(0, 30, 3)]
    chinese = staff.get("/zh-hans/benefits/applications/?q=nobody").content.decode()
    assert "没有匹配的申请。" in chinese and "任何阶段" in chinese
