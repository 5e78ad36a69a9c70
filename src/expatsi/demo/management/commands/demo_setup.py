"""Load the demo data set (idempotent) and print how to log in for each role."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from expatsi.access.twofactor import key_from_base32
from expatsi.demo.data import DEMO_TOTP_SECRET, demo_load


class Command(BaseCommand):
    help = "Create the demo users and data (safe to run again: adds nothing) and print the logins."

    def handle(self, *args: Any, **options: Any) -> None:
        secret = settings.EXPATSI_DEMO_TOTP_SECRET or DEMO_TOTP_SECRET
        try:
            key = key_from_base32(secret)
        except ValueError as exc:
            raise CommandError(f"EXPATSI_DEMO_TOTP_SECRET: {exc}") from None
        started = time.perf_counter()
        password = settings.EXPATSI_DEMO_PASSWORD
        result = demo_load(password=password, totp_secret=secret)
        if result.created:
            counts = ", ".join(f"{n} {what}" for what, n in result.counts.items())
            self.stdout.write(
                f"Demo data loaded in {time.perf_counter() - started:.1f} s: {counts}."
            )
        else:
            self.stdout.write("Demo data already loaded; nothing added.")
        self.stdout.write(self.style.SUCCESS(f"Logins (demo only), password for all: {password}"))
        width = max(len(login.username) for login in result.logins)
        for login in result.logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.role}")
        code = f"{TOTP(bytes.fromhex(key)).token():06d}"
        self.stdout.write(
            self.style.SUCCESS("Second step for the agency logins (demo only): ")
            + "add this key to an authenticator app (time-based, 6 digits, 30 s)"
        )
        self.stdout.write(f"  {secret}  (EXPATSI_DEMO_TOTP_SECRET; code right now: {code})")
