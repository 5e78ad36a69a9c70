"""Append to the audit chain and verify it. Each event's hash covers the previous hash, so an edit
or a removal in the middle shows; signed checkpoints of the head show a chain cut short or rewritten
as a whole (see :class:`~expatsi.audit.models.AuditCheckpoint`)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.keys import audit_public_keys, audit_signer
from expatsi.audit.models import AuditCheckpoint, AuditEvent, AuditHead

GENESIS = "0" * 64
log = logging.getLogger(__name__)


def _digest(prev: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(
        fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256((prev + payload).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "actor_user_id": event.actor_user_id,
        "actor_label": event.actor_label,
        "actor_kind": event.actor_kind,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "person_id": event.person_id,
        "ip": event.ip,
        "detail": event.detail,
    }


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    person_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one event (a write, or a read of personal data) in the same transaction as the work."""
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head, _ = AuditHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
            head = AuditHead.objects.select_for_update().get(pk=1)
        event = AuditEvent(
            at=timezone.now(),
            actor_user_id=actor.user_id,
            actor_label=actor.label[:200],
            actor_kind=actor.kind,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            person_id=person_id,
            ip=actor.ip,
            detail=json.loads(json.dumps(detail or {}, default=str)),
            prev_hash=head.last_hash,
        )
        event.hash = _digest(head.last_hash, _fields(event))
        event.save()
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


def _walk(after_id: int, prev: str) -> tuple[bool, int | None, int, str]:
    last_id = after_id
    for event in (
        AuditEvent.objects.filter(id__gt=after_id).order_by("id").iterator(chunk_size=2000)
    ):
        if event.prev_hash != prev or _digest(prev, _fields(event)) != event.hash:
            return False, event.pk, last_id, prev
        prev, last_id = event.hash, event.pk
    return True, None, last_id, prev


# --- signed checkpoints -------------------------------------------------------------------------

Problem = Literal["", "altered", "removed", "rewritten", "forged_checkpoint"]


class Sealed(Protocol):
    """What a signature covers: an AuditCheckpoint row, or the copy kept in the checkpoint file."""

    @property
    def event_id(self) -> int: ...
    @property
    def hash(self) -> str: ...
    @property
    def verified_at(self) -> datetime: ...
    @property
    def whole_chain(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Seal:
    event_id: int
    hash: str
    verified_at: datetime
    whole_chain: bool
    key_id: str
    signature: str
    where: str  # "database" or the file's path, for the report


@dataclass(frozen=True, slots=True)
class Verification:
    intact: bool
    first_bad_event: int | None = None
    problem: Problem = ""
    detail: str = ""  # one English sentence for the command line and the logs
    sealed_at: datetime | None = None  # time of the checkpoint that showed the problem


def checkpoint_message(checkpoint: Sealed) -> bytes:
    """The bytes the audit key signs: head sequence number, head hash, time, kind of walk."""
    at = checkpoint.verified_at.astimezone(UTC).isoformat(timespec="microseconds")
    return (
        f"expatsi audit checkpoint v1\n{checkpoint.event_id}\n{checkpoint.hash}\n{at}\n"
        f"{int(checkpoint.whole_chain)}"
    ).encode()


def checkpoint_file() -> Path:
    """Where the newest signed checkpoint is kept outside the database (read at each use)."""
    return Path(settings.EXPATSI_AUDIT_CHECKPOINT_FILE)


def _seal_from_row(row: AuditCheckpoint) -> Seal:
    return Seal(
        event_id=row.event_id,
        hash=row.hash,
        verified_at=row.verified_at,
        whole_chain=row.whole_chain,
        key_id=row.key_id,
        signature=row.signature,
        where="database",
    )


def _read_file(path: Path) -> Seal | None:
    """The checkpoint in the file; None when there is no file yet (a new installation)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return Seal(
        event_id=int(data["event_id"]),
        hash=str(data["hash"]),
        verified_at=datetime.fromisoformat(str(data["verified_at"])),
        whole_chain=bool(data["whole_chain"]),
        key_id=str(data["key_id"]),
        signature=str(data["signature"]),
        where=str(path),
    )


def _write_file(path: Path, seal: Seal) -> None:
    """Replace the file atomically, never with an older checkpoint than it holds. (Two processes
    sealing at once can still leave the older of their two: a true statement, only less recent.)"""
    try:
        current = _read_file(path)
        if current is not None and current.event_id > seal.event_id:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "event_id": seal.event_id,
            "hash": seal.hash,
            "verified_at": seal.verified_at.isoformat(),
            "whole_chain": seal.whole_chain,
            "key_id": seal.key_id,
            "signature": seal.signature,
        }
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("audit checkpoint file %s not written: %s", path, exc)


def _signed(seal: Seal, keys: dict[str, Ed25519PublicKey]) -> bool:
    key = keys.get(seal.key_id)
    if key is None:
        return False
    try:
        key.verify(bytes.fromhex(seal.signature), checkpoint_message(seal))
    except (InvalidSignature, ValueError):
        return False
    return True


def _seal(event_id: int, head: str, *, whole_chain: bool) -> None:
    signer = audit_signer()
    seal = Seal(
        event_id=event_id,
        hash=head,
        verified_at=timezone.now().astimezone(UTC),
        whole_chain=whole_chain,
        key_id=signer.kid.hex(),
        signature="",
        where="",
    )
    signature = signer.sign(checkpoint_message(seal)).hex()
    AuditCheckpoint.objects.create(
        event_id=event_id,
        hash=head,
        verified_at=seal.verified_at,
        whole_chain=whole_chain,
        key_id=seal.key_id,
        signature=signature,
    )
    path = checkpoint_file()
    _write_file(path, replace(seal, signature=signature, where=str(path)))


def _check_seals(seals: list[Seal]) -> Verification | None:
    """Each signed checkpoint must verify, and the chain must still hold its head unchanged."""
    keys = audit_public_keys()
    for seal in seals:
        if not _signed(seal, keys):
            return Verification(
                False,
                seal.event_id or None,
                "forged_checkpoint",
                f"the audit checkpoint in {seal.where} is not signed by an audit key: checkpoints "
                "were forged, or the audit key was replaced",
                seal.verified_at,
            )
    for seal in seals:
        if seal.event_id == 0:
            continue
        event = AuditEvent.objects.filter(pk=seal.event_id).only("hash").first()
        when = seal.verified_at.isoformat(timespec="seconds")
        if event is None:
            return Verification(
                False,
                seal.event_id,
                "removed",
                f"event #{seal.event_id}, the head of the chain signed at {when}, is missing: "
                "events were removed",
                seal.verified_at,
            )
        if event.hash != seal.hash:
            return Verification(
                False,
                seal.event_id,
                "rewritten",
                f"event #{seal.event_id} no longer has the hash signed at {when}: the chain up to "
                "it was rewritten",
                seal.verified_at,
            )
    return None


def audit_check(*, full: bool = True) -> Verification:
    """Check the chain against the signed checkpoints, then walk it; seal the head if intact.

    ``full`` walks every event from the start (run it nightly: ``expatsi audit verify``); otherwise
    the walk starts at the newest signed checkpoint, so a page view costs only the events since
    then. Either way the chain must still hold the head of the newest checkpoint in the database and
    of the one in the checkpoint file, with the hash that was signed: so a trail cut short at the
    end, or rewritten with every hash recomputed, is reported, not only an edit in the middle.
    """
    audit_signer()  # production without an audit key stops here, with what to run
    path = checkpoint_file()
    seals: list[Seal] = []
    row = AuditCheckpoint.objects.order_by("-id").first()
    if row is not None:
        seals.append(_seal_from_row(row))
    try:
        from_file = _read_file(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Verification(
            False,
            None,
            "forged_checkpoint",
            f"the audit checkpoint file {path} is unreadable: {exc}",
        )
    if from_file is not None:
        seals.append(from_file)
    problem = _check_seals(seals)
    if problem is not None:
        return problem
    newest = max(seals, key=lambda s: s.event_id, default=None)
    start_id, start_hash = (0, GENESIS)
    if not full and newest is not None:
        start_id, start_hash = newest.event_id, newest.hash
    intact, bad, last_id, last_hash = _walk(start_id, start_hash)
    if not intact:
        return Verification(
            False,
            bad,
            "altered",
            f"event #{bad} does not match the chain: the trail was altered from there on",
        )
    if full or newest is None or newest.event_id != last_id:
        _seal(last_id, last_hash, whole_chain=full)
    return Verification(True)


def audit_reanchor_after_restore() -> tuple[Verification, Path | None]:
    """After a deliberate restore the database's trail ends earlier than the checkpoint file
    says, which verification rightly reports as removed events. The restore command (an audited,
    explicit act) moves the file aside — kept beside it for the incident notes, never deleted —
    and verifies the restored trail from its start, which signs its head as the new anchor."""
    path = checkpoint_file()
    kept: Path | None = None
    if path.exists():
        stamp = timezone.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = path.with_name(f"{path.name}.before-restore-{stamp}")
        os.replace(path, kept)
    return audit_check(full=True), kept


def audit_verify(*, full: bool = True) -> tuple[bool, int | None]:
    """(intact, id of the first event that does not match); see :func:`audit_check`."""
    result = audit_check(full=full)
    return result.intact, result.first_bad_event


def audit_last_full_verification() -> datetime | None:
    checkpoint = AuditCheckpoint.objects.filter(whole_chain=True).order_by("-id").first()
    return checkpoint.verified_at if checkpoint else None
