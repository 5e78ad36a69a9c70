"""Run a program that SIGKILLs itself on the Nth call of a chosen function — a crash at a known
point, with no hook in production code.

    python -m tests.security.kill_at MODULE:FUNCTION N -c CODE [ARG…]
    python -m tests.security.kill_at MODULE:FUNCTION N -m MODULE [ARG…]

Django is set up first (the target's module usually imports models), then the module attribute is
replaced by a wrapper; callers that look the name up at call time (module globals) get the wrapper.
On the Nth call the process kills itself with SIGKILL before the real function runs: no ``finally``,
no ``atexit``, no rollback by Python — exactly what a power cut or the OOM killer leaves behind.
"""

from __future__ import annotations

import functools
import importlib
import os
import runpy
import signal
import sys
from typing import Any


def arm(target: str, nth: int) -> None:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    real = getattr(module, attr)
    calls = 0

    @functools.wraps(real)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(module, attr, wrapper)


def main(argv: list[str]) -> None:
    target, nth, mode, what, *rest = argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expatsi.settings")
    import django

    django.setup()
    arm(target, int(nth))
    if mode == "-c":
        sys.argv = ["-c", *rest]
        exec(compile(what, "<kill_at>", "exec"), {"__name__": "__main__"})
    elif mode == "-m":
        sys.argv = [what, *rest]
        runpy.run_module(what, run_name="__main__", alter_sys=True)
    else:
        raise SystemExit(f"kill_at: expected -c CODE or -m MODULE, not {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
