"""Production mode: refuses the development secret, and passes Django's deployment checks."""

import os
import re
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


def test_debug_is_off_unless_asked_for():
    """A forgotten EXPATSI_DEBUG must never show tracebacks to the public."""
    done = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        EXPATSI_SECRET_KEY=secrets.token_urlsafe(64),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_without_any_setting_it_refuses_to_start():
    done = manage("check")
    assert done.returncode != 0
    assert "EXPATSI_SECRET_KEY must be set" in done.stderr


def test_local_development_mode_needs_no_secret():
    done = manage("check", EXPATSI_DEBUG="1")
    assert done.returncode == 0, done.stderr


def test_a_bad_trusted_proxy_is_named():
    done = manage("check", EXPATSI_DEBUG="1", EXPATSI_TRUSTED_PROXIES="10.0.0.1, proxy.local")
    assert done.returncode != 0
    assert "EXPATSI_TRUSTED_PROXIES" in done.stderr and "'proxy.local'" in done.stderr


def test_production_sends_a_content_security_policy(tmp_path: Path) -> None:
    # Production pages link static files by their hashed names: collectstatic first, as a
    # deployment does (expatsi's own files only; Swagger UI and the admin take seconds).
    production = {
        "EXPATSI_DEBUG": "0",
        "EXPATSI_SECRET_KEY": secrets.token_urlsafe(64),
        "EXPATSI_STATIC_ROOT": str(tmp_path / "static"),
        "EXPATSI_VAR_DIR": str(tmp_path / "var"),
    }
    third_party = ("admin", "ninja", "django_otp", "otp_totp")
    ignore = [arg for app in third_party for arg in ("--ignore", app)]
    collected = manage("collectstatic", "--noinput", *ignore, **production)
    assert collected.returncode == 0, collected.stderr
    done = manage(
        "shell",
        "-c",
        "from django.test import Client; "
        "print(Client().get('/login/', secure=True)['Content-Security-Policy'])",
        **production,
    )
    assert done.returncode == 0, done.stderr
    assert "script-src 'self';" in done.stdout and "frame-ancestors 'none'" in done.stdout


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


def test_a_bad_number_is_named_when_the_app_starts():
    done = manage("check", EXPATSI_DEBUG="1", EXPATSI_BILLING_BATCH="many")
    assert done.returncode != 0
    assert "EXPATSI_BILLING_BATCH='many': use a whole number" in done.stderr


# --- one place for the environment ------------------------------------------------------------

VARIABLE = re.compile(r"\bEXPATSI_[A-Z0-9_]*[A-Z0-9]")
# The offline card verifier (`expatsi card verify`) runs without Django, on a verifier's machine
# that has no server configuration: it reads EXPATSI_VAR_DIR itself for its default lists folder.
READS_THE_ENVIRONMENT_ITSELF = {"settings.py", "cli/card_verify.py"}


def readme_variables() -> set[str]:
    """The names in the README's configuration table (``_PORT`` after ``EXPATSI_EMAIL_HOST`` is
    ``EXPATSI_EMAIL_PORT``)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Configuration (environment variables)", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in table.splitlines():
        cell = row.split("|")[1] if row.startswith("|") else ""
        listed = re.findall(r"`(\w+)`", cell)
        for name in listed:
            prefix = listed[0].rsplit("_", 1)[0]
            names.add(prefix + name if name.startswith("_") else name)
    return names


def test_every_expatsi_variable_is_in_the_readme_table():
    used: set[str] = set()
    for folder in ("src/expatsi", "tests", "scripts", "bench", ".ci"):
        for path in (ROOT / folder).rglob("*"):
            if (
                path.is_file()
                and path.suffix in (".py", ".sh", "")
                and "__pycache__" not in path.parts
            ):
                used |= set(VARIABLE.findall(path.read_text(encoding="utf-8", errors="ignore")))
    used |= set(VARIABLE.findall((ROOT / "Makefile").read_text(encoding="utf-8")))
    assert used - readme_variables() == set()


def test_only_the_settings_read_expatsi_variables_from_the_environment():
    package = ROOT / "src" / "expatsi"
    reading = re.compile(r"(environ\b|getenv\()[^\n]*EXPATSI_")
    readers = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if reading.search(path.read_text(encoding="utf-8"))
    }
    assert readers == READS_THE_ENVIRONMENT_ITSELF
