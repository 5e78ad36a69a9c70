"""Departures, termination applications, bank accounts abroad, payouts and payment runs.

Money rows are never edited: a payout's amount and account are written once; a payout the bank
rejects keeps its row (status ``rejected``) and gets a reversing entry, and a new payout goes out.
What changes over a row's life (a status) is recorded in the audit trail with its actor.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from expatsi.access.crypto import masked
from expatsi.access.fields import EncryptedTextField, SearchHashField
from expatsi.people.models import Person


class Trigger(models.TextChoices):
    CARD_DEREGISTERED = "card_deregistered", _("Integrated Card deregistered")
    EMPLOYMENT_ENDED = "employment_ended", _("Employment ended")
    EXIT_RECORDED = "exit_recorded", _("Exit from China recorded")
    DECLARED = "declared", _("Declared by the person")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Awaiting the person's choice")
    KEPT = "kept", _("Account kept")
    TERMINATING = "terminating", _("Termination applied for")
    TERMINATED = "terminated", _("Terminated and paid out")


LIVE_CASE = (CaseStatus.OPEN, CaseStatus.TERMINATING)


class DepartureCase(models.Model):
    """A foreigner leaving China (or the job that kept them insured here) and their choice.

    ``region_code`` is the region of the employer of the employment that ended: the agency there
    reviews the application and pays. One live case (open or terminating) per person.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="departures")
    region_code = models.CharField(max_length=6)
    trigger = models.CharField(_("opened by"), max_length=20, choices=Trigger.choices)
    departure_date = models.DateField(_("date of departure"))
    status = models.CharField(max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.CharField(max_length=200)
    chosen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["open", "terminating"]),
                name="departure_one_live_case",
            )
        ]
        indexes = [models.Index(fields=["region_code", "status"])]


class BankAccount(models.Model):
    """A bank account abroad to pay into. Account numbers are encrypted at rest and masked on
    display; ``iban`` or (``account_number`` + ``bank_code``) by the country's rules
    (benefits/bank.py), always with the bank's BIC (SWIFT code)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="bank_accounts")
    holder = models.CharField(_("account holder"), max_length=140)
    country = models.CharField(_("country of the bank"), max_length=3)  # ISO 3166-1 alpha-3
    iban = EncryptedTextField(_("IBAN"), blank=True)
    iban_hash = SearchHashField(source="iban", blank=True)
    account_number = EncryptedTextField(_("account number"), blank=True)
    account_number_hash = SearchHashField(source="account_number", blank=True)
    bank_code = models.CharField(_("bank code"), max_length=20, blank=True)
    bic = models.CharField(_("BIC (SWIFT code)"), max_length=11)
    currency = models.CharField(_("currency"), max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.country} {self.masked_number}"  # never the whole number in a log

    @property
    def masked_number(self) -> str:
        return masked(self.iban or self.account_number)


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting review")
    SECOND_APPROVAL = "second_approval", _("Awaiting a second approval")
    APPROVED = "approved", _("Approved: payout under way")
    PAID = "paid", _("Paid: account closed")
    REJECTED = "rejected", _("Rejected")


LIVE_APPLICATION = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.SECOND_APPROVAL,
    ApplicationStatus.APPROVED,
)


class SignedVia(models.TextChoices):
    PORTAL = "portal", _("Signed in the portal with the password")
    UPLOAD = "upload", _("Signed form uploaded")


class TerminationApplication(models.Model):
    """The written application to terminate the social insurance relationship (Order No. 16
    Art. 5). The lump sum and the statement behind it are fixed when it is signed: what the person
    saw is what is reviewed and paid. One live application per person."""

    case = models.ForeignKey(DepartureCase, on_delete=models.PROTECT, related_name="applications")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="terminations")
    closing_date = models.DateField(_("closing date"))
    amount = models.BigIntegerField(_("lump sum (fen)"))
    statement = models.JSONField(default=dict)  # years, explanation, status, as shown when signed
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    signed_via = models.CharField(max_length=8, choices=SignedVia.choices)
    signed_at = models.DateTimeField(auto_now_add=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_form = models.BinaryField(null=True, blank=True)  # the scanned form (PDF/JPEG/PNG)
    signed_form_type = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    identity_checked = models.BooleanField(default=False)
    review_note = models.CharField(max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by_label = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    second_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    second_by_label = models.CharField(max_length=200, blank=True)
    second_at = models.DateTimeField(null=True, blank=True)
    second_note = models.CharField(max_length=500, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["submitted", "second_approval", "approved"]),
                name="termination_one_live_application",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="termination_amount_nonneg"),
        ]
        indexes = [models.Index(fields=["status", "signed_at"])]


class PayoutKind(models.TextChoices):
    PAYOUT = "payout", _("Payout")
    REVERSAL = "reversal", _("Reversal")
    SUBSIDY = "subsidy", _("Benefit programme payment")


SENT_KINDS = (PayoutKind.PAYOUT, PayoutKind.SUBSIDY)  # what a payment run sends


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Approved, awaiting a payment run")
    SENT = "sent", _("Sent to the bank")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected by the bank")
    BOOKED = "booked", _("Booked")  # a reversal: a ledger entry, nothing to send


class PaymentRun(models.Model):
    """One bank instruction file (ISO 20022 pain.001) for a region's approved payouts, written in
    the same transaction that assigns the payouts to it: a run is all or nothing."""

    region_code = models.CharField(max_length=6)
    message_id = models.CharField(max_length=35, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)
    execution_date = models.DateField()
    count = models.PositiveIntegerField()
    total = models.BigIntegerField()  # fen
    xml = models.TextField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["region_code", "-created_at"])]


class Payout(models.Model):
    """One amount owed to one bank account abroad (fen, in CNY; ``currency`` is what the bank
    converts it to). Written once; a reversal is a second row with the opposite amount."""

    application = models.ForeignKey(
        TerminationApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
    )
    # A benefit programme's payment (kind ``subsidy``, or its reversal) instead of a lump sum.
    programme_application = models.ForeignKey(
        "ProgrammeApplication",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="payouts")
    region_code = models.CharField(max_length=6)
    kind = models.CharField(max_length=8, choices=PayoutKind.choices, default=PayoutKind.PAYOUT)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    end_to_end_id = models.CharField(max_length=35, unique=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    status = models.CharField(
        max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    run = models.ForeignKey(
        PaymentRun, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)
    settled_on = models.DateField(null=True, blank=True)
    bank_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=["payout", "subsidy"]) & Q(amount__gt=0))
                | (Q(kind="reversal") & Q(amount__lt=0)),
                name="payout_sign_by_kind",
            ),
            # Paid for exactly one thing: a termination application or a programme application.
            models.CheckConstraint(
                condition=(Q(application__isnull=False) & Q(programme_application__isnull=True))
                | (Q(application__isnull=True) & Q(programme_application__isnull=False)),
                name="payout_for_one_thing",
            ),
            models.UniqueConstraint(
                fields=["programme_application"],
                condition=Q(kind="subsidy", status__in=["pending", "sent"]),
                name="payout_one_subsidy_in_flight",
            ),
            # At most one payout of an application in flight (pending or sent) at a time.
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(kind="payout", status__in=["pending", "sent"]),
                name="payout_one_in_flight",
            ),
        ]
        indexes = [models.Index(fields=["region_code", "status"])]


class AccountClosure(models.Model):
    """The individual account closed by a paid lump sum. Credits for months after
    ``closed_month`` belong to a new account under the same social security number."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="account_closures")
    application = models.OneToOneField(
        TerminationApplication, on_delete=models.PROTECT, related_name="closure"
    )
    closed_on = models.DateField()
    closed_month = models.CharField(max_length=7)  # YYYY-MM
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["person", "-closed_month"])]


# --- benefit programmes (subsidies) ---------------------------------------------------------------


class ProgrammeStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting review")
    APPROVED = "approved", _("Approved: payout under way")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected")


LIVE_PROGRAMME = (ProgrammeStatus.SUBMITTED, ProgrammeStatus.APPROVED, ProgrammeStatus.PAID)


class ProgrammeApplication(models.Model):
    """A card holder's application for a benefit programme (benefits/policies/programmes.toml).
    The programme's code, amount and the months counted are fixed when applying: what the person
    saw is what is reviewed and paid. At most one application per person and programme that is
    under way or paid (a rejected one may be followed by a new one)."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="programme_applications"
    )
    programme = models.CharField(_("programme"), max_length=40)
    region_code = models.CharField(max_length=6)
    amount = models.BigIntegerField(_("amount (fen)"))
    months_counted = models.PositiveIntegerField()
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=ProgrammeStatus.choices, default=ProgrammeStatus.SUBMITTED
    )
    applied_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.CharField(max_length=200)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by_label = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "programme"],
                condition=Q(status__in=["submitted", "approved", "paid"]),
                name="programme_once_per_person",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="programme_amount_positive"),
        ]
        indexes = [models.Index(fields=["region_code", "status"])]
