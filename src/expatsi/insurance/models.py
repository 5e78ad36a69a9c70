"""Employment, social insurance registration, certificates of coverage, social security numbers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from expatsi.employers.models import Employer
from expatsi.people.models import Document, Person


class Employment(models.Model):
    """One version of an employment's terms. A change closes this row and opens a successor.

    ``engagement`` groups the versions of one employment (the first row's id), so history is
    never overwritten and "employed on day D" is one indexed range query.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="employments")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="employments")
    engagement = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    end_reason = models.CharField(max_length=20, blank=True)  # "changed", "ended"
    position = models.CharField(_("position"), max_length=200)
    contract_wage = models.BigIntegerField(_("contract wage (fen a month)"))
    seconded_by = models.CharField(_("sent by overseas employer"), max_length=200, blank=True)
    seconded_by_country = models.CharField(
        _("overseas employer's country"), max_length=3, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="employment_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(contract_wage__gte=0), name="employment_wage_nonnegative"
            ),
        ]
        indexes = [
            models.Index(fields=["employer", "end_date"]),
            models.Index(fields=["person", "start_date"]),
        ]


class RegistrationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Registered")
    REJECTED = "rejected", _("Rejected")


class Registration(models.Model):
    """Social insurance registration of one person by one employer (Order No. 16 Art. 4)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="registrations")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="registrations")
    employment = models.ForeignKey(
        Employment, on_delete=models.PROTECT, related_name="registrations"
    )
    permit = models.ForeignKey(
        Document, null=True, on_delete=models.PROTECT, related_name="registrations"
    )
    permit_issued_on = models.DateField(_("work permit issued on"))
    deadline = models.DateField(_("registration deadline"))
    insurance_start = models.DateField(_("insured from"))
    status = models.CharField(
        max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.SUBMITTED
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_on = models.DateField(_("registered on"), null=True, blank=True)
    rejection_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["employment"],
                condition=~Q(status="rejected"),
                name="registration_one_live_per_employment",
            )
        ]
        indexes = [
            models.Index(fields=["employer", "status", "deadline"]),
            # The registrations list at a million rows (web.lists): the agency's queue by status
            # then deadline, and every status by deadline, each page an index range, not a sort.
            models.Index(fields=["status", "deadline", "id"], name="registration_status_deadline"),
            models.Index(fields=["deadline", "id"], name="registration_deadline"),
            # Sorted by submission: within the status filter the queue opens with, and without.
            models.Index(
                fields=["status", "submitted_at", "id"], name="registration_status_submitted"
            ),
            models.Index(fields=["submitted_at", "id"], name="registration_submitted"),
        ]


class CoverageCertificate(models.Model):
    """A home country's certificate of coverage under a bilateral agreement."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="coverage_certificates"
    )
    number = models.CharField(_("certificate number"), max_length=60)
    country = models.CharField(_("issuing country"), max_length=3)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "number"], name="certificate_unique_number"),
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="certificate_span"
            ),
        ]


class SsnSequence(models.Model):
    """Next free sequence per (province, nationality, birth date, parity): the DB-backed store."""

    key = models.CharField(max_length=40)
    parity = models.PositiveSmallIntegerField()
    last = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "parity"], name="ssn_sequence_unique")
        ]
