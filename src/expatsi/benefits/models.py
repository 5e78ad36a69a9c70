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
    PENSION = "pension", _("Monthly pension")
    INHERITANCE = "inherit", _("Inheritance")  # an heir's share of a deceased person's account
    SUBSIDY = "subsidy", _("Benefit programme payment")


# What a payment run sends (every kind but a reversal).
SENT_KINDS = (PayoutKind.PAYOUT, PayoutKind.PENSION, PayoutKind.INHERITANCE, PayoutKind.SUBSIDY)


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Approved, awaiting a payment run")
    SENT = "sent", _("Sent to the bank")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected by the bank")
    BOOKED = "booked", _("Booked")  # a reversal: a ledger entry, nothing to send
    CANCELLED = "cancelled", _("Cancelled before it was sent")  # a pension month after death


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
    )  # a lump sum's; None for an heir's share (``heir``) or a pension month (``pension``)
    heir = models.ForeignKey(
        "Heir", null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    # A benefit programme's payment (kind ``subsidy``, or its reversal).
    programme_application = models.ForeignKey(
        "ProgrammeApplication",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
    )
    # A monthly pension payment: the pension and the month it pays (YYYY-MM).
    pension = models.ForeignKey(
        "Pension", null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    month = models.CharField(max_length=7, blank=True)
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
                condition=(
                    Q(kind__in=["payout", "pension", "inherit", "subsidy"]) & Q(amount__gt=0)
                )
                | (Q(kind="reversal") & Q(amount__lt=0)),
                name="payout_sign_by_kind",
            ),
            # One live payment per pension and month: a monthly run made twice pays once.
            models.UniqueConstraint(
                fields=["pension", "month"],
                condition=Q(kind="pension", status__in=["pending", "sent", "paid"]),
                name="payout_pension_once_a_month",
            ),
            # At most one payout of an application in flight (pending or sent) at a time.
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(kind="payout", status__in=["pending", "sent"]),
                name="payout_one_in_flight",
            ),
            models.UniqueConstraint(
                fields=["heir"],
                condition=Q(kind="inherit", status__in=["pending", "sent"]),
                name="payout_one_in_flight_per_heir",
            ),
            models.UniqueConstraint(
                fields=["programme_application"],
                condition=Q(kind="subsidy", status__in=["pending", "sent"]),
                name="payout_one_subsidy_in_flight",
            ),
            # Paid for exactly one thing, as its kind says (a reversal: what it reverses).
            models.CheckConstraint(
                condition=Q(kind="reversal")
                | (
                    Q(kind="payout")
                    & Q(application__isnull=False)
                    & Q(heir__isnull=True)
                    & Q(pension__isnull=True)
                    & Q(programme_application__isnull=True)
                )
                | (
                    Q(kind="inherit")
                    & Q(heir__isnull=False)
                    & Q(application__isnull=True)
                    & Q(pension__isnull=True)
                    & Q(programme_application__isnull=True)
                )
                | (
                    Q(kind="pension")
                    & Q(pension__isnull=False)
                    & Q(application__isnull=True)
                    & Q(heir__isnull=True)
                    & Q(programme_application__isnull=True)
                )
                | (
                    Q(kind="subsidy")
                    & Q(programme_application__isnull=False)
                    & Q(application__isnull=True)
                    & Q(heir__isnull=True)
                    & Q(pension__isnull=True)
                ),
                name="payout_owner_by_kind",
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


# --- pensions paid abroad (issue #11) --------------------------------------------------------------


class PensionStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting review")
    SECOND_APPROVAL = "second_approval", _("Awaiting a second approval")
    AWARDED = "awarded", _("Awarded: paid every month")
    SUSPENDED = "suspended", _("Suspended: no proof of life")
    STOPPED = "stopped", _("Stopped: death reported")
    REJECTED = "rejected", _("Rejected")


LIVE_PENSION = (
    PensionStatus.SUBMITTED,
    PensionStatus.SECOND_APPROVAL,
    PensionStatus.AWARDED,
    PensionStatus.SUSPENDED,
)
DECIDABLE_PENSION = (PensionStatus.SUBMITTED, PensionStatus.SECOND_APPROVAL)
PAYABLE_PENSION = (PensionStatus.AWARDED, PensionStatus.SUSPENDED)


class Pension(models.Model):
    """A monthly pension: the application and, once awarded, the award as computed when it was
    filed (basic + individual-account pension, each figure with its explanation and status in
    ``lines``). The amounts never change; the status and the proof-of-life dates do (audited).

    ``first_month``: the first month paid. ``last_month``: the last month payable (the month of
    death), blank while the pension runs. ``proof_due``: the last day of the current proof of life
    (12 months after ``verified_on``, deadlines.toml ``proof_of_life``)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="pensions")
    region_code = models.CharField(max_length=6)
    applied_on = models.DateField(_("applied on"))
    applied_by = models.CharField(max_length=200)
    by_agency = models.BooleanField(default=False)
    first_month = models.CharField(_("first month paid"), max_length=7)
    basic = models.BigIntegerField(_("basic pension (fen)"))
    account = models.BigIntegerField(_("individual-account pension (fen)"))
    total = models.BigIntegerField(_("monthly pension (fen)"))
    lines = models.JSONField(default=list)  # [{key, label, value, explanation, status}]
    figures_status = models.CharField(max_length=12)  # the weakest status of the figures
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=PensionStatus.choices, default=PensionStatus.SUBMITTED
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by_label = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    second_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    second_by_label = models.CharField(max_length=200, blank=True)
    second_at = models.DateTimeField(null=True, blank=True)
    second_note = models.CharField(max_length=500, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    verified_on = models.DateField(null=True, blank=True)  # the last accepted proof of life
    proof_due = models.DateField(null=True, blank=True)
    suspended_on = models.DateField(null=True, blank=True)
    died_on = models.DateField(null=True, blank=True)
    last_month = models.CharField(max_length=7, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["submitted", "second_approval", "awarded", "suspended"]),
                name="pension_one_live",
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0) & Q(basic__gte=0) & Q(account__gte=0),
                name="pension_amounts_nonneg",
            ),
        ]
        indexes = [
            models.Index(fields=["region_code", "status"]),
            models.Index(fields=["status", "proof_due"]),
        ]


class ProofRoute(models.TextChoices):
    EMBASSY = "embassy", _("Life certificate from a Chinese embassy or consulate")
    NOTARISED = "notarised", _("Certificate notarised and apostilled (or authenticated)")
    ONLINE = "online", _("Online in the portal")
    IN_PERSON = "in_person", _("In person at an agency")


DOCUMENT_ROUTES = (ProofRoute.EMBASSY, ProofRoute.NOTARISED)


class ProofStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class ProofOfLife(models.Model):
    """One proof of life for a pension paid abroad. A certificate (embassy, notarised) is uploaded
    and reviewed by agency staff; online (password typed again) and in person (recorded by staff)
    are accepted when made. ``verified_on``: the day life was proven (the certificate's date)."""

    pension = models.ForeignKey(Pension, on_delete=models.PROTECT, related_name="proofs")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="proofs_of_life")
    route = models.CharField(max_length=10, choices=ProofRoute.choices)
    status = models.CharField(
        max_length=10, choices=ProofStatus.choices, default=ProofStatus.SUBMITTED
    )
    verified_on = models.DateField(_("date of the certificate or check"))
    document = models.BinaryField(null=True, blank=True)
    document_type = models.CharField(max_length=40, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.CharField(max_length=200)
    reviewed_by_label = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "submitted_at"])]


class PensionOverpayment(models.Model):
    """Pension months paid after the month of death: to be recovered (Social Insurance Handling
    Regulations Art. 26). Written once when the death stops the pension."""

    pension = models.OneToOneField(Pension, on_delete=models.PROTECT, related_name="overpayment")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    died_on = models.DateField()
    months = models.JSONField(default=list)  # YYYY-MM, each paid after the month of death
    amount = models.BigIntegerField()  # fen
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.CharField(max_length=200)


# --- death and inheritance (benefits/death.py) ---------------------------------------------------


class Reporter(models.TextChoices):
    EMPLOYER = "employer", _("The employer (HR)")
    FAMILY = "family", _("A family member")
    AGENCY = "agency", _("Agency staff")


class DeathReport(models.Model):
    """A person's death, reported with evidence. From the report on, the individual account is
    frozen: no lump sum, no departure, no payout but to the heirs; the balance is that on
    ``died_on`` (Social Insurance Law Art. 14: the balance is inherited). ``died_on`` is what the
    pension payments read to stop. One report per person."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="death")
    region_code = models.CharField(max_length=6)
    died_on = models.DateField(_("date of death"))
    reporter = models.CharField(_("reported by"), max_length=10, choices=Reporter.choices)
    reporter_name = models.CharField(_("name of the person reporting"), max_length=140)
    relationship = models.CharField(_("relationship to the deceased"), max_length=80, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by_label = models.CharField(max_length=200)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["region_code", "-recorded_at"])]


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting the agency's decision on the shares")
    SECOND_APPROVAL = "second_approval", _("Awaiting a second approval")
    APPROVED = "approved", _("Approved: payouts under way")
    PAID = "paid", _("Paid to every heir")
    REJECTED = "rejected", _("Rejected")


LIVE_CLAIM = (ClaimStatus.SUBMITTED, ClaimStatus.SECOND_APPROVAL, ClaimStatus.APPROVED)


class InheritanceClaim(models.Model):
    """The heirs' claim to a deceased person's individual account. Agency staff decide the
    shares; the balance on the date of death and the statement behind it are fixed then, and
    split per heir in whole fen (benefits/death.py ``split_shares``). One live claim per person."""

    death = models.ForeignKey(DeathReport, on_delete=models.PROTECT, related_name="claims")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="inheritance_claims")
    region_code = models.CharField(max_length=6)
    status = models.CharField(
        max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED
    )
    filed_at = models.DateTimeField(auto_now_add=True)
    filed_by_label = models.CharField(max_length=200)
    balance = models.BigIntegerField(_("balance on the date of death (fen)"), null=True)
    statement = models.JSONField(default=dict)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by_label = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
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
                name="inheritance_one_live_claim",
            ),
            models.CheckConstraint(
                condition=Q(balance__isnull=True) | Q(balance__gte=0),
                name="inheritance_balance_nonneg",
            ),
        ]
        indexes = [models.Index(fields=["status", "filed_at"])]


class Heir(models.Model):
    """One heir of a claim, in the order filed (the order decides who gets a remainder fen).
    The share is a fraction ``share_num/share_den`` decided by agency staff; ``amount`` is the
    heir's whole fen of the balance, fixed with the shares and never edited."""

    claim = models.ForeignKey(InheritanceClaim, on_delete=models.PROTECT, related_name="heirs")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("name of the heir"), max_length=140)
    relationship = models.CharField(_("relationship to the deceased"), max_length=80)
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    share_num = models.PositiveIntegerField(null=True, blank=True)
    share_den = models.PositiveIntegerField(null=True, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["claim", "position"], name="heir_position_unique"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="heir_amount_nonneg"
            ),
        ]

    @property
    def share_text(self) -> str:
        return f"{self.share_num}/{self.share_den}" if self.share_den else ""


class DeathDocument(models.Model):
    """Evidence of a death (a death certificate, a hospital's or police notice) or a document of
    an inheritance claim (a notarised certificate of inheritance, a will, proof of kinship).
    Stored as uploaded, at most the upload cap; shown to agency staff only."""

    death = models.ForeignKey(DeathReport, on_delete=models.PROTECT, related_name="documents")
    claim = models.ForeignKey(
        InheritanceClaim,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    uploaded_by_label = models.CharField(max_length=200)
    uploaded_at = models.DateTimeField(auto_now_add=True)


# --- benefit programmes (subsidies) ---------------------------------------------------------------


class ProgrammeStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting review")
    APPROVED = "approved", _("Approved: payout under way")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected")
    SECOND_APPROVAL = "second_approval", _("Awaiting a second approval")


LIVE_PROGRAMME = (
    ProgrammeStatus.SUBMITTED,
    ProgrammeStatus.APPROVED,
    ProgrammeStatus.PAID,
    ProgrammeStatus.SECOND_APPROVAL,
)
# awaiting a decision: the first review, or the second above the four-eyes threshold
PROGRAMME_TO_DECIDE = (ProgrammeStatus.SUBMITTED, ProgrammeStatus.SECOND_APPROVAL)


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
        max_length=20, choices=ProgrammeStatus.choices, default=ProgrammeStatus.SUBMITTED
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
    # four eyes: above EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE a second, different agency user
    second_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    second_by_label = models.CharField(max_length=200, blank=True)
    second_at = models.DateTimeField(null=True, blank=True)
    second_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "programme"],
                condition=Q(status__in=["submitted", "approved", "paid", "second_approval"]),
                name="programme_once_per_person",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="programme_amount_positive"),
        ]
        indexes = [models.Index(fields=["region_code", "status"])]
