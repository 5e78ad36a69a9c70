"""The audit chain: appends verify, any edit or removal shows, checkpoints make page views cheap."""

import json

import pytest

from expatsi.access.actors import SYSTEM
from expatsi.audit.models import AuditEvent
from expatsi.audit.services import audit_record, audit_verify
from expatsi.cli import main
from tests.audit.tamper import sql

pytestmark = pytest.mark.django_db


def events(n: int) -> list[AuditEvent]:
    return [
        audit_record(actor=SYSTEM, action="test.write", object_type="x", object_id=i)
        for i in range(n)
    ]


def tamper(event: AuditEvent, action: str) -> None:
    # behind the model's back, as an attacker with SQL access would
    sql("UPDATE audit_auditevent SET action = %s WHERE id = %s", [action, event.pk])


def test_an_edited_event_breaks_the_chain_at_that_event(capsys):
    made = events(5)
    assert audit_verify() == (True, None)
    tamper(made[2], "test.read")
    assert audit_verify() == (False, made[2].pk)
    assert main(["audit", "verify", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["first_bad_event"] == made[2].pk


def test_a_removed_event_breaks_the_chain():
    made = events(4)
    sql("DELETE FROM audit_auditevent WHERE id = %s", [made[1].pk])
    assert audit_verify() == (False, made[2].pk)


def test_the_checkpoint_verifies_only_new_events_but_a_full_walk_finds_old_tampering():
    made = events(3)
    assert audit_verify(full=False) == (True, None)  # checkpoint now at the last event
    tamper(made[0], "test.read")
    more = events(2)
    assert audit_verify(full=False) == (True, None)  # new events chain on correctly
    assert audit_verify(full=True) == (False, made[0].pk)
    assert more[-1].prev_hash == more[-2].hash


def test_the_model_refuses_updates_and_deletes():
    (event,) = events(1)
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
