"""Load the demo data set (idempotent) and print how to log in for each role."""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand

DEMO_PASSWORD = os.environ.get("EXPATSI_DEMO_PASSWORD", "demo-expatsi-2026")


class Command(BaseCommand):
    help = "Create the demo users and data (safe to run again: adds nothing) and print the logins."

    def handle(self, *args: Any, **options: Any) -> None:
        from expatsi.demo import demo_load

        started = time.perf_counter()
        result = demo_load(password=os.environ.get("EXPATSI_DEMO_PASSWORD", DEMO_PASSWORD))
        if result.created:
            counts = ", ".join(f"{n} {what}" for what, n in result.counts.items())
            self.stdout.write(
                f"Demo data loaded in {time.perf_counter() - started:.1f} s: {counts}."
            )
        else:
            self.stdout.write("Demo data already loaded; nothing added.")
        password = os.environ.get("EXPATSI_DEMO_PASSWORD", DEMO_PASSWORD)
        self.stdout.write(self.style.SUCCESS(f"Logins (demo only), password for all: {password}"))
        width = max(len(login.username) for login in result.logins)
        for login in result.logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.role}")
