"""Employers (domestic entities, branches and representative offices), HR users and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EmployerKind(models.TextChoices):
    DOMESTIC = "domestic", _("Domestic employer")
    BRANCH = "branch", _("Branch of an overseas company")
    REPRESENTATIVE_OFFICE = (
        "representative_office",
        _("Representative office of an overseas company"),
    )


class Employer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    region_code = models.CharField(_("region"), max_length=6, db_index=True)
    kind = models.CharField(
        _("kind"), max_length=24, choices=EmployerKind.choices, default=EmployerKind.DOMESTIC
    )
    overseas_company = models.CharField(_("overseas company"), max_length=200, blank=True)
    overseas_country = models.CharField(_("overseas company's country"), max_length=3, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    dissolved_on = models.DateField(
        _("ceased to exist on"),
        null=True,
        blank=True,
        help_text=_(
            "Once an employer no longer exists, its foreign employees may file card applications themselves."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="domestic") | ~Q(overseas_company=""),
                name="employer_overseas_named",
            )
        ]
        # The administration list's sorts (web.lists), each ending in id like the list's order,
        # so a page — the first or the thousandth — is one index range, not a sort of the table.
        indexes = [
            models.Index(fields=["name", "id"], name="employer_name_sort"),
            models.Index(fields=["uscc", "id"], name="employer_uscc_sort"),
            models.Index(fields=["region_code", "name", "id"], name="employer_region_name_sort"),
            models.Index(fields=["created_at", "id"], name="employer_created_sort"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkInjuryRating(models.Model):
    """The employer's work-injury class and floating grade over time (effective-dated, never edited)."""

    employer = models.ForeignKey(
        Employer, on_delete=models.CASCADE, related_name="work_injury_ratings"
    )
    industry_class = models.CharField(_("industry class"), max_length=4)
    grade_ppm = models.PositiveIntegerField(_("floating grade (ppm)"))
    rate_ppm = models.PositiveIntegerField(_("rate (ppm)"))
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["employer", "effective_from"], name="rating_unique_start"
            ),
            models.UniqueConstraint(
                fields=["employer"], condition=Q(effective_to__isnull=True), name="rating_one_open"
            ),
        ]


class HrMembership(models.Model):
    """A user who acts as HR for an employer."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hr_memberships"
    )
    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="hr_members")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "employer"], name="hr_membership_unique")
        ]


class ApiToken(models.Model):
    """A token for an employer's HR system: shown once, stored as a SHA-256 digest, revocable."""

    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class HrInvitation(models.Model):
    """An invitation to act as HR for an employer, sent to an e-mail address.

    HR access is only ever given to a new account: the invitee opens the link, chooses a user name
    and a password, and the account is made then. An existing account is never attached, so no
    one can take over another tenant's user, an employee or agency staff by naming them. The link
    carries a random token, stored only as its SHA-256 digest; it works once, until it expires."""

    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="hr_invitations")
    email = models.EmailField(_("e-mail"))
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    language = models.CharField(max_length=8, default="en")
    digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
