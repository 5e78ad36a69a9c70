"""The ``expatsi`` command.

Subcommand groups live in modules of this package named ``<group>_<topic>.py`` (for example
``rules_contributions.py``); each defines ``register(subparsers)``. A module named without an
underscore (``backup.py``) registers top-level commands (``expatsi backup``, ``expatsi restore``)
the same way. Handlers return a JSON-ready dict or raise :class:`~expatsi.rules.errors.RuleError`,
which becomes exit status 2 and one line on stderr: the single place where domain errors meet the
shell.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from expatsi.rules.errors import PolicyDataError, RuleError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], dict[str, Any]]
Renderer = Callable[[dict[str, Any]], str]


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line and exit 2, never a usage dump."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(EXIT_USAGE)


def add_command(
    subparsers: argparse._SubParsersAction[Parser],
    name: str,
    handler: Handler,
    *,
    help: str,
    render: Renderer | None = None,
) -> Parser:
    """Declare a subcommand; every one accepts ``--json``."""
    parser: Parser = subparsers.add_parser(name, help=help, description=help)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(_handler=handler, _render=render)
    return parser


def render_plain(result: dict[str, Any], indent: str = "") -> str:
    """A readable default rendering of a result dict for people at a terminal."""
    lines: list[str] = []
    for key, value in result.items():
        label = key.replace("_", " ")
        if isinstance(value, dict):
            lines.append(f"{indent}{label}:")
            lines.append(render_plain(value, indent + "  "))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{indent}{label}:")
            for item in value:
                lines.append(
                    render_plain(item, indent + "  - ").replace(
                        f"\n{indent}  - ", f"\n{indent}    "
                    )
                )
        elif isinstance(value, list):
            lines.append(f"{indent}{label}: {', '.join(map(str, value))}")
        else:
            lines.append(f"{indent}{label}: {value}")
    return "\n".join(lines)


def build_parser() -> Parser:
    parser = Parser(prog="expatsi", description="expatsi: social insurance for foreigners in China")
    groups = parser.add_subparsers(dest="group", required=True, parser_class=Parser)
    group_parsers: dict[str, argparse._SubParsersAction[Parser]] = {}
    group_help = {
        "rules": "the rules engine: contributions, retirement, accounts, penalties, identifiers",
        "billing": "monthly billing runs and retroactive recalculation",
        "card": "Integrated Card: offline verification, trust lists, signing keys",
        "jobs": "scheduled jobs (reminders, expiries)",
        "audit": "the audit trail's hash chain",
        "data": "personal data at rest: encryption keys, re-encryption after a rotation",
        "access": "user accounts: two-step sign-in",
    }
    modules = sorted(m.name for m in pkgutil.iter_modules(__path__) if "_" in m.name.strip("_"))
    for name in modules:
        group = name.split("_", 1)[0]
        if group not in group_parsers:
            gp = groups.add_parser(group, help=group_help.get(group, group))
            group_parsers[group] = gp.add_subparsers(
                dest="command", required=True, parser_class=Parser
            )
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(group_parsers[group])
    for name in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        if "_" not in name:  # top-level commands: expatsi backup, expatsi restore
            importlib.import_module(f"{__name__}.{name}").register(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args._handler(args)
    except RuleError as exc:
        sys.stderr.write(f"expatsi: error: {exc}\n")
        return EXIT_USAGE
    except PolicyDataError as exc:
        sys.stderr.write(f"expatsi: policy data error: {exc}\n")
        return EXIT_FAILURE
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        render: Renderer = args._render or render_plain
        sys.stdout.write(render(result) + "\n")
    return int(getattr(args, "_exit_code", EXIT_OK))  # a handler may answer "not valid" (1)


def run() -> NoReturn:
    raise SystemExit(main())
