"""Signed checkpoints anchor the head of the audit chain: removing the newest events, or rewriting
the whole chain and recomputing every hash, no longer passes verification."""

import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from expatsi.access.actors import SYSTEM
from expatsi.audit.keys import audit_public_keys
from expatsi.audit.models import AuditCheckpoint, AuditEvent
from expatsi.audit.services import (
    GENESIS,
    _digest,
    _fields,
    audit_check,
    audit_record,
    audit_verify,
    checkpoint_message,
)
from expatsi.cards.keys import keyring
from expatsi.cli import main
from tests.audit.tamper import sql

pytestmark = pytest.mark.django_db


def events(n: int) -> list[AuditEvent]:
    return [
        audit_record(actor=SYSTEM, action="test.write", object_type="x", object_id=i)
        for i in range(n)
    ]


def drop_newest(made: list[AuditEvent], n: int) -> None:
    """Delete the newest ``n`` events and point the head at the survivor, as an attacker would."""
    keep = made[-n - 1]
    sql("DELETE FROM audit_auditevent WHERE id > %s", [keep.pk])
    sql("UPDATE audit_audithead SET last_hash = %s", [keep.hash])


def rechain(action: str = "test.forged") -> None:
    """Rewrite every event and recompute every hash: each link matches again."""
    prev = GENESIS
    for event in AuditEvent.objects.order_by("id"):
        event.action = action
        new = _digest(prev, _fields(event))
        sql(
            "UPDATE audit_auditevent SET action = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [action, prev, new, event.pk],
        )
        prev = new
    sql("UPDATE audit_audithead SET last_hash = %s", [prev])


def cli_verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["audit", "verify", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_deleting_the_newest_events_is_reported(capsys):
    made = events(5)
    assert audit_verify() == (True, None)
    drop_newest(made, 2)
    assert audit_verify() == (False, made[-1].pk)
    assert audit_verify(full=False) == (False, made[-1].pk)
    code, out = cli_verify(capsys)
    assert code == 1
    assert out["intact"] is False and out["problem"] == "removed"
    assert f"#{made[-1].pk}" in out["detail"]


def test_deleting_the_newest_events_after_a_page_view_check_is_reported():
    made = events(4)
    assert audit_verify(full=False) == (True, None)  # what a visit to the audit page does
    drop_newest(made, 1)
    assert audit_verify(full=False) == (False, made[-1].pk)


def test_deleting_the_newest_events_and_every_checkpoint_row_is_still_reported():
    made = events(5)
    assert audit_verify() == (True, None)
    drop_newest(made, 2)
    sql("DELETE FROM audit_auditcheckpoint")  # the file beside the database still knows
    assert audit_verify() == (False, made[-1].pk)


def test_rewriting_the_chain_and_recomputing_every_hash_is_reported(capsys):
    made = events(4)
    assert audit_verify() == (True, None)
    rechain()
    assert audit_check().problem == "rewritten"
    assert audit_verify() == (False, made[-1].pk)
    assert audit_verify(full=False) == (False, made[-1].pk)
    code, out = cli_verify(capsys, "--since-checkpoint")
    assert code == 1
    assert out["problem"] == "rewritten"


def test_rewriting_the_chain_and_its_checkpoint_rows_is_still_reported():
    made = events(4)
    assert audit_verify() == (True, None)
    rechain()
    sql("DELETE FROM audit_auditcheckpoint")
    assert audit_verify() == (False, made[-1].pk)


def test_a_checkpoint_not_signed_by_the_audit_key_is_reported():
    made = events(3)
    assert audit_verify() == (True, None)
    rechain()
    forged_head = AuditEvent.objects.get(pk=made[-1].pk).hash
    sql("DELETE FROM audit_auditcheckpoint")
    Path(django_settings.EXPATSI_AUDIT_CHECKPOINT_FILE).unlink()  # even with the file gone
    sql(
        "INSERT INTO audit_auditcheckpoint "
        "(event_id, hash, verified_at, whole_chain, key_id, signature) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        [made[-1].pk, forged_head, made[-1].at, True, next(iter(audit_public_keys())), "00" * 64],
    )
    result = audit_check()
    assert not result.intact and result.problem == "forged_checkpoint"


def test_honest_use_stays_intact_through_page_views_nightly_checks_and_a_key_rotation(capsys):
    events(3)
    assert audit_verify() == (True, None)
    events(2)
    assert audit_verify(full=False) == (True, None)
    assert audit_verify(full=False) == (True, None)  # nothing new since: still intact
    first = AuditCheckpoint.objects.order_by("-id")[0]
    assert main(["audit", "keys", "rotate", "--json"]) == 0
    rotated = json.loads(capsys.readouterr().out)
    assert rotated["current"] != first.key_id
    events(1)
    assert audit_verify(full=False) == (True, None)  # the old checkpoint still verifies
    assert audit_verify() == (True, None)
    latest = AuditCheckpoint.objects.order_by("-id")[0]
    assert latest.key_id == rotated["current"] and latest.whole_chain
    assert latest.event_id == AuditEvent.objects.order_by("-id")[0].pk


def test_a_checkpoint_names_the_head_and_is_signed_by_the_audit_key_alone():
    made = events(2)
    assert audit_verify() == (True, None)
    checkpoint = AuditCheckpoint.objects.order_by("-id")[0]
    assert (checkpoint.event_id, checkpoint.hash) == (made[-1].pk, made[-1].hash)
    public = audit_public_keys()[checkpoint.key_id]
    public.verify(bytes.fromhex(checkpoint.signature), checkpoint_message(checkpoint))
    ring = keyring()
    card_kids = {k.kid.hex() for k in (ring.anchor, *ring.signers)}
    assert checkpoint.key_id not in card_kids
    with pytest.raises(RuntimeError):
        checkpoint.save()
    with pytest.raises(RuntimeError):
        checkpoint.delete()


def test_without_an_audit_key_production_refuses_and_debug_creates_one(settings, tmp_path):
    settings.EXPATSI_KEY_DIR = tmp_path / "keys"
    events(1)
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="keys init"):
        audit_verify()
    settings.DEBUG = True
    assert audit_verify() == (True, None)
    assert list((tmp_path / "keys").glob("audit-*.pem"))


def test_card_keys_init_creates_the_audit_key_beside_the_card_keys(settings, tmp_path, capsys):
    from expatsi.cards import keys as card_keys

    settings.EXPATSI_KEY_DIR = tmp_path / "keys"
    try:
        assert main(["card", "keys", "init", "--json"]) == 0
        capsys.readouterr()
        assert len(list((tmp_path / "keys").glob("audit-*.pem"))) == 1
        assert main(["audit", "keys", "list", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert [k["current"] for k in listed["keys"]] == [True]
    finally:
        card_keys.reset_caches()  # the card key ring of the session's key directory again
