"""The programmes migration also writes billing's closing entry for every account paid out before
billing kept one: after it, those accounts' statements start from zero as well."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from expatsi.benefits.models import (
    AccountClosure,
    BankAccount,
    DepartureCase,
    TerminationApplication,
)
from expatsi.billing.models import AccountClosing
from expatsi.people.models import Person


@pytest.mark.django_db(transaction=True)
def test_paid_out_accounts_get_billings_closing_entry() -> None:
    from django.db.migrations.executor import MigrationExecutor

    def migrate(target: list[tuple[str, str]]) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(target)

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate([("benefits", "0001_initial")])
    try:
        # The tables these rows go to are as 0001 made them (0004 adds a table and changes payouts).
        person = Person.objects.create(
            family_name="Early", sex="male", birth_date=date(1985, 1, 1), nationality="FRA"
        )
        case = DepartureCase.objects.create(
            person=person,
            region_code="110000",
            trigger="declared",
            departure_date=date(2025, 9, 30),
            status="terminated",
            opened_by="test",
        )
        account = BankAccount.objects.create(
            person=person, holder="Early", country="FRA", bic="PSSTFRPPPAR", currency="EUR"
        )
        app = TerminationApplication.objects.create(
            case=case,
            person=person,
            closing_date=date(2025, 11, 20),
            amount=722_700,
            bank_account=account,
            signed_via="portal",
            status="paid",
        )
        AccountClosure.objects.create(
            person=person,
            application=app,
            closed_on=date(2025, 11, 20),
            closed_month="2025-11",
            amount=722_700,
        )
        AccountClosing.objects.filter(person=person).delete()
    finally:
        migrate(latest)
    closing = AccountClosing.objects.get(person=person)
    assert (closing.closed_month, closing.amount, closing.reference) == (
        "2025-11",
        722_700,
        f"termination:{app.pk}",
    )
