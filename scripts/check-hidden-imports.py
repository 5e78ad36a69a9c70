#!/usr/bin/env python3
"""Refuse imports of another expatsi app hidden inside a function (run by `make lint`).

import-linter (.importlinter) already refuses upward imports wherever they are written; this check
keeps the remaining ones honest: a cross-app import inside a function hides a dependency from the
reader and usually dodges a cycle that should have been broken. The exceptions, each with its reason:
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "expatsi"

# (file relative to src/expatsi, function name): why the import must stay inside it.
ALLOWED: dict[tuple[str, str], str] = {
    ("employers/apps.py", "ready"): "Django's idiom: services import models, ready only in ready()",
    ("cards/apps.py", "ready"): "Django's idiom: the card lookup registers with insurance at start",
    ("portal/apps.py", "ready"): "policy tables validated once at start-up, after settings load",
}


def _owner(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def main() -> int:
    problems: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        owner = _owner(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                names: list[str] = []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                for name in names:
                    parts = name.split(".")
                    if parts[0] != "expatsi" or len(parts) < 2 or parts[1] == owner:
                        continue
                    key = (str(path.relative_to(ROOT)), func.name)
                    if key in ALLOWED:
                        continue
                    problems.append(f"{key[0]}:{node.lineno}: {name} imported inside {func.name}()")
    for problem in problems:
        print(problem)
    if problems:
        print(
            f"{len(problems)} cross-app import(s) hidden in functions; import at module level "
            "(and break the cycle) or list the exception with its reason in this script."
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
