"""Load the demo data set (idempotent) and print how to log in for each role."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_PASSWORD = os.environ.get("EXPATSI_DEMO_PASSWORD", "demo-expatsi-2026")


class Command(BaseCommand):
    help = "Create the demo users and data (safe to run again) and print the logins."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        admin, created = user_model.objects.get_or_create(
            username="agency-admin",
            defaults={
                "is_staff": True,
                "is_superuser": True,
                "email": "agency-admin@example.invalid",
            },
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins (demo only):"))
        self.stdout.write(f"  agency superuser: agency-admin / {DEMO_PASSWORD}  → /admin/")
