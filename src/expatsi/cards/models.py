"""The Integrated Card (work permit merged with the social security card since 1 Dec 2024).

A card's life is a state machine (see ``states.py``); every change goes through an application
that agency staff decide, and leaves history. Signed QR tokens are rows too, so that a change or a
deregistration can revoke exactly the tokens it supersedes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from expatsi.access.fields import EncryptedTextField
from expatsi.employers.models import Employer
from expatsi.people.models import Document, Person


class Category(models.TextChoices):
    A = "A", _("A — foreign high-end talent")
    B = "B", _("B — foreign professional")
    C = "C", _("C — other foreign personnel")


class CardStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    NOTICE_ISSUED = "notice_issued", _("Work permit notice issued")
    ACTIVE = "active", _("Active")
    LAPSED = "lapsed", _("Notice lapsed (no entry within 90 days)")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")
    DEREGISTERED = "deregistered", _("Deregistered")


class PermitNumber(models.Model):
    """The work permit number: 18 digits, one per person for life (一人一号、终生不变)."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="permit_number")
    number = models.CharField(max_length=18, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Card(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cards")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="cards")
    card_number = models.CharField(
        _("card number"), max_length=20, unique=True, null=True, blank=True
    )
    permit_number = models.CharField(
        _("work permit number"), max_length=18, blank=True, db_index=True
    )
    category = models.CharField(_("category"), max_length=1, choices=Category.choices)
    position = models.CharField(_("position"), max_length=200)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(max_length=16, choices=CardStatus.choices, default=CardStatus.APPLIED)
    legacy = models.BooleanField(
        _("physical work permit (before the Integrated Card)"),
        default=False,
        help_text=_(
            "Valid as it is until its next extension or change (no change, no replacement)."
        ),
    )
    notice_issued_on = models.DateField(null=True, blank=True)
    notice_valid_to = models.DateField(null=True, blank=True)
    entry_date = models.DateField(null=True, blank=True)
    residence_permit_due = models.DateField(null=True, blank=True)
    photo = models.BinaryField(null=True, blank=True, editable=False)
    photo_hash = models.CharField(max_length=32, blank=True)
    deregistered_on = models.DateField(null=True, blank=True)
    deregistration_reason = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The person's document for this card: a hire records it (never a typed copy of the number),
    # and every approval, extension, change or deregistration keeps it in step (cards.card_document).
    document = models.OneToOneField(
        Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="card"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["applied", "notice_issued", "active"]),
                name="card_one_live_per_person",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="card_valid_span",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "valid_to"]),
            models.Index(fields=["employer", "status"]),
            # The cards list's sorts (web.lists), each ending in id like the list's order; the
            # default (last change, newest first) also by employer (an HR reader's scope) and by
            # status (its filter). A nullable field's NULLs sit last, where the list puts them.
            models.Index(fields=["updated_at", "id"], name="card_updated_sort"),
            models.Index(
                fields=["employer", "updated_at", "id"], name="card_employer_updated_sort"
            ),
            models.Index(fields=["status", "updated_at", "id"], name="card_status_updated_sort"),
            models.Index(fields=["card_number", "id"], name="card_number_sort"),
            models.Index(fields=["permit_number", "id"], name="card_permit_sort"),
            # every valid check of a card's code asks whether the card has a photo to show by
            # this hash (cards/verification.py): without it, a scan of the card table per check
            models.Index(fields=["photo_hash"], name="card_photo_hash"),
            models.Index(fields=["valid_to", "id"], name="card_valid_to_sort"),
        ]

    def __str__(self) -> str:
        return self.card_number or f"card #{self.pk}"


class ApplicationKind(models.TextChoices):
    FIRST_ENTRY = "first_entry", _("First application (new to China)")
    EXTENSION = "extension", _("Extension")
    CHANGE = "change", _("Change")
    DEREGISTRATION = "deregistration", _("Deregistration")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class CardApplication(models.Model):
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="applications")
    kind = models.CharField(max_length=16, choices=ApplicationKind.choices)
    status = models.CharField(
        max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_as = models.CharField(max_length=10)  # employer | foreigner | agency
    filed_at = models.DateTimeField(auto_now_add=True)
    request = models.JSONField(default=dict)
    # A change application's new passport number, encrypted at rest: ``request["changes"]`` holds
    # only its masked form (``****1234``), so the JSON never carries the number in plaintext.
    passport_number = EncryptedTextField(blank=True, default="")
    event_date = models.DateField(null=True, blank=True)  # the change or end of employment
    deadline = models.DateField(null=True, blank=True)
    late = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["card"], condition=Q(status="submitted"), name="card_one_open_application"
            )
        ]
        # The decision queue (web.lists): always the submitted ones, oldest filed first.
        indexes = [
            models.Index(fields=["status", "filed_at", "id"], name="cardapp_status_filed_sort"),
        ]


class CardEvent(models.Model):
    """The card's history: every transition, who made it and what changed."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor_label = models.CharField(max_length=200)
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]


class CardToken(models.Model):
    """A signed QR token issued for a card; revoked by a change, a deregistration or expiry."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="tokens")
    text = models.TextField()
    kid = models.CharField(max_length=16)
    revocation_hash = models.CharField(max_length=32, unique=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoked_reason = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]


class VerificationLog(models.Model):
    """Every online check: when, from where, which answer (never the code itself)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip = models.CharField(max_length=45)
    result = models.CharField(max_length=16)
    kid = models.CharField(max_length=16, blank=True)
    card_number = models.CharField(max_length=20, blank=True)
    via = models.CharField(max_length=8)  # page | api


class DocumentKind(models.TextChoices):
    """The documents a first application carries (the work permit's supporting documents)."""

    PASSPORT_SCAN = "passport_scan", _("Passport scan")
    LABOUR_CONTRACT = "labour_contract", _("Labour contract")
    DEGREE = "degree", _("Degree certificate")
    MEDICAL_REPORT = "medical_report", _("Medical report")


class ApplicationDocument(models.Model):
    """One supporting document of an application, kept in the database like the holder's photo
    (no file store to back up or secure apart). The type is what the bytes are, not what the
    file's name says; reading the bytes is audited (cards/documents.py)."""

    application = models.ForeignKey(
        CardApplication, on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)  # application/pdf | image/jpeg | image/png
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField(editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind"], name="card_document_one_per_kind"
            )
        ]
