"""The log of online checks (``VerificationLog``), written in batches instead of one committed
INSERT per check.

A check hands its row to this process's buffer and answers; a background thread writes the
buffer (one ``executemany``, pipelined by psycopg) as soon as it holds :data:`FLUSH_ROWS` rows, and
at the latest :func:`flush_seconds` after the last write (``EXPATSI_VERIFY_LOG_FLUSH_SECONDS``,
default 1 s); should the thread fall behind (:data:`BACKLOG_ROWS`), the checks write the backlog
themselves. When the process exits normally (``atexit``; granian's graceful stop on SIGTERM is one:
measured, every row of a 30-second buffer was written) the rest is written. Each row carries the
time of its check, not of the write.

What can be lost, documented: a process killed without exiting normally (SIGKILL, the OOM killer,
a power cut) loses the rows not yet written — about its last second of checks (at most
:data:`BACKLOG_ROWS` rows per app server process), whose answers were already given. A failed
write (the database briefly away) keeps the rows and retries at the next flush; past
:data:`MAX_PENDING` rows the oldest are dropped, with an error in the log, rather than exhaust
memory. The log is evidence of use (who checked how often), never of a card's state: losing its
last second on a crash costs no check its answer.

``EXPATSI_VERIFY_LOG_BUFFER = False`` writes each row at once instead, in its own INSERT (the test
suite does, so that a test sees its check's row without a flush).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from expatsi.cards.models import VerificationLog

log = logging.getLogger(__name__)

FLUSH_ROWS = 200
FLUSH_SECONDS = 1.0
BACKLOG_ROWS = 10 * FLUSH_ROWS  # past this the checks write themselves (the thread fell behind)
MAX_PENDING = 100_000
COLUMNS = ("at", "ip", "result", "kid", "card_number", "via")


@dataclass(frozen=True, slots=True)
class Row:
    at: datetime
    ip: str
    result: str
    kid: str
    card_number: str
    via: str


def buffered() -> bool:
    return bool(getattr(settings, "EXPATSI_VERIFY_LOG_BUFFER", True))


def flush_seconds() -> float:
    return float(getattr(settings, "EXPATSI_VERIFY_LOG_FLUSH_SECONDS", FLUSH_SECONDS))


def _insert(rows: list[Row]) -> None:
    """The rows in one ``executemany`` of one INSERT (psycopg sends them pipelined, in one round
    trip, and prepares the statement once), in autocommit: no transaction of its own around it.
    Raw, because ``bulk_create`` would stamp ``at`` (``auto_now_add``) with the time of the write."""
    table = connection.ops.quote_name(VerificationLog._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    values = ", ".join(["%s"] * len(COLUMNS))
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({values})",  # noqa: S608 - names quoted, values bound
            [(adapt(r.at), r.ip, r.result, r.kid, r.card_number, r.via) for r in rows],
        )


class Writer:
    """This process's buffer and the thread that writes it on time."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()  # one write at a time keeps the rows in order
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def add(self, row: Row) -> None:
        with self.lock:
            self.rows.append(row)
            pending = len(self.rows)
        self._ensure_thread()
        if pending >= FLUSH_ROWS:
            self.wake.set()  # the writer thread writes them: the check does not wait for it
        if pending >= BACKLOG_ROWS:
            self.flush()  # the thread fell behind (or the database refused: rows kept, retried)

    def flush(self) -> int:
        """Write what is buffered now; the rows written (0 when the write failed: kept)."""
        with self.write_lock:
            with self.lock:
                rows, self.rows = self.rows, []
            if not rows:
                return 0
            try:
                _insert(rows)
            except Exception:
                log.warning("verification log: %d rows not written, kept for retry", len(rows))
                with self.lock:
                    self.rows[:0] = rows
                    dropped = len(self.rows) - MAX_PENDING
                    if dropped > 0:
                        del self.rows[:dropped]
                        log.error("verification log: %d oldest rows dropped", dropped)
                return 0
            return len(rows)

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self.thread is not None and self.pid == pid and self.thread.is_alive():
            return
        with self.lock:
            if self.thread is not None and self.pid == pid and self.thread.is_alive():
                return
            self.pid = pid  # after a fork the parent's thread is not ours
            self.thread = threading.Thread(
                target=self._run, name="expatsi-verification-log", daemon=True
            )
            self.thread.start()

    def _run(self) -> None:
        while True:
            self.wake.wait(flush_seconds())
            self.wake.clear()
            if not self.rows:
                continue
            close_old_connections()  # this thread's own connection: renewed when too old or broken
            self.flush()


_writer = Writer()


def record(*, ip: str, result: str, kid: str, card_number: str, via: str) -> None:
    """Log one check (written at once, or buffered: see the module's docstring)."""
    row = Row(timezone.now(), ip, result, kid[:16], card_number[:20], via)
    if buffered():
        _writer.add(row)
    else:
        _insert([row])


def flush() -> int:
    """Write this process's buffered rows now (tests, shutdown); the number written."""
    return _writer.flush()


@atexit.register
def _at_exit() -> None:
    if _writer.rows:
        try:
            _writer.flush()
        except Exception:  # the interpreter is going: say so, never raise from atexit
            log.exception("verification log: rows lost at exit")
