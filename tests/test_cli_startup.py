"""How the ``expatsi`` command starts: Django is set up once, by the entry point, and only for the
commands that need it. The rules engine and the offline card verifier run on a machine that has
none of the server's configuration (production mode, no secret key, no database)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from expatsi import cli

ROOT = Path(__file__).resolve().parents[1]

# Runs the command in a child and says on the last line of stderr whether Django was imported.
PROBE = """\
import sys
from expatsi.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stderr.write(f"\\ndjango imported: {'django' in sys.modules}\\n")
raise SystemExit(code)
"""


def expatsi(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EXPATSI_", "DJANGO_", "DATABASE_URL"))
    }
    environment.update(EXPATSI_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def django_imported(done: subprocess.CompletedProcess[str]) -> bool:
    return done.stderr.rstrip().endswith("django imported: True")


def test_rules_commands_run_without_django_or_any_configuration(tmp_path: Path) -> None:
    done = expatsi(tmp_path, "rules", "retirement", "--birth", "1970-05", "--sex", "male")
    assert done.returncode == 0, done.stderr
    assert "retirement month: 2031-10" in done.stdout  # 60 + 17 months (2025 reform)
    assert not django_imported(done)


def test_the_offline_card_verifier_runs_without_django_or_any_configuration(
    tmp_path: Path,
) -> None:
    done = expatsi(tmp_path, "card", "verify", "EXP1:NOTACODE", "--lists", str(tmp_path))
    assert done.returncode == 2  # bad input: no lists in that folder, one line, no traceback
    assert "anchor.pem, trust-list.cose, revocations.cose not found" in done.stderr
    assert "Traceback" not in done.stderr
    assert not django_imported(done)


def test_a_command_that_needs_django_without_configuration_is_one_line_exit_1(
    tmp_path: Path,
) -> None:
    done = expatsi(tmp_path, "card", "keys", "list")
    assert done.returncode == 1
    assert "expatsi: configuration error: EXPATSI_SECRET_KEY must be set" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_help_without_configuration_lists_what_can_run(tmp_path: Path) -> None:
    done = expatsi(tmp_path, "card", "--help")
    assert done.returncode == 0
    assert "verify" in done.stdout and "fetch-lists" in done.stdout
    assert "import-legacy" not in done.stdout  # needs the server's configuration
    assert "EXPATSI_SECRET_KEY must be set" in done.stderr


def test_with_configuration_every_command_is_listed_and_django_is_set_up(tmp_path: Path) -> None:
    done = expatsi(
        tmp_path,
        "card",
        "--help",
        EXPATSI_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert done.returncode == 0, done.stderr
    for command in ("import-legacy", "keys", "verify", "fetch-lists", "export-lists"):
        assert command in done.stdout
    assert django_imported(done)


def imports_expatsi(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").startswith("expatsi")
    return isinstance(node, ast.Import) and any(a.name.startswith("expatsi") for a in node.names)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "src/expatsi/cli").glob("*.py")), ids=lambda p: p.name
)
def test_command_modules_import_expatsi_at_the_top_only(path: Path) -> None:
    """Django is set up before a command module is imported, so nothing hides in a function."""
    hidden = [
        f"line {node.lineno}"
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if imports_expatsi(node)
    ]
    assert hidden == []


def test_the_modules_without_django_exist() -> None:
    """A renamed module would silently start needing the server's configuration."""
    names = {p.stem for p in (ROOT / "src/expatsi/cli").glob("*.py")}
    assert names >= cli.WITHOUT_DJANGO_MODULES
    assert all(any(n.startswith(f"{g}_") for n in names) for g in cli.WITHOUT_DJANGO_GROUPS)
