"""``expatsi backup`` and ``expatsi restore``: the whole database in one file, and back again.

A backup is a tar archive of two members: ``manifest.json`` (which engine it came from, when, the
migrations applied, every table's row count, the payload's size and SHA-256) and the payload — a
``pg_dump --format=custom`` archive on PostgreSQL, or a copy made with SQLite's online backup API.
Both are consistent snapshots taken while the app keeps running. The manifest is why ``restore``
can refuse a backup of the other engine, of a newer schema or a damaged file before it touches the
database, and can check afterwards that every table holds exactly the rows it held at backup time.

Card signing keys are deliberately not in a backup: they are secrets kept apart from the data
(docs/operations.md, "Backup and restore").
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import hashlib
import io
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from glob import glob
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, connections
from django.db.migrations.loader import MigrationLoader
from psycopg.conninfo import make_conninfo

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_reanchor_after_restore, audit_record
from expatsi.cli import EXIT_FAILURE, Parser, add_command
from expatsi.rules.errors import RuleError

FORMAT = "expatsi-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PAYLOADS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
# Rows that `manage.py migrate` itself writes: a database holding only these is still empty.
SCHEMA_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})
# Django's own connection options that are not libpq parameters.
DJANGO_ONLY_OPTIONS = frozenset(
    {"isolation_level", "server_side_binding", "pool", "assume_role", "cursor_factory"}
)
CHUNK = 1 << 20


class ToolFailed(Exception):
    """pg_dump, pg_restore or the check after a restore failed: an operational error (exit 1)."""


def _say(text: str) -> None:
    sys.stderr.write(f"{text}\n")
    sys.stderr.flush()


def _db_settings() -> dict[str, Any]:
    return dict(connection.settings_dict)


def _engine(settings: dict[str, Any]) -> str:
    engine = str(settings["ENGINE"])
    if engine.endswith("postgresql"):
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise RuleError("unsupported_engine", f"cannot back up a {engine} database", "DATABASE_URL")


def _describe(settings: dict[str, Any]) -> str:
    """Where the database is, for people and the manifest (never the password)."""
    if _engine(settings) == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = f"{settings['USER']}@" if settings.get("USER") else ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgresql://{user}{settings.get('HOST') or 'localhost'}{port}/{settings['NAME']}"


def _actor(command: str) -> Actor:
    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no user name in a bare container
        who = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return Actor(
        kind="system", user_id=None, label=f"expatsi {command} ({who}@{socket.gethostname()})"
    )


# --- PostgreSQL client tools --------------------------------------------------------------------


def _tool_version(path: str) -> tuple[int, ...]:
    try:
        out = subprocess.run(  # noqa: S603 - a PostgreSQL tool found by pg_tool, fixed arguments
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return ()
    found = re.search(r"(\d+)(?:\.(\d+))?", out)
    return tuple(int(g) for g in found.groups() if g is not None) if found else ()


def pg_tool(name: str) -> str:
    """The newest ``name`` (pg_dump, pg_restore) on PATH or in /usr/lib/postgresql/*/bin.

    pg_dump refuses a server newer than itself, and Debian keeps one directory per major version,
    so the newest one installed is the one most likely to work.
    """
    candidates = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    best: tuple[tuple[int, ...], str] | None = None
    for path in candidates:
        version = _tool_version(path)
        if version and (best is None or version > best[0]):
            best = (version, path)
    if best is None:
        raise ToolFailed(
            f"{name} not found on PATH or in /usr/lib/postgresql/*/bin: install the PostgreSQL "
            "client (apt-get install postgresql-client)"
        )
    return best[1]


def pg_connection(settings: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A libpq connection string for ``--dbname`` and the environment for the child process.

    The password travels in ``PGPASSWORD`` only: a command line is visible to every local user.
    """
    options = {
        k: str(v)
        for k, v in (settings.get("OPTIONS") or {}).items()
        if k not in DJANGO_ONLY_OPTIONS and k != "password"
    }
    params = {
        "host": settings.get("HOST") or None,
        "port": str(settings["PORT"]) if settings.get("PORT") else None,
        "user": settings.get("USER") or None,
        "dbname": settings.get("NAME") or None,
        **options,
    }
    conninfo = make_conninfo("", **{k: v for k, v in params.items() if v})
    env = {**os.environ}
    password = settings.get("PASSWORD") or (settings.get("OPTIONS") or {}).get("password")
    if password:
        env["PGPASSWORD"] = str(password)
    return conninfo, env


def _run_tool(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(  # noqa: S603 - no shell; arguments built here, password in env
        argv, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit status {done.returncode}"
        raise ToolFailed(f"{Path(argv[0]).name} failed: {detail}")


# --- counting ------------------------------------------------------------------------------------


def _count_rows(cursor: Any, tables: list[str], quote: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 - names from the catalogue
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]


def _migrations_of(rows: list[tuple[str, str]]) -> list[str]:
    return sorted(f"{app}.{name}" for app, name in rows)


# --- backup --------------------------------------------------------------------------------------


def _backup_postgresql(settings: dict[str, Any], payload: Path) -> dict[str, Any]:
    """pg_dump inside the snapshot the row counts were taken from, so the manifest matches."""
    conninfo, env = pg_connection(settings)
    pg_dump = pg_tool("pg_dump")
    _say(f"expatsi backup: dumping {_describe(settings)} with {pg_dump}")
    with connection.cursor() as cursor:
        # An explicit transaction (the connection is in autocommit mode): whatever Django ran on
        # this connection before, this is the first statement of the snapshot's transaction.
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            tables = connection.introspection.table_names(cursor)
            counts = _count_rows(cursor, tables, connection.ops.quote_name)
            migrations: list[str] = []
            if "django_migrations" in tables:
                cursor.execute("SELECT app, name FROM django_migrations")
                migrations = _migrations_of(cursor.fetchall())
            _run_tool(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-password",
                    f"--snapshot={snapshot}",  # the very rows counted above
                    f"--file={payload}",
                    f"--dbname={conninfo}",
                ],
                env,
            )
        finally:
            cursor.execute("ROLLBACK")
    return {"tables": counts, "migrations": migrations}


def _backup_sqlite(settings: dict[str, Any], payload: Path) -> dict[str, Any]:
    source_path = Path(str(settings["NAME"]))
    if not source_path.is_file():
        raise RuleError("no_database", f"no SQLite database at {source_path}", "DATABASE_URL")
    _say(
        f"expatsi backup: copying {source_path} "
        f"({_size(source_path.stat().st_size)}) with SQLite's online backup"
    )
    with (
        contextlib.closing(sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True)) as src,
        contextlib.closing(sqlite3.connect(payload)) as dst,
    ):
        src.backup(dst)  # one step: a consistent copy even while the app writes
    with contextlib.closing(sqlite3.connect(payload)) as copy:
        tables = _sqlite_tables(copy)
        counts = _count_rows(copy.cursor(), tables, _sqlite_quote)
        migrations = (
            _migrations_of(copy.execute("SELECT app, name FROM django_migrations").fetchall())
            if "django_migrations" in tables
            else []
        )
    return {"tables": counts, "migrations": migrations}


def _tar_writer(fh: Any, *, compress: bool) -> tarfile.TarFile:
    if compress:
        return tarfile.open(fileobj=fh, mode="w:gz", compresslevel=6)
    return tarfile.open(fileobj=fh, mode="w")


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    value, unit = n / 1000, "kB"
    for bigger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _default_output(engine: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(f"expatsi-{engine}-{stamp}.backup")


def backup(args: argparse.Namespace) -> dict[str, Any]:
    settings = _db_settings()
    engine = _engine(settings)
    output = Path(args.output) if args.output else _default_output(engine)
    if output.exists():
        raise RuleError("exists", f"{output} already exists; choose another file", "output")
    if not output.parent.is_dir():
        raise RuleError("no_directory", f"no directory {output.parent}", "output")
    name = PAYLOADS[engine]
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".expatsi-backup-") as work:
        payload = Path(work) / name
        facts = (_backup_postgresql if engine == "postgresql" else _backup_sqlite)(
            settings, payload
        )
        rows = sum(facts["tables"].values())
        _say(f"expatsi backup: {rows:,} rows in {len(facts['tables'])} tables")
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "engine": engine,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": _describe(settings),
            "expatsi_version": _version(),
            "payload": name,
            "payload_size": payload.stat().st_size,
            "payload_sha256": _sha256(payload),
            "rows": rows,
            "tables": facts["tables"],
            "migrations": facts["migrations"],
        }
        partial = Path(work) / "archive"
        # Owner-only from the first byte: a backup holds every person's data.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            # PostgreSQL's custom format is compressed already; an SQLite file is not.
            with _tar_writer(fh, compress=engine == "sqlite") as tar:
                data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode = len(data), 0o600
                tar.addfile(info, fileobj=io.BytesIO(data))
                tar.add(payload, arcname=name, recursive=False, filter=_private)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(partial, output)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            raise RuleError(
                "exists", f"{output} already exists; choose another file", "output"
            ) from None
    size = output.stat().st_size
    _say(f"expatsi backup: wrote {output} ({_size(size)})")
    audit_record(
        actor=_actor("backup"),
        action="database.backup",
        object_type="database",
        object_id=engine,
        detail={
            "file": str(output.resolve()),
            "sha256": manifest["payload_sha256"],
            "rows": rows,
            "tables": len(facts["tables"]),
        },
    )
    return {
        "file": str(output),
        "engine": engine,
        "created_at": manifest["created_at"],
        "size": size,
        "tables": len(facts["tables"]),
        "rows": rows,
        "payload_sha256": manifest["payload_sha256"],
    }


def _version() -> str:
    try:
        return version("expatsi")
    except PackageNotFoundError:
        return "unknown"


# --- restore -------------------------------------------------------------------------------------


def _not_a_backup(path: Path, why: str) -> RuleError:
    return RuleError("not_a_backup", f"{path} is not an expatsi backup ({why})", "file")


def _corrupt(path: Path, why: str) -> RuleError:
    return RuleError("corrupt_backup", f"{path} is damaged ({why}); use another backup", "file")


@contextlib.contextmanager
def _open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    if not path.is_file():
        raise RuleError("not_found", f"no file {path}", "file")
    try:
        tar = tarfile.open(path, "r:*")  # noqa: SIM115 - closed below, after the checks
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise _not_a_backup(path, "not a tar archive") from exc
    with tar:
        yield tar


def _read_manifest(path: Path, tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        fh = tar.extractfile(member)
        if fh is None:
            raise KeyError(MANIFEST)
        manifest = json.loads(fh.read(1 << 20))
    except KeyError:
        raise _not_a_backup(path, f"no {MANIFEST}") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise _corrupt(path, "the archive is truncated or unreadable") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise _corrupt(path, f"{MANIFEST} is not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _not_a_backup(path, f"{MANIFEST} is not an expatsi manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise RuleError(
            "unsupported_backup",
            f"{path} has backup format {manifest.get('format_version')!r}; this expatsi reads "
            f"format {FORMAT_VERSION}",
            "file",
        )
    required = {"engine": str, "payload": str, "payload_sha256": str, "payload_size": int}
    for key, kind in {**required, "tables": dict, "migrations": list}.items():
        if not isinstance(manifest.get(key), kind):
            raise _corrupt(path, f"{MANIFEST} lacks {key!r}")
    if manifest["engine"] not in PAYLOADS or manifest["payload"] != PAYLOADS[manifest["engine"]]:
        raise _corrupt(path, f"{MANIFEST} names an unknown engine or payload")
    return manifest


def _extract_payload(path: Path, tar: tarfile.TarFile, manifest: dict[str, Any], to: Path) -> None:
    """Copy the payload out, checking its size and SHA-256 against the manifest on the way."""
    digest = hashlib.sha256()
    size = 0
    try:
        fh = tar.extractfile(manifest["payload"])
        if fh is None:
            raise KeyError(manifest["payload"])
        with to.open("wb") as out:
            while block := fh.read(CHUNK):
                digest.update(block)
                size += len(block)
                out.write(block)
    except KeyError:
        raise _corrupt(path, f"no {manifest['payload']} in the archive") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise _corrupt(path, "the archive is truncated or unreadable") from exc
    if size != manifest["payload_size"] or digest.hexdigest() != manifest["payload_sha256"]:
        raise _corrupt(path, "checksum mismatch")


def _check_migrations(path: Path, manifest: dict[str, Any]) -> None:
    """A backup made by a newer expatsi holds a schema this code cannot run on."""
    disk = MigrationLoader(None).disk_migrations
    known = {f"{app}.{name}" for app, name in disk}
    known |= {f"{app}.{name}" for m in disk.values() for app, name in m.replaces}  # squashed
    unknown = sorted(set(manifest["migrations"]) - known)
    if unknown:
        raise RuleError(
            "newer_schema",
            f"{path} was made by a newer expatsi (unknown migration {unknown[0]}"
            f"{f' and {len(unknown) - 1} more' if len(unknown) > 1 else ''}); restore it with "
            "that version",
            "file",
        )


def _current_counts(engine: str, settings: dict[str, Any]) -> dict[str, int]:
    """Row count of every table in the target database (none when it does not exist yet)."""
    if engine == "sqlite":
        target = Path(str(settings["NAME"]))
        if not target.is_file():
            return {}
        with contextlib.closing(sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)) as conn:
            return _count_rows(conn.cursor(), _sqlite_tables(conn), _sqlite_quote)
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        return _count_rows(cursor, tables, connection.ops.quote_name)


def _restore_sqlite(settings: dict[str, Any], payload: Path) -> None:
    target = Path(str(settings["NAME"]))
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(f"{payload.as_uri()}?mode=ro", uri=True)) as src:
        try:
            ok = src.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise ToolFailed(f"the backed-up SQLite file does not open: {exc}") from exc
        if ok != "ok":
            raise ToolFailed(f"the backed-up SQLite file fails its integrity check: {ok}")
        with contextlib.closing(sqlite3.connect(target, timeout=30)) as dst:
            src.backup(dst)  # replaces every page of the target in one step, under its lock


def _restore_postgresql(settings: dict[str, Any], payload: Path) -> None:
    conninfo, env = pg_connection(settings)
    pg_restore = pg_tool("pg_restore")
    _run_tool(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",  # all or nothing: a failed restore leaves the old data
            "--exit-on-error",
            "--no-password",
            f"--dbname={conninfo}",
            str(payload),
        ],
        env,
    )


def restore(args: argparse.Namespace) -> dict[str, Any]:
    path = Path(args.file)
    settings = _db_settings()
    engine = _engine(settings)
    with _open_archive(path) as tar:
        manifest = _read_manifest(path, tar)
        if manifest["engine"] != engine:
            raise RuleError(
                "wrong_engine",
                f"{path} is a backup of a {ENGINE_NAMES[manifest['engine']]} database but "
                f"DATABASE_URL points to {ENGINE_NAMES[engine]}; restore it into "
                f"{ENGINE_NAMES[manifest['engine']]}",
                "file",
            )
        _check_migrations(path, manifest)
        target = _describe(settings)
        before = _current_counts(engine, settings)
        held = sum(n for t, n in before.items() if t not in SCHEMA_TABLES)
        if held and not args.yes:
            raise RuleError(
                "not_empty",
                f"{target} holds data ({held:,} rows); restoring replaces all of it: "
                "add --yes to go ahead",
            )
        work_dir = Path(str(settings["NAME"])).parent if engine == "sqlite" else None
        with tempfile.TemporaryDirectory(dir=work_dir, prefix=".expatsi-restore-") as work:
            payload = Path(work) / manifest["payload"]
            _extract_payload(path, tar, manifest, payload)
            _say(
                f"expatsi restore: {path} checks out (made {manifest.get('created_at', '?')} "
                f"from {manifest.get('source', '?')})"
            )
            _say(
                f"expatsi restore: replacing {target} ({held:,} rows) with "
                f"{manifest.get('rows', 0):,} rows from the backup"
            )
            connections.close_all()
            (_restore_postgresql if engine == "postgresql" else _restore_sqlite)(settings, payload)
    connections.close_all()
    after = _current_counts(engine, settings)
    wrong = [t for t, n in manifest["tables"].items() if after.get(t) != n]
    if wrong:
        raise ToolFailed(
            f"restored, but {len(wrong)} tables differ from the backup (first: {wrong[0]}: "
            f"{after.get(wrong[0])} rows, expected {manifest['tables'][wrong[0]]})"
        )
    rows = sum(manifest["tables"].values())
    _say(f"expatsi restore: verified {rows:,} rows in {len(manifest['tables'])} tables")
    audit_record(
        actor=_actor("restore"),
        action="database.restore",
        object_type="database",
        object_id=engine,
        detail={
            "file": str(path.resolve()),
            "sha256": manifest["payload_sha256"],
            "backup_created_at": manifest.get("created_at"),
            "rows": rows,
            "replaced_rows": held,
        },
    )
    trail, kept = audit_reanchor_after_restore()
    if kept is not None:
        _say(f"expatsi restore: the audit checkpoint of the replaced database is kept as {kept}")
    if not trail.intact:
        raise ToolFailed(f"restored, but the restored audit trail does not verify: {trail.detail}")
    return {
        "file": str(path),
        "engine": engine,
        "backup_created_at": manifest.get("created_at"),
        "tables": len(manifest["tables"]),
        "rows": rows,
        "replaced_rows": held,
        "verified": True,
    }


def _guard(handler: Any) -> Any:
    """A failed pg_dump/pg_restore or an unreachable database is not bad input: one line and
    exit 1, not a traceback."""

    def run(args: argparse.Namespace) -> dict[str, Any]:
        try:
            result: dict[str, Any] = handler(args)
        except (ToolFailed, DatabaseError, sqlite3.Error) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            sys.stderr.write(f"expatsi: error: {first}\n")
            raise SystemExit(EXIT_FAILURE) from None
        return result

    return run


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        commands,
        "backup",
        _guard(backup),
        help="write the whole database to one file (consistent while the app runs); signing "
        "keys are not included",
    )
    p.add_argument(
        "--output", help="the backup file (default: expatsi-<engine>-<UTC time>.backup here)"
    )
    p = add_command(
        commands,
        "restore",
        _guard(restore),
        help="replace the database with a backup made by `expatsi backup` (same engine)",
    )
    p.add_argument("file", help="a file written by `expatsi backup`")
    p.add_argument("--yes", action="store_true", help="replace a database that already holds data")
