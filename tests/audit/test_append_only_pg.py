"""On PostgreSQL, triggers refuse UPDATE and DELETE of audit events and checkpoints, whoever sends
them (the ORM, raw SQL, an injected statement); TRUNCATE, which the test suite's flush uses, is not
a row operation and still works for the table owner."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from expatsi.access.actors import SYSTEM
from expatsi.audit.models import AuditCheckpoint, AuditEvent
from expatsi.audit.services import audit_record, audit_verify

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not os.environ.get("EXPATSI_REQUIRE_POSTGRES_TESTS"),
        reason="the append-only triggers exist on PostgreSQL only",
    ),
]


def refused(statement: str, params: list[object]) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as c,
    ):
        c.execute(statement, params)


@pytest.mark.django_db
def test_update_and_delete_of_events_and_checkpoints_are_refused():
    assert connection.vendor == "postgresql"
    event = audit_record(actor=SYSTEM, action="test.write", object_type="x", object_id=1)
    assert audit_verify() == (True, None)
    checkpoint = AuditCheckpoint.objects.order_by("-id")[0]
    refused("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["test.read", event.pk])
    refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    refused("UPDATE audit_auditcheckpoint SET event_id = 0 WHERE id = %s", [checkpoint.pk])
    refused("DELETE FROM audit_auditcheckpoint WHERE id = %s", [checkpoint.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(detail={"forged": True})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.write"
    assert audit_verify() == (True, None)


@pytest.mark.django_db(transaction=True)
def test_flushing_the_database_still_works():
    audit_record(actor=SYSTEM, action="test.write", object_type="x", object_id=1)
    assert audit_verify() == (True, None)
    call_command("flush", interactive=False, verbosity=0)  # TRUNCATE, as TransactionTestCase does
    assert not AuditEvent.objects.exists() and not AuditCheckpoint.objects.exists()
