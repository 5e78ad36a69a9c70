"""`expatsi backup` / `expatsi restore`: a round trip brings back exactly the data of the backup, on
SQLite and on PostgreSQL; bad files are refused with exit 2 and one line, before anything changes."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import stat
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from expatsi.cli import main
from expatsi.cli.backup import pg_connection, pg_tool
from tests.security.processes import (
    cli,
    migrated_sqlite,
    postgres_url,
    python,
    sqlite_url,
    start,
)

SEED = """
from datetime import date
from expatsi.access.actors import Actor
from expatsi.billing.services import billing_run, payment_record
from expatsi.insurance.services import registration_accept
from expatsi.rules.dates import Month
from tests.notify.factories import employer, hire, hr_user

agency = Actor("agency", None, "officer")
beijing = employer("110000", "Backup Beijing Co.")
shanghai = employer("310000", "Backup Shanghai Ltd.")
hr_user(beijing, "hr-backup")
regs = [
    hire(e, permit_issued=date(2026, 1, 5), family=f"Keep{i}", birth=date(1980 + i, 3, 14))
    for i, e in enumerate([beijing, beijing, shanghai])
]
for reg in regs[:2]:
    registration_accept(actor=agency, registration_id=reg.pk, registered_on=date(2026, 1, 20))
billing_run(actor=agency, region_code="110000", month=Month(2026, 2))
payment_record(
    actor=agency, employer=beijing, amount=100_00, received_on=date(2026, 3, 1), external_id="TX-1"
)
"""

MUTATE = """
from datetime import date
from expatsi.billing.models import Allocation, Payment
from expatsi.employers.models import Employer
from expatsi.notify.models import Notification
from expatsi.people.models import Person
from tests.notify.factories import hire

Person.objects.update(family_name="CHANGED")
Allocation.objects.all().delete()
Payment.objects.all().delete()
Notification.objects.all().delete()
hire(Employer.objects.get(name="Backup Beijing Co."), permit_issued=date(2026, 2, 2), family="New")
"""

PAYLOAD = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# Tables compared row by row (all tables are compared by count).
CONTENT = (
    "auth_user",
    "employers_employer",
    "people_person",
    "people_passport",
    "insurance_registration",
    "insurance_ssnsequence",
    "billing_bill",
    "billing_billline",
    "billing_payment",
    "billing_allocation",
    "notify_notification",
    "audit_auditevent",
)


def snapshot(cursor: Any, tables: list[str], quote: Any) -> dict[str, Any]:
    counts, rows = {}, {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        counts[table] = cursor.fetchone()[0]
        if table in CONTENT:
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY 1")
            rows[table] = [tuple(r) for r in cursor.fetchall()]
    return {"counts": counts, "rows": rows}


def sqlite_snapshot(db: Path) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return snapshot(conn.cursor(), tables, lambda t: f'"{t}"')


def postgres_snapshot() -> dict[str, Any]:
    connections.close_all()  # a fresh connection after the tables were dropped and restored
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        return snapshot(cursor, tables, connection.ops.quote_name)


def assert_restored(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Exactly the backed-up data, plus the one audit event that records the restore and the
    signed checkpoint that anchors the restored trail."""
    expected = {
        **before["counts"],
        "audit_auditevent": before["counts"]["audit_auditevent"] + 1,
        "audit_auditcheckpoint": before["counts"]["audit_auditcheckpoint"] + 1,
    }
    assert after["counts"] == expected
    for table in CONTENT:
        if table == "audit_auditevent":
            assert after["rows"][table][:-1] == before["rows"][table]
            assert "database.restore" in after["rows"][table][-1]
        else:
            assert after["rows"][table] == before["rows"][table], table


def one_line_error(done: Any) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# --- SQLite ---------------------------------------------------------------------------------------


def test_sqlite_round_trip_brings_back_exactly_the_backed_up_data(tmp_path, tmp_path_factory):
    if connection.vendor != "sqlite":
        pytest.skip("a file SQLite database of its own: the SQLite leg runs it")
    db = migrated_sqlite(tmp_path_factory, tmp_path / "live.sqlite3")
    url = sqlite_url(db)
    seeded = python(url, SEED)
    assert seeded.returncode == 0, seeded.stderr
    before = sqlite_snapshot(db)
    assert before["counts"]["billing_billline"] > 0 and before["counts"]["billing_allocation"] > 0

    backup_file = tmp_path / "nightly.backup"
    done = cli(url, "backup", "--output", str(backup_file), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["engine"] == "sqlite"
    assert result["rows"] == sum(before["counts"].values())
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600  # every person's data: owner only

    mutated = python(url, MUTATE)
    assert mutated.returncode == 0, mutated.stderr
    changed = sqlite_snapshot(db)
    assert changed["rows"]["people_person"] != before["rows"]["people_person"]
    assert changed["counts"]["billing_payment"] == 0
    # The nightly verification signs the changed database's head (newer than the backup's).
    assert cli(url, "audit", "verify").returncode == 0
    changed = sqlite_snapshot(db)

    refused = cli(url, "restore", str(backup_file))
    assert "--yes" in one_line_error(refused)
    assert sqlite_snapshot(db) == changed  # nothing touched

    restored = cli(url, "restore", str(backup_file), "--yes", "--json")
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["verified"] is True
    assert_restored(before, sqlite_snapshot(db))
    # The restore re-anchors the audit trail: the replaced database's checkpoint is kept aside,
    # and the restored trail verifies instead of being reported as cut short.
    verified = cli(url, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["intact"] is True

    # The restore drill: a new, empty database gets the backup without --yes.
    fresh = tmp_path / "elsewhere" / "fresh.sqlite3"
    drill = cli(sqlite_url(fresh), "restore", str(backup_file))
    assert drill.returncode == 0, drill.stderr
    assert_restored(before, sqlite_snapshot(fresh))


# --- bad input (in-process: every check fails before the database is touched) --------------------


def _restore(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    code = main(["restore", str(path), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1, err
    return err[0]


def _archive(
    path: Path, manifest: dict[str, Any] | None, payload: tuple[str, bytes] | None = None
) -> Path:
    with tarfile.open(path, "w") as tar:
        members = []
        if manifest is not None:
            members.append(("manifest.json", json.dumps(manifest).encode()))
        if payload is not None:
            members.append(payload)
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _manifest(engine: str = "sqlite", data: bytes = b"x", **over: Any) -> dict[str, Any]:
    import hashlib

    manifest = {
        "format": "expatsi-backup",
        "format_version": 1,
        "engine": engine,
        "payload": PAYLOAD[engine],
        "payload_size": len(data),
        "payload_sha256": hashlib.sha256(data).hexdigest(),
        "tables": {},
        "migrations": [],
    }
    manifest.update(over)
    return manifest


@pytest.mark.django_db
def test_restore_refuses_bad_files_with_one_line(tmp_path, capsys):
    engine = connection.vendor  # "sqlite" or "postgresql": the engine the test runs on
    other = "postgresql" if engine == "sqlite" else "sqlite"
    assert "no file" in _restore(tmp_path / "missing.backup", capsys)
    junk = tmp_path / "junk.backup"
    junk.write_text("not a backup\n")
    assert "not an expatsi backup" in _restore(junk, capsys)
    empty = tmp_path / "empty.backup"
    empty.write_bytes(b"")
    assert "not an expatsi backup" in _restore(empty, capsys)
    other_tar = _archive(tmp_path / "other.tar", None, ("notes.txt", b"hello"))
    assert "not an expatsi backup" in _restore(other_tar, capsys)

    wrong = _archive(tmp_path / "wrong.backup", _manifest(other), (PAYLOAD[other], b"x"))
    message = _restore(wrong, capsys, "--yes")
    assert "PostgreSQL" in message and "SQLite" in message

    data = b"SQLite format 3\x00" + b"\x00" * 100
    flipped = bytes([data[0] ^ 1]) + data[1:]
    damaged = _archive(
        tmp_path / "damaged.backup", _manifest(engine, data), (PAYLOAD[engine], flipped)
    )
    assert "checksum mismatch" in _restore(damaged, capsys, "--yes")
    no_payload = _archive(tmp_path / "nopayload.backup", _manifest(engine, data))
    assert "damaged" in _restore(no_payload, capsys, "--yes")
    newer = _archive(
        tmp_path / "newer.backup",
        _manifest(engine, data, migrations=["billing.9999_from_the_future"]),
        (PAYLOAD[engine], data),
    )
    assert "newer expatsi" in _restore(newer, capsys, "--yes")
    bad_manifest = _archive(tmp_path / "bad.backup", None, ("manifest.json", b"{not json"))
    assert "damaged" in _restore(bad_manifest, capsys, "--yes")


@pytest.mark.django_db
def test_a_truncated_or_altered_real_backup_is_refused(tmp_path, tmp_path_factory, capsys):
    if connection.vendor != "sqlite":
        pytest.skip("a SQLite backup, restored in-process into the SQLite test database")
    db = migrated_sqlite(tmp_path_factory, tmp_path / "live.sqlite3")
    backup_file = tmp_path / "real.backup"
    done = cli(sqlite_url(db), "backup", "--output", str(backup_file))
    assert done.returncode == 0, done.stderr
    code = main(["backup", "--output", str(backup_file)])
    assert code == 2
    assert "already exists" in capsys.readouterr().err
    data = backup_file.read_bytes()
    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(data[: len(data) // 2])
    assert "damaged" in _restore(truncated, capsys, "--yes")
    altered = tmp_path / "altered.backup"
    altered.write_bytes(data[:-200] + bytes(b ^ 0xFF for b in data[-200:-100]) + data[-100:])
    assert "damaged" in _restore(altered, capsys, "--yes")


# --- the connection to PostgreSQL -----------------------------------------------------------------


def test_the_password_goes_to_pgpassword_never_to_the_command_line(tmp_path, monkeypatch):
    from expatsi.cli import backup

    settings = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "expatsi",
        "USER": "app",
        "PASSWORD": "s3cr#t pw",
        "HOST": "db.internal",
        "PORT": "5433",
        "OPTIONS": {"sslmode": "require", "server_side_binding": True},
    }
    conninfo, env = pg_connection(settings)
    assert "s3cr" not in conninfo
    assert "sslmode=require" in conninfo and "server_side_binding" not in conninfo
    assert env["PGPASSWORD"] == "s3cr#t pw"

    seen: list[tuple[list[str], dict[str, str]]] = []

    class Done:
        returncode, stderr = 0, ""

    def fake_run(argv: list[str], **kwargs: Any) -> Done:
        seen.append((argv, kwargs["env"]))
        return Done()

    monkeypatch.setattr(backup, "pg_tool", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(backup.subprocess, "run", fake_run)
    backup._restore_postgresql(settings, tmp_path / "database.pgdump")
    ((argv, env),) = seen
    assert not any("s3cr" in arg for arg in argv)
    assert env["PGPASSWORD"] == "s3cr#t pw"
    assert {"--clean", "--if-exists", "--no-owner", "--single-transaction"} <= set(argv)


def test_the_newest_pg_tool_is_chosen(tmp_path, monkeypatch):
    from expatsi.cli import backup

    tools = []
    for version in ("13.9", "16.2", "15.10"):
        path = tmp_path / version / "pg_dump"
        path.parent.mkdir()
        path.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {version}'\n")
        path.chmod(0o755)
        tools.append(str(path))
    monkeypatch.setattr(backup, "glob", lambda pattern: tools[:2])
    monkeypatch.setattr(backup.shutil, "which", lambda name: tools[2])
    assert pg_tool("pg_dump") == tools[1]


# --- PostgreSQL -----------------------------------------------------------------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql" and not os.environ.get("EXPATSI_REQUIRE_POSTGRES_TESTS"),
    reason="needs PostgreSQL (pg_dump / pg_restore)",
)


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_round_trip_brings_back_exactly_the_backed_up_data(tmp_path):
    assert connection.vendor == "postgresql"
    url = postgres_url()
    seeded = python(url, SEED)
    assert seeded.returncode == 0, seeded.stderr
    before = postgres_snapshot()
    assert before["counts"]["billing_billline"] > 0 and before["counts"]["billing_allocation"] > 0

    backup_file = tmp_path / "nightly.backup"
    done = cli(url, "backup", "--output", str(backup_file), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["engine"] == "postgresql"
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600

    mutated = python(url, MUTATE)
    assert mutated.returncode == 0, mutated.stderr
    changed = postgres_snapshot()
    assert changed["rows"]["people_person"] != before["rows"]["people_person"]

    refused = cli(url, "restore", str(backup_file))
    assert "--yes" in one_line_error(refused)
    assert postgres_snapshot() == changed

    restored = cli(url, "restore", str(backup_file), "--yes", "--json")
    assert restored.returncode == 0, restored.stderr
    assert_restored(before, postgres_snapshot())
    verified = cli(url, "audit", "verify")
    assert verified.returncode == 0, verified.stdout

    # A PostgreSQL backup cannot go into SQLite: refused before anything is written.
    into_sqlite = cli(sqlite_url(tmp_path / "x.sqlite3"), "restore", str(backup_file))
    message = one_line_error(into_sqlite)
    assert "PostgreSQL" in message and "SQLite" in message

    # The restore drill: a new, empty database (no tables at all) gets the backup without --yes.
    with scratch_database(dict(connection.settings_dict), "drill") as drill_url:
        drill = cli(drill_url, "restore", str(backup_file), "--json")
        assert drill.returncode == 0, drill.stderr
        assert json.loads(drill.stdout)["rows"] == sum(before["counts"].values())


WRITER = """
import sys
from pathlib import Path
from expatsi.access.actors import SYSTEM
from expatsi.audit.services import audit_record

stop, n = Path(sys.argv[1]), 0
while not stop.exists() and n < 20000:
    audit_record(actor=SYSTEM, action="test.write", object_type="test", object_id=n)
    n += 1
    if n == 1:
        print("writing", flush=True)
print(n, flush=True)
"""


@contextlib.contextmanager
def scratch_database(settings: dict[str, Any], suffix: str) -> Any:
    name = f"{settings['NAME']}_{suffix}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url({**settings, "NAME": name})
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_postgres_backup_taken_while_the_app_writes_is_one_consistent_snapshot(tmp_path):
    """The row counts in the manifest come from pg_dump's own snapshot: a restore checks against
    them, and the audit chain (events and head row) restores intact mid-stream."""
    assert connection.vendor == "postgresql"
    url = postgres_url()
    stop = tmp_path / "stop"
    writer = start(url, WRITER, str(stop))
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "writing", writer.stderr
        backup_file = tmp_path / "busy.backup"
        done = cli(url, "backup", "--output", str(backup_file), "--json")
        assert done.returncode == 0, done.stderr
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    written = int(out.strip().splitlines()[-1])
    with tarfile.open(backup_file) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    in_backup = manifest["tables"]["audit_auditevent"]
    assert 0 < in_backup < written + 1  # the writer went on after the snapshot

    with scratch_database(dict(connection.settings_dict), "busy") as drill_url:
        restored = cli(drill_url, "restore", str(backup_file), "--json")
        assert restored.returncode == 0, restored.stderr  # counts verified against the manifest
        verified = cli(drill_url, "audit", "verify", "--json")
        assert verified.returncode == 0, verified.stdout
        assert json.loads(verified.stdout)["events"] == in_backup + 1  # + database.restore
