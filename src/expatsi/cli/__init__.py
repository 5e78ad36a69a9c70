"""The ``expatsi`` command.

Subcommand groups live in modules of this package named ``<group>_<topic>.py`` (for example
``rules_contributions.py``); each defines ``register(subparsers)``. A module named without an
underscore (``backup.py``) registers top-level commands (``expatsi backup``, ``expatsi restore``)
the same way. Handlers return a JSON-ready dict or raise :class:`~expatsi.rules.errors.RuleError`,
which becomes exit status 2 and one line on stderr: the single place where domain errors meet the
shell.

Django is set up here, once, before a module that needs it is imported, so every command module
imports Django and expatsi's apps at its top like any other module. The modules named in
:data:`WITHOUT_DJANGO` are the exception: they import nothing that needs Django, and their commands
run without it — quick to start, and without the server's configuration (a card verifier's laptop
has no secret key and no database). Only the modules of the group asked for are imported.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from expatsi.rules.errors import PolicyDataError, RuleError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

# Command modules that never need Django: every ``rules_*`` module (the pure rules engine) and the
# offline card verifier (``card verify``, ``card fetch-lists``). Keep them free of Django imports.
WITHOUT_DJANGO_GROUPS = frozenset({"rules"})
WITHOUT_DJANGO_MODULES = frozenset({"card_verify"})

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


GROUP_HELP = {
    "rules": "the rules engine: contributions, retirement, accounts, penalties, identifiers",
    "billing": "monthly billing runs and retroactive recalculation",
    "card": "Integrated Card: offline verification, trust lists, signing keys",
    "jobs": "scheduled jobs (reminders, expiries)",
    "audit": "the audit trail's hash chain",
    "data": "personal data at rest: encryption keys, re-encryption after a rotation",
    "access": "user accounts: two-step sign-in",
    "benefits": "benefits: the monthly pension run",
    "demo": "demo and synthetic data at scale",
}


def _group_of(module: str) -> str | None:
    """``rules_contributions`` → ``rules``; None for a module of top-level commands (``backup``)."""
    return module.split("_", 1)[0] if "_" in module.strip("_") else None


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name != "__main__")


def without_django(module: str) -> bool:
    return _group_of(module) in WITHOUT_DJANGO_GROUPS or module in WITHOUT_DJANGO_MODULES


def setup_django() -> None:
    """Set Django up for the commands that need it; nothing to do when it already is (tests).

    Django is imported here, not at the top, so that the commands without Django never load it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expatsi.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def build_parser(*, group: str | None = None, django: bool = True) -> Parser:
    """The command line. Every group is listed; the commands are imported from the modules of
    ``group`` only (all modules when None), and with ``django=False`` only from the modules in
    ``WITHOUT_DJANGO_*`` — with True, Django must be set up first (:func:`setup_django`)."""
    parser = Parser(prog="expatsi", description="expatsi: social insurance for foreigners in China")
    groups = parser.add_subparsers(dest="group", required=True, parser_class=Parser)
    group_parsers: dict[str, argparse._SubParsersAction[Parser]] = {}
    modules = _modules()
    for name in modules:
        module_group = _group_of(name)
        if module_group is None:
            continue
        if module_group not in group_parsers:
            gp = groups.add_parser(module_group, help=GROUP_HELP.get(module_group, module_group))
            group_parsers[module_group] = gp.add_subparsers(
                dest="command", required=True, parser_class=Parser
            )
        if group in (None, module_group) and (django or without_django(name)):
            importlib.import_module(f"{__name__}.{name}").register(group_parsers[module_group])
    if group is None and django:
        for name in modules:
            if _group_of(name) is None:  # top-level commands: expatsi backup, expatsi restore
                importlib.import_module(f"{__name__}.{name}").register(groups)
    return parser


def _runs_without_django(words: Sequence[str]) -> bool:
    """Whether the command asked for (``expatsi GROUP COMMAND …``) lives in a module without
    Django. The top-level help, ``expatsi card --help`` and any top-level command need Django:
    they list, or are, commands from other modules."""
    group = words[0] if words else ""
    if group in WITHOUT_DJANGO_GROUPS:
        return True  # every command of the group, its help and its usage errors
    own = [m for m in _modules() if _group_of(m) == group and without_django(m)]
    if not own or len(words) < 2 or words[1].startswith("-"):
        return False
    parser = Parser(prog="expatsi")
    commands = parser.add_subparsers(parser_class=Parser)
    for name in own:
        importlib.import_module(f"{__name__}.{name}").register(commands)
    return words[1] in commands.choices


def _asks_for_help(words: Sequence[str]) -> bool:
    return not words or "-h" in words or "--help" in words


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    known = {_group_of(m) for m in _modules()}
    group = words[0] if words and words[0] in known else None  # else: all modules (top level)
    if _runs_without_django(words):
        parser = build_parser(group=group, django=False)
    else:
        from django.core.exceptions import ImproperlyConfigured  # Django is set up just below

        try:
            setup_django()
            parser = build_parser(group=group)
        except ImproperlyConfigured as exc:  # e.g. production mode without a secret key
            if not _asks_for_help(words):
                sys.stderr.write(f"expatsi: configuration error: {exc}\n")
                return EXIT_FAILURE
            sys.stderr.write(
                f"expatsi: {exc}\n(until then only the commands that need no configuration "
                "are listed)\n"
            )
            parser = build_parser(group=group, django=False)
    args = parser.parse_args(words)
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
