"""Agency staff profiles and API idempotency records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyStaff(models.Model):
    """A social insurance agency officer; ``regions`` empty means every region."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_staff"
    )
    regions = models.CharField(
        _("regions (comma-separated codes, empty = all)"), max_length=300, blank=True
    )

    def region_codes(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.regions.split(",") if c.strip())


class IdempotencyRecord(models.Model):
    """The stored answer to a POST with an Idempotency-Key, replayed when the same key returns."""

    key = models.CharField(max_length=200)
    principal = models.CharField(max_length=80)  # "user:12" or "token:abcd1234"
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    request_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique")
        ]


class Profile(models.Model):
    """Per-user settings that are not identity: the language messages and e-mails are written in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=[("en", "English"), ("zh-hans", "简体中文")],
        default="en",
    )
