"""Run ``manage.py`` in a child process with production settings (``EXPATSI_DEBUG`` off).

Production differs from the test settings in what is decided when the settings load (static files
storage, HTTPS redirect, secure cookies), so only a fresh process shows what a deployment gets.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The apps whose static files are not expatsi's own: left out of collectstatic where a test only
# needs the portal's files (hashing and compressing Swagger UI and the admin takes seconds).
THIRD_PARTY_STATIC = ("admin", "ninja", "django_otp", "otp_totp")


def production_env(**env: str) -> dict[str, str]:
    """A clean environment (none of the test run's EXPATSI_, DJANGO_ or DATABASE_URL settings),
    with debug off and a real secret, plus ``env``."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EXPATSI_", "DJANGO_", "DATABASE_URL"))
    }
    environment.update(
        EXPATSI_DEBUG="0",
        EXPATSI_SECRET_KEY=secrets.token_urlsafe(64),
        EXPATSI_KEY_DIR=os.environ["EXPATSI_KEY_DIR"],  # the test session's keys (conftest.py)
    )
    environment.update(env)
    return environment


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=production_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def collect_portal_static(root: Path) -> None:
    """``collectstatic`` as a deployment runs it, for expatsi's own files only."""
    ignore = [arg for app in THIRD_PARTY_STATIC for arg in ("--ignore", app)]
    done = manage(
        "collectstatic",
        "--noinput",
        *ignore,
        EXPATSI_STATIC_ROOT=str(root),
        EXPATSI_VAR_DIR=str(root.parent / f"{root.name}-var"),
    )
    assert done.returncode == 0, done.stderr
