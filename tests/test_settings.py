"""Production mode: refuses the development secret, and passes Django's deployment checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A clean environment: no EXPATSI_ settings, and none of the test run's Django switches
    # (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly refuses).
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EXPATSI_", "DJANGO_", "DATABASE_URL"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_the_development_secret():
    done = manage("check", EXPATSI_DEBUG="0")
    assert done.returncode != 0
    assert "EXPATSI_SECRET_KEY must be set" in done.stderr


def test_production_settings_pass_check_deploy():
    done = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        EXPATSI_DEBUG="0",
        EXPATSI_SECRET_KEY=secrets.token_urlsafe(64),
        EXPATSI_ALLOWED_HOSTS="expatsi.example.gov",
        EXPATSI_KEY_DIR=os.environ["EXPATSI_KEY_DIR"],  # the test session's keys (conftest.py)
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_finds_missing_data_keys(tmp_path: Path) -> None:
    done = manage(
        "check",
        "--deploy",
        EXPATSI_DEBUG="0",
        EXPATSI_SECRET_KEY=secrets.token_urlsafe(64),
        EXPATSI_ALLOWED_HOSTS="expatsi.example.gov",
        EXPATSI_KEY_DIR=str(tmp_path / "empty"),
    )
    assert done.returncode != 0
    assert "expatsi.E001" in done.stderr and "expatsi data keys init" in done.stderr
