"""The API and pages under concurrent load, served as in production: granian (WSGI, several worker
processes, EXPATSI_DEBUG off) against the benchmark's database, and locust in a separate process,
bounded in time, sending one kind of request at a time. Each endpoint is compared with a trivial
endpoint of the same app (``/healthz``) measured in the same run: requests/s and p50/p95/p99.

Load generator and server share this machine's cores, so absolute numbers understate a real
deployment; the ratios to the trivial endpoint are what compares across runs.

    DATABASE_URL=postgresql://… python bench/load.py --seconds 15
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Measured:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    users: int = 16


def _free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def server_env(database_url: str, var_dir: str) -> dict[str, str]:
    """Production mode on plain HTTP (no TLS proxy here), with the check rate limit lifted: the
    load comes from one address, and the benchmark measures the check, not the limiter."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "expatsi.settings",
        "EXPATSI_DEBUG": "0",
        "EXPATSI_SECRET_KEY": secrets.token_urlsafe(64),
        "EXPATSI_SSL_REDIRECT": "0",
        "EXPATSI_VAR_DIR": var_dir,  # signing keys, collected static files
        "EXPATSI_VERIFY_RATE_PER_MINUTE": str(10**9),
        "PYTHONPATH": str(HERE.parent / "src"),
    }


@contextlib.contextmanager
def served(env: dict[str, str], workers: int, threads: int) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--backpressure",
            str(threads),
            "--log-level",
            "warning",
            "expatsi.wsgi:application",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode()[-3000:] if proc.stderr else ""
                    raise SystemExit(f"granian did not start:\n{err}") from None
                time.sleep(0.3)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def run_locust(base: str, target: dict[str, Any], seconds: int, users: int) -> Measured:
    with tempfile.TemporaryDirectory() as tmp:
        prefix = f"{tmp}/load"
        subprocess.run(
            [
                str(VENV_BIN / "locust"),
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(users),
                "--run-time",
                f"{seconds}s",
                "--host",
                base,
                "--csv",
                prefix,
                "--only-summary",
                "--loglevel",
                "ERROR",
                "--exit-code-on-error",
                "0",
            ],
            env={**os.environ, "BENCH_LOAD_TARGET": json.dumps(target)},
            check=True,
            capture_output=True,
        )
        with open(f"{prefix}_stats.csv", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["Name"] == target["name"]]
    row = rows[0]
    return Measured(
        target["name"],
        int(row["Request Count"]),
        int(row["Failure Count"]),
        float(row["Requests/s"]),
        float(row["50%"]),
        float(row["95%"]),
        float(row["99%"]),
        users,
    )


def targets(ids: dict[str, Any]) -> list[dict[str, Any]]:
    bearer = {"Authorization": f"Bearer {ids['api_token']}"}

    def cookie(name: str) -> dict[str, str]:
        return {"Cookie": f"{ids['cookie']}={ids[name]}"}

    return [
        {"name": "GET /healthz (trivial endpoint, baseline)", "path": "/healthz"},
        {
            "name": "POST /api/v1/verify (a card's code)",
            "method": "POST",
            "path": "/api/v1/verify",
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"text": ids["qr"]}),
        },
        {
            "name": "GET /api/v1/employees (employer's list, API token)",
            "path": "/api/v1/employees",
            "headers": bearer,
        },
        {
            "name": "GET /api/v1/billing/me/contributions (employee's history)",
            "path": "/api/v1/billing/me/contributions",
            "headers": cookie("holder_session"),
        },
        {
            "name": "GET /api/v1/billing/bills/{id} (a bill: header, totals, counts; API token)",
            "path": f"/api/v1/billing/bills/{ids['bill_id']}",
            "headers": bearer,
        },
        {
            "name": "GET /api/v1/billing/bills/{id}/lines (a page of 50 lines, API token)",
            "path": f"/api/v1/billing/bills/{ids['bill_id']}/lines",
            "headers": bearer,
        },
        {"name": "page: HR home (employees)", "path": "/", "headers": cookie("hr_session")},
        {
            "name": "page: agency bills list",
            "path": "/billing/",
            "headers": cookie("agency_session"),
        },
        {
            "name": "page: agency compliance dashboard",
            "path": "/cases/dashboard/",
            "headers": cookie("agency_session"),
        },
        {
            "name": "page: employee's contributions",
            "path": "/billing/me/",
            "headers": cookie("holder_session"),
        },
    ]


def bench_load(
    database_url: str,
    people: int,
    seconds: int = 15,
    users: int = 16,
    workers: int = 2,
    only: tuple[str, ...] = (),
) -> list[Measured]:
    """Set up (bench/load_setup.py, in the server's environment), serve, and measure each target
    (those whose name contains one of ``only``, when given; the trivial endpoint always) with
    ``users`` concurrent users, then each again with one user."""
    with tempfile.TemporaryDirectory() as var_dir:
        env = server_env(database_url, var_dir)
        made = subprocess.run(
            [sys.executable, str(HERE / "load_setup.py"), "--people", str(people)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0:
            raise SystemExit(f"load benchmark setup failed:\n{made.stderr[-3000:]}")
        ids = json.loads(made.stdout.strip().splitlines()[-1])
        chosen = [
            t
            for i, t in enumerate(targets(ids))
            if i == 0 or not only or any(o.lower() in t["name"].lower() for o in only)
        ]
        with served(env, workers=workers, threads=4) as base:
            for t in chosen:  # each answers 200 once before it is measured
                req = urllib.request.Request(
                    base + t["path"],
                    data=t.get("body", "").encode() if t.get("method") == "POST" else None,
                    headers=t.get("headers", {}),
                    method=t.get("method", "GET"),
                )
                try:
                    with urllib.request.urlopen(req, timeout=60) as r:
                        r.read()
                except urllib.error.HTTPError as e:
                    raise SystemExit(f"{t['name']}: HTTP {e.code}") from None
            under_load = [run_locust(base, t, seconds, users) for t in chosen]
            # One user at a time: what a request costs at this volume without waiting behind
            # others for the two cores (under load, latency ≈ users ÷ throughput).
            alone = [run_locust(base, t, max(3, seconds // 3), 1) for t in chosen]
            return under_load + alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="measure only the targets whose name contains this (repeatable; /healthz always)",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("set DATABASE_URL (the database to fill and serve)")
    for m in bench_load(url, args.people, args.seconds, args.users, only=tuple(args.only)):
        print(
            f"{m.name} [{m.users} user{'s' if m.users > 1 else ''}]: "
            f"{m.requests} requests, {m.failures} failed, {m.rps:.0f}/s, "
            f"p50 {m.p50:.0f} ms, p95 {m.p95:.0f} ms, p99 {m.p99:.0f} ms"
        )


if __name__ == "__main__":
    main()
