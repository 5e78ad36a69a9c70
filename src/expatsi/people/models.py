"""Foreign employees, their identity and residence documents, and entry/exit records.

Models hold data and the invariants one row can enforce; workflows live in ``services.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from expatsi.access.crypto import masked
from expatsi.access.fields import EncryptedTextField, SearchHashField


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Language(models.TextChoices):
    EN = "en", "English"
    ZH = "zh-hans", "简体中文"


class Person(models.Model):
    """A foreigner working in China. One row for life: a new passport does not make a new person."""

    family_name = models.CharField(_("family name"), max_length=100)
    given_names = models.CharField(_("given names"), max_length=150, blank=True)
    chinese_name = models.CharField(_("Chinese name"), max_length=50, blank=True)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"))
    nationality = models.CharField(
        _("nationality"), max_length=3, help_text=_("ISO 3166-1 alpha-3")
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone in China"), max_length=30, blank=True)
    address_abroad = models.CharField(_("address abroad"), max_length=300, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.EN
    )
    ssn = models.CharField(
        _("social security number"), max_length=18, unique=True, null=True, blank=True
    )
    ssn_assigned_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("foreign employee")
        verbose_name_plural = _("foreign employees")
        indexes = [
            models.Index(fields=["family_name", "given_names"]),
            models.Index(fields=["nationality"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.family_name.upper()} {self.given_names}".strip()


class Passport(models.Model):
    """Passports over time; exactly one is current. (country, number) identifies one passport.

    The number is encrypted at rest (``number`` reads as plaintext in Python); it is found, and
    kept unique per country, through its keyed hash ``number_hash``: filter with
    ``number_hash__in=search_hashes(number)`` (:mod:`expatsi.access.crypto`).
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="passports")
    country = models.CharField(_("issuing country"), max_length=3)
    number = EncryptedTextField(_("passport number"))
    number_hash = SearchHashField(source="number")
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country", "number_hash"], name="passport_unique_number"
            ),
            models.UniqueConstraint(
                fields=["person"], condition=Q(is_current=True), name="passport_one_current"
            ),
        ]
        indexes = [models.Index(fields=["number_hash"], name="passport_number_hash")]

    def __str__(self) -> str:
        return f"{self.country} {masked(self.number)}"  # names and logs never carry the number


class DocumentKind(models.TextChoices):
    WORK_PERMIT = "work_permit", _("Foreigner's Work Permit (physical, before the Integrated Card)")
    INTEGRATED_CARD = "integrated_card", _("Integrated Card (work permit and social security card)")
    PRESS_CARD = "press_card", _("Resident foreign journalist's press card")
    RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
    PERMANENT_RESIDENT_ID = "permanent_resident_id", _("Foreign Permanent Resident ID Card")


class Document(models.Model):
    """An identity, employment or residence document with its validity (last valid day inclusive).

    An Integrated Card or work permit is never typed in: it is the card on file (the cards app owns
    the link and keeps number, dates and validity in step with the card). While the card is only
    applied for, its document has no number yet (``number`` empty).
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=24, choices=DocumentKind.choices)
    number = models.CharField(_("number"), max_length=40)
    issued_on = models.DateField(_("issued on"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    authority = models.CharField(_("issuing authority"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "number"],
                condition=~Q(number=""),
                name="document_unique_number",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="document_valid_span",
            ),
        ]
        indexes = [models.Index(fields=["kind", "valid_to"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class Direction(models.TextChoices):
    ENTRY = "entry", _("Entry")
    EXIT = "exit", _("Exit")


class EntryExit(models.Model):
    """A border crossing as reported by the exit-entry authority (imported from CSV)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="crossings")
    date = models.DateField(_("date"))
    direction = models.CharField(_("direction"), max_length=5, choices=Direction.choices)
    port = models.CharField(_("port"), max_length=100)
    import_batch = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "date", "direction", "port"], name="crossing_unique"
            )
        ]
        indexes = [models.Index(fields=["person", "date"])]
