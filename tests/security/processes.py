"""Real processes against a real database: for crash (SIGKILL) and multi-process tests.

Children run from the checkout root with ``DATABASE_URL`` pointing at the database under test (a
file SQLite database, or the PostgreSQL test database pytest-django created), so they see what the
test committed and the test sees what they commit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180

# The head of every ``python -c`` child: Django set up against DATABASE_URL.
SETUP = """\
import os
import shutil
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expatsi.settings")
import django
django.setup()
"""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def postgres_url(settings: dict[str, Any] | None = None) -> str:
    """The URL of the database this test process uses (pytest-django's test database)."""
    if settings is None:
        from django.db import connection

        settings = connection.settings_dict
    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    query = urlencode({k: str(v) for k, v in (settings.get("OPTIONS") or {}).items()})
    host = settings.get("HOST") or "localhost"
    return f"postgresql://{auth}{host}{port}/{settings['NAME']}" + (f"?{query}" if query else "")


def child_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        # Mail stays in memory: the console backend would print e-mails into the children's answers.
        "EXPATSI_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        **(extra or {}),
    }
    env.pop("EXPATSI_EMAIL_HOST", None)
    env.pop("EXPATSI_REQUIRE_POSTGRES_TESTS", None)
    return env


def run(
    database_url: str, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """``python ARGS…`` against ``database_url``; waits for the end."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=child_env(database_url, env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def cli(database_url: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The ``expatsi`` command, as an operator runs it."""
    return run(database_url, "-m", "expatsi.cli", *args, cwd=cwd)


def python(database_url: str, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run(database_url, "-c", SETUP + code, *args)


def killed_at(
    database_url: str, target: str, nth: int, code: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child that SIGKILLs itself on the ``nth`` call of ``target``
    (``module:function``) — see tests/security/kill_at.py. Production code has no test hooks."""
    return run(
        database_url, "-m", "tests.security.kill_at", target, str(nth), "-c", SETUP + code, *args
    )


# --- many processes at once ----------------------------------------------------------------------

# Each child gets connected, says "ready", and waits for one line on stdin: the parent releases
# them all together once every one is ready, so their transactions really overlap.
_GATE = """
import json, sys
from django.db import connection
connection.ensure_connection()
ARGS = json.loads(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
"""


def together(database_url: str, code: str, args: list[Any]) -> list[dict[str, Any]]:
    """Start one child per item of ``args``, release them at once, return each child's answer.

    ``code`` sees its item as ``ARGS`` and must print one JSON object as its last line.
    """
    children = [
        subprocess.Popen(
            [sys.executable, "-c", SETUP + _GATE + code, json.dumps(item)],
            cwd=ROOT,
            env=child_env(database_url),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for item in args
    ]
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if line.strip() != "ready":
                _, err = child.communicate(timeout=TIMEOUT)
                raise AssertionError(f"a child did not get ready: {line!r} {err}")
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        answers = []
        for child in children:
            out, err = child.communicate(timeout=TIMEOUT)
            assert child.returncode == 0, err
            answers.append(json.loads(out.strip().splitlines()[-1]))
        return answers
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


# --- a migrated SQLite file, made once per session ------------------------------------------------

_TEMPLATE: list[Path] = []


def migrated_sqlite(tmp_path_factory: Any, dest: Path) -> Path:
    """Copy a freshly migrated file database to ``dest`` (migrating once per test session)."""
    if not _TEMPLATE:
        template = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
        done = run(sqlite_url(template), "manage.py", "migrate", "--noinput")
        assert done.returncode == 0, done.stderr
        _TEMPLATE.append(template)
    shutil.copy(_TEMPLATE[0], dest)
    return dest


def start(database_url: str, code: str, *args: str) -> subprocess.Popen[str]:
    """A ``python -c`` child that keeps running (the caller stops it and waits)."""
    return subprocess.Popen(
        [sys.executable, "-c", SETUP + code, *args],
        cwd=ROOT,
        env=child_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
