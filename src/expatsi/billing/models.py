"""Bills are never edited once issued: a changed input produces an adjustment bill of differences."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from expatsi.employers.models import Employer
from expatsi.people.models import Person
from expatsi.rules.regions import INSURANCES

INSURANCE_CODES = ("pension", "medical", "unemployment", "work_injury", "maternity")


class BaseDeclaration(models.Model):
    """The declared monthly contribution wage of one person at one employer for one contribution
    year (``period_start`` is its first month, e.g. 2025-07). A correction adds a row; the latest
    row counts, and earlier ones stay as history."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="base_declarations")
    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="base_declarations"
    )
    period_start = models.CharField(max_length=7)  # YYYY-MM
    wage = models.BigIntegerField(_("declared monthly wage (fen)"))
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    declared_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, default="portal")  # portal | api | import

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(wage__gte=0), name="declaration_wage_nonnegative")
        ]
        indexes = [models.Index(fields=["employer", "period_start", "person", "-declared_at"])]


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    INTERRUPTED = "interrupted", _("Interrupted — can be resumed")


def lease_seconds() -> int:
    """How long a running billing run may go without a heartbeat before its worker counts as gone.

    A run beats once per batch, so this must comfortably exceed the time of one batch."""
    return max(1, int(settings.EXPATSI_BILLING_LEASE_SECONDS))


def lease_cutoff() -> datetime:
    """Runs whose last heartbeat is older than this have lost their worker."""
    return timezone.now() - timedelta(seconds=lease_seconds())


class BillingJob(models.Model):
    """A billing run or recalculation started as a background job, recorded when it is enqueued.

    Its key is what the progress page and the API follow: a key with no row is unknown (404),
    a row with no run yet is queued. ``attempt`` counts resumptions; the runs of the latest attempt
    make the job's status, earlier attempts' runs stay as history.

    ``queued_by`` is the staff member who queued the latest attempt: the worker acts as them (as
    they stand when it runs), so the bills it writes are theirs in the audit trail; no user (the
    system queued it, or the user is gone) and the worker acts as the system. ``task_id`` is the
    task backend's own result id of the latest attempt, so that the job's status can also come
    from the backend (a task that failed before it wrote a run)."""

    key = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=12)  # run | recalculate
    region_code = models.CharField(max_length=6)
    month = models.CharField(max_length=7)
    to_month = models.CharField(max_length=7, blank=True)
    expected_runs = models.PositiveIntegerField(default=1)
    attempt = models.PositiveIntegerField(default=1)
    started_by = models.CharField(max_length=200, blank=True)
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["region_code", "-created_at"])]


class BillingRun(models.Model):
    """One execution of the monthly run for a region and month; re-running resumes or adjusts.

    ``heartbeat_at`` is renewed batch by batch: a run still marked running whose heartbeat is older
    than the lease lost its worker (killed, crashed, machine gone) and is shown as interrupted."""

    region_code = models.CharField(max_length=6)
    month = models.CharField(max_length=7)
    kind = models.CharField(max_length=12, default="run")  # run | recalculate
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING)
    employers_total = models.PositiveIntegerField(default=0)
    employers_done = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)
    lines_written = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    job = models.ForeignKey(
        BillingJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    attempt = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["region_code", "month", "-started_at"])]

    @property
    def last_seen(self) -> datetime:
        return self.finished_at or self.heartbeat_at or self.started_at

    @property
    def shown_status(self) -> str:
        """The status as it stands now: a running run whose lease expired is interrupted."""
        if self.status == RunStatus.RUNNING and self.last_seen < lease_cutoff():
            return str(RunStatus.INTERRUPTED)
        return str(self.status)

    @property
    def shown_status_label(self) -> str:
        return str(RunStatus(self.shown_status).label)

    @property
    def resumable(self) -> bool:
        return self.shown_status == RunStatus.INTERRUPTED


class PolicySnapshot(models.Model):
    """The policy period a bill was built on, as it stood when the bill was issued: limits, rates,
    fixed amounts, and the status and source of each, plus the region's payment rules.

    Why a copy and not a pointer to the policy file: a bill must be explained, and marked, by the
    figures it was computed from, even after a new notice replaces them. One row per distinct
    content (``digest`` of the canonical JSON), shared by every bill built on it."""

    digest = models.CharField(max_length=64, unique=True)
    version = models.CharField(max_length=64)  # region:first month:file hash, as on the bill
    region_code = models.CharField(max_length=6)
    period_first = models.CharField(max_length=7)
    status = models.CharField(max_length=12)  # the weakest status of the period's figures
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)


class BillKind(models.TextChoices):
    REGULAR = "regular", _("Monthly bill")
    ADJUSTMENT = "adjustment", _("Adjustment")


class Bill(models.Model):
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="bills")
    region_code = models.CharField(max_length=6)
    month = models.CharField(max_length=7)
    kind = models.CharField(max_length=10, choices=BillKind.choices)
    number = models.CharField(max_length=32, unique=True)
    run = models.ForeignKey(BillingRun, null=True, on_delete=models.SET_NULL, related_name="bills")
    policy_version = models.CharField(max_length=64)
    # What the amounts rest on, recorded at issue (never recomputed from today's policy): the
    # period, the weakest status of every figure used ("" for bills issued before statuses were
    # recorded), and the figures' sources (see billing.provenance).
    policy = models.ForeignKey(
        PolicySnapshot, null=True, blank=True, on_delete=models.PROTECT, related_name="bills"
    )
    policy_status = models.CharField(max_length=12, blank=True, default="")
    policy_sources = models.JSONField(default=dict, blank=True)
    employer_total = models.BigIntegerField()
    employee_total = models.BigIntegerField()
    due_date = models.DateField()
    issued_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, blank=True)
    # Who the bill bills for medical insurance (everyone billed for a month has a medical line):
    # how many people, and the sum of a 64-bit hash of their ids (PostgreSQL's
    # ``hashint8extended(person_id, 0)``), written with the bill by the billing run on PostgreSQL
    # (NULL elsewhere, and on bills written otherwise). A bill's lines never change once written,
    # so the pair stays true; the compliance check "months not billed" compares it with who was
    # employed instead of reading every medical line of every month again (cases/checks.py).
    medical_people = models.PositiveIntegerField(null=True, blank=True)
    medical_hash = models.DecimalField(max_digits=40, decimal_places=0, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["employer", "month"],
                condition=Q(kind="regular"),
                name="bill_one_regular_per_month",
            )
        ]
        # The bills list's sorts (web.lists, newest month first by default), each ending in id
        # like the list's order: led by employer (HR's scope) and by region (an agency's), and
        # alone (an agency of every region). They also serve the run's look-ups by month.
        indexes = [
            models.Index(fields=["employer", "month", "id"], name="bill_employer_month_sort"),
            models.Index(fields=["region_code", "month", "id"], name="bill_region_month_sort"),
            models.Index(fields=["month", "id"], name="bill_month_sort"),
            models.Index(fields=["due_date", "id"], name="bill_due_sort"),
            models.Index(fields=["number", "id"], name="bill_number_sort"),
        ]

    @property
    def total(self) -> int:
        return self.employer_total + self.employee_total


class BillLine(models.Model):
    """One insurance for one person on one bill. Amounts in fen; for adjustments, the difference.

    The largest table (five rows per person per month). Its foreign keys are not enforced by the
    database: lines are written only by the billing run, in the same transaction as their bill, and
    per-row constraint triggers doubled the cost of writing them (measured: 0.73 s → 1.52 s per
    100,000 lines). ``person`` is indexed by the (person, bill) index.
    """

    FLAG_EXEMPT = 1
    FLAG_MERGED = 2
    REASON_SHIFT = 2  # bits 2–3: 0 within limits, 1 raised to lower limit, 2 capped at upper limit
    # Work injury only: the employer had no rating on file, so the region's assumed rate was used
    # (a CONVENTION, see national/conventions.toml).
    FLAG_DEFAULT_WORK_INJURY = 16
    # An entry of a correction a decision ordered (billing/corrections.py): billing and recalculation
    # runs leave the decided person-insurance of that month alone.
    FLAG_DECIDED = 32

    id = models.BigAutoField(primary_key=True)
    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="bill_lines",
        db_constraint=False,
        db_index=False,
    )
    insurance = models.PositiveSmallIntegerField()  # index into INSURANCE_CODES
    base = models.BigIntegerField()
    employer_rate = models.IntegerField()  # ppm
    employee_rate = models.IntegerField()  # ppm
    employer_amount = models.BigIntegerField()
    employee_amount = models.BigIntegerField()
    flags = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)  # adjustments: old → new and why

    class Meta:
        indexes = [
            models.Index(fields=["person", "bill"]),
            # For the compliance scan (cases/checks.py), partial so that the billing run writes
            # them only for the lines they hold: who was billed at all for a month (every person
            # billed has a medical line, which no agreement exempts) read from a fifth of the
            # lines, and the few lines exempted under an agreement.
            models.Index(
                fields=["bill", "person"],
                condition=Q(insurance=INSURANCES.index("medical")),
                name="billline_medical",
            ),
            models.Index(
                fields=["person", "bill"],
                condition=Q(Exact(F("flags").bitand(1), 1)),  # FLAG_EXEMPT
                # what the rule reads, so that the lines themselves are not fetched
                include=["id", "insurance", "base", "employer_rate", "employee_rate"],
                name="billline_exempt",
            ),
        ]


class Payment(models.Model):
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="payments")
    amount = models.BigIntegerField()
    received_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=10, default="entered")  # entered | api | bank
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    recorded_by = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive")]


class Allocation(models.Model):
    """Part of a payment applied to a bill (principal) or to its late fee."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="allocations")
    principal = models.BigIntegerField(default=0)
    late_fee = models.BigIntegerField(default=0)
    paid_on = models.DateField()


class AccountCredit(models.Model):
    """Employee pension contributions credited to the individual account once paid."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="account_credits")
    month = models.CharField(max_length=7)
    amount = models.BigIntegerField()
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="+")
    credited_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "bill"], name="credit_once_per_bill")
        ]
        indexes = [models.Index(fields=["person", "month"])]


class AccountYear(models.Model):
    """The year-end crediting of one account: a closed year is never recomputed in place."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="account_years")
    year = models.PositiveSmallIntegerField()
    opening = models.BigIntegerField()
    credits = models.BigIntegerField()
    interest = models.BigIntegerField()
    closing = models.BigIntegerField()
    rate_ppm = models.IntegerField()
    provisional = models.BooleanField(default=False)
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "year"], name="account_year_once")]


class AccountClosing(models.Model):
    """The closing entry of an individual account paid out as a lump sum (written by benefits'
    services when the bank confirms the payout). Credits for months up to ``closed_month`` belong
    to the closed account; later months (a return to work in China) make a new account under the
    same social security number, which starts from zero and counts its own months."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="account_closings")
    closed_on = models.DateField()
    closed_month = models.CharField(max_length=7)  # YYYY-MM
    amount = models.BigIntegerField()  # fen paid out
    reference = models.CharField(max_length=40, unique=True)  # what closed it, e.g. termination:7
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["person", "-closed_month"])]


class BillingPartition(models.Model):
    """One share of a run: the employers with ids from ``employer_from`` to ``employer_to``, billed
    batch by batch by whichever worker claims its task. ``done_through`` is the last employer id
    whose batch is committed, written in the same transaction as that batch's bills: a partition
    worked again (its worker was killed, or its task ran twice) goes on after it, so no batch is
    written or counted twice. The run's progress fields are the sum over its partitions."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="partitions")
    number = models.PositiveIntegerField()
    employer_from = models.BigIntegerField()
    employer_to = models.BigIntegerField()
    employers_total = models.PositiveIntegerField(default=0)
    employers_done = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)
    lines_written = models.BigIntegerField(default=0)
    done_through = models.BigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="billing_partition_unique")
        ]
