"""The demo's billing run reaches 100 % after ``make demo`` (issue #13).

``make demo`` itself runs here — its migrate, its demo data, its ``db_worker`` beside the
development server — on a throwaway file database and a free port, in a process group of its own
that the fixture stops. Agency staff then sign in with the demo's authenticator key (as the command
prints it), start a billing run for the current month from the collection page in Chromium, and
watch the page's own progress poll until it says done at 100 %; the run's bills are listed with
their amounts in yuan. The no-worker hint never shows, since a worker runs. Once in English for
Beijing, once in Chinese for Shanghai (translated progress, no English, no raw codes).

The pytest process's own test database is not used: the server and the worker are other
processes, and they must share one database, as they do after ``make demo``. On the PostgreSQL leg
of ``make test`` the test is skipped: the demo is SQLite's, and once per suite is enough.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from django_otp.oath import TOTP

from expatsi.access.twofactor import key_from_base32
from expatsi.demo.data import DEMO_TOTP_SECRET
from expatsi.rules.dates import Month
from tests.browser.conftest import csp_violations, shot
from tests.security.processes import migrated_sqlite
from tests.security.test_chinese_pages_no_codes import codes, english_msgids, visible_text

ROOT = Path(__file__).resolve().parents[2]
# Bounds, not expectations: on an idle machine the demo is up in about 25 s and a run takes a few.
STARTUP_TIMEOUT = 300.0
RUN_TIMEOUT_MS = 120_000
# What make demo prints once it is up: runserver's last line once it listens, and db_worker's
# first once it polls (under load the worker can come up well after the server).
READY = ("Quit the server with", "Starting worker")

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="make demo runs on SQLite; the SQLite leg of the suite covers it",
)


@dataclass
class Demo:
    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def log(self) -> str:
        return "".join(self.output[-80:])


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(database: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "EXPATSI_DEMO_TOTP_SECRET": DEMO_TOTP_SECRET,  # the key the browser's codes come from
        "PYTHONUNBUFFERED": "1",  # runserver's "ready" line arrives when it is printed
    }
    # The children are the demo as a newcomer starts it: its own settings, the database task
    # backend, nothing of the test process's.
    for name in (
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "EXPATSI_TASKS_BACKEND",
        "EXPATSI_REQUIRE_POSTGRES_TESTS",
    ):
        env.pop(name, None)
    return env


def _stop(process: subprocess.Popen[str]) -> None:
    """Ctrl+C's counterpart: SIGTERM to make's process group (make, its shell, the worker, the
    server and their reloaders), then SIGKILL to whatever is left of the group."""
    for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)


@pytest.fixture(scope="module")
def demo(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``make demo`` on a new file database; yields once the server listens.

    The database file starts migrated, copied from the suite's migrated template (made once per
    session, shared with the crash tests): make's ``migrate`` then finds nothing to do, which
    spares the suite one full migration (about 10 s, several times that on a loaded machine).
    """
    database = migrated_sqlite(tmp_path_factory, tmp_path_factory.mktemp("demo") / "demo.sqlite3")
    port = _free_port()
    # -o venv: the environment this suite runs in is the one to use, never reinstalled here.
    command = ["make", "-o", "venv", f"PY={sys.executable}", "HOST=127.0.0.1", f"PORT={port}"]
    process = subprocess.Popen(
        [*command, "demo"],
        cwd=ROOT,
        env=_environment(database),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, stopped as a whole
    )
    running = Demo(url=f"http://127.0.0.1:{port}", process=process)
    ready = threading.Event()
    seen: set[str] = set()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.output.append(line)
            seen.update(m for m in READY if m in line)
            if len(seen) == len(READY):
                ready.set()
        ready.set()  # the output ended: make stopped, the test says why

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ready.wait(STARTUP_TIMEOUT)
        up = process.poll() is None and len(seen) == len(READY)
        assert up, f"make demo did not come up:\n{running.log()}"
        yield running
    finally:
        _stop(process)
        reader.join(timeout=10)  # the pipe ends with the group's last process
        if process.stdout is not None:
            process.stdout.close()


def _sign_in(page: Any, base: str, username: str) -> None:
    """The demo's sign-in: its password, then the current code of the demo's authenticator key."""
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", settings.EXPATSI_DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/login/verify/" in page.url, "agency staff are asked for the second step"
    key = bytes.fromhex(key_from_base32(DEMO_TOTP_SECRET))
    page.fill("#id_code", f"{TOTP(key).token():06d}")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/login/" not in page.url, "the demo's second step refused the code"


def _this_month() -> str:
    return str(Month.of(timezone.localdate()))  # the demo billed the three months before it


def _start_run(page: Any, demo: Demo, prefix: str, nav: str, start: str, region: str) -> str:
    """From the portal's home, through the navigation, to a billing run started: the job's key."""
    page.goto(f"{demo.url}{prefix}/")
    page.locator("nav").get_by_role("link", name=nav, exact=True).first.click()
    page.wait_for_url(f"**{prefix}/billing/collection/")
    page.get_by_role("link", name=start, exact=True).click()
    page.wait_for_url(f"**{prefix}/billing/runs/new/")
    page.check("input[name=kind][value=run]")
    page.select_option("select[name=region_code]", region)
    page.fill("input[name=month]", _this_month())
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    found = re.search(r"/billing/runs/jobs/([0-9a-f]+)/$", page.url)
    assert found, f"the run did not start: {page.url}\n{page.inner_text('main')}\n{demo.log()}"
    return found[1]


def _watch_to_the_end(page: Any, demo: Demo, label: str) -> None:
    """The page's poll moves it on by itself: no reload, until 100 % and the finished label."""
    from playwright.sync_api import expect

    notice = page.locator("#job-no-worker")
    expect(notice).to_be_hidden()  # queued or running, a worker is there: no hint
    try:
        expect(page.locator("#job-percent")).to_have_text("100%", timeout=RUN_TIMEOUT_MS)
    except AssertionError:
        raise AssertionError(f"{page.inner_text('#job')}\n{demo.log()}") from None
    expect(page.locator("#job-label")).to_have_text(label)
    assert page.locator("#job-progress").evaluate("p => p.value") == 100
    expect(notice).to_be_hidden()
    expect(page.locator("#job-error")).to_be_hidden()
    expect(page.locator("#job-resume")).to_be_hidden()


def _no_english_and_no_codes(page: Any) -> None:
    """A Chinese page's visible text: no English sentence of the catalogue, no stored code (a job's
    status among them)."""
    text = visible_text(page.content())
    english = [m for m in english_msgids() if any(m in node for node in text)]
    assert english == [], (page.url, english)
    raw = codes() | {"queued", "running", "done", "failed", "interrupted"}
    shown = {w for node in text for w in re.findall(r"[A-Za-z_.]+", node)} & raw
    assert shown == set(), (page.url, shown)


def _context(browser: Any, locale: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(30_000)  # a loaded machine with a worker and a server beside it
    return context, page, csp_violations(page)


def test_the_demo_billing_run_reaches_100_percent_in_english(browser: Any, demo: Demo) -> None:
    context, page, violations = _context(browser, "en-US")
    try:
        _sign_in(page, demo.url, "agency-officer")
        key = _start_run(page, demo, "", "Collection", "Start a billing run", "110000")
        _watch_to_the_end(page, demo, "Done")
        # Beijing's two demo employers, each with its people on the bill.
        summary = page.inner_text("#job-summary")
        found = re.fullmatch(r"2 of 2 employers · (\d+) people · (\d+) lines written", summary)
        assert found and int(found[1]) > 0 and int(found[2]) >= int(found[1]), summary
        shot(page, "demo-billing-run-en")

        page.get_by_role("link", name="Back to collection").click()
        page.wait_for_url("**/billing/collection/")
        runs = page.locator("table.table-compact tbody tr")
        assert "Done" in runs.first.inner_text() and f"/runs/jobs/{key}/" in (
            runs.first.locator("a").get_attribute("href") or ""
        )

        page.goto(f"{demo.url}/billing/?month={_this_month()}")
        rows = page.locator("#bills tbody tr")
        assert rows.count() == 2, page.inner_text("main")
        for i in range(2):
            cells = rows.nth(i).locator("td")
            assert cells.nth(1).inner_text() == _this_month()
            assert cells.nth(2).inner_text() == "Monthly bill"
            total = cells.nth(4).inner_text()
            assert re.fullmatch(r"¥[1-9][\d,]*\.\d\d", total), total  # a positive sum in yuan
        shot(page, "demo-billing-bills-en")
    finally:
        context.close()
    assert violations == [], "the page broke the Content-Security-Policy"


def test_the_demo_billing_run_in_chinese_says_so_in_chinese(browser: Any, demo: Demo) -> None:
    context, page, violations = _context(browser, "zh-CN")
    try:
        _sign_in(page, demo.url, "agency-shanghai")  # Shanghai only: its own region's run
        _start_run(page, demo, "/zh-hans", "征收", "启动核定", "310000")
        _watch_to_the_end(page, demo, "已完成")
        summary = page.inner_text("#job-summary")
        assert re.fullmatch(r"已完成 2 / 2 家单位 · \d+ 人 · 已写入 \d+ 条明细", summary), summary
        _no_english_and_no_codes(page)
        shot(page, "demo-billing-run-zh")

        page.get_by_role("link", name="返回征收情况").click()
        page.wait_for_url("**/zh-hans/billing/collection/")
        assert "已完成" in page.locator("table.table-compact tbody tr").first.inner_text()
        _no_english_and_no_codes(page)

        page.goto(f"{demo.url}/zh-hans/billing/?month={_this_month()}")
        rows = page.locator("#bills tbody tr")
        assert rows.count() == 2, page.inner_text("main")
        for i in range(2):
            cells = rows.nth(i).locator("td")
            assert cells.nth(2).inner_text() == "月度账单"
            total = cells.nth(4).inner_text()
            assert re.fullmatch(r"[1-9][\d,]*\.\d\d 元", total), total
        _no_english_and_no_codes(page)
    finally:
        context.close()
    assert violations == [], "the page broke the Content-Security-Policy"
