"""Compliance findings, the scans that find them, enforcement cases and their history.

A finding is one rule's verdict on one subject (an employer, and the person where the rule is
about a person) for one period; ``key`` makes it unique, so a scan run again updates what it
found before instead of adding it twice. ``evidence`` holds the facts the verdict rests on and is
what "the evidence changed" means (``evidence_hash``); ``figures`` holds what moves by itself
with time (late fees accrued, months counted) and is refreshed by every scan without reopening
anything.

An enforcement case is opened from findings of one employer and moves through the states of
``states.py``; every step is a row of :class:`CaseEvent` (and an audit event).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from expatsi.employers.models import Employer
from expatsi.people.models import Person


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class FindingStatus(models.TextChoices):
    # In a context of their own: "Open" alone is a bill's status in the catalogue (待缴).
    OPEN = "open", pgettext_lazy("finding status", "Open")
    CONFIRMED = "confirmed", pgettext_lazy("finding status", "Confirmed")
    DISMISSED = "dismissed", pgettext_lazy("finding status", "Dismissed")


class Scan(models.Model):
    """One run of the compliance checks, for everything an actor may see or for one region or
    employer, as of a day."""

    as_of = models.DateField()
    region_code = models.CharField(max_length=6, blank=True)
    employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by = models.CharField(max_length=200)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)  # rule → {found, new, reopened, resolved}
    # A scan shared by the worker pool (scan_pool.py): the scope it was queued with (None: every
    # region; the rules, None: all), how many partitions it has (0: run inline, in one go), and
    # who queued it (the audit event names them when the last partition is done).
    regions = models.JSONField(null=True, blank=True)
    rules = models.JSONField(null=True, blank=True)
    partitions_total = models.PositiveIntegerField(default=0)
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]


class ScanPartition(models.Model):
    """One share of a queued scan: the employers with ids from ``employer_from`` to
    ``employer_to``, checked rule by rule by whichever worker claims its task. Each rule's counts
    are recorded (``counts``) in the same transaction as the findings it wrote: a partition worked
    again (its worker was killed, or its task ran twice) skips the rules already recorded, so no
    rule is stored or counted twice, and the scan's counts are the sum over its partitions."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="partitions")
    number = models.PositiveIntegerField()
    employer_from = models.BigIntegerField()
    employer_to = models.BigIntegerField()
    employers = models.PositiveIntegerField(default=0)  # in the range when it was planned
    counts = models.JSONField(default=dict)  # rule → counts, one entry per rule done
    # The rules this partition checks (None: every rule of the scan). A queued scan gives each
    # rule of each employer range a partition of its own: the rules are independent, and each is
    # cheapest as one query over the whole range, so the workers share the work rule by rule.
    rules = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "number"], name="cases_scan_partition_unique")
        ]


class Finding(models.Model):
    rule = models.CharField(max_length=40)
    key = models.CharField(max_length=200)  # rule|employer|person|period; unique (Meta)
    region_code = models.CharField(max_length=6)
    # Neither the employer nor the person is a database constraint: findings are written only by
    # the scan, from the employers and people it has just read in the same transaction, and the
    # constraint's trigger per new finding was a third of the cost of storing them (measured at
    # 1,000,000 employees: ~1 s of ~3 s for 156,000 findings; bill lines are kept the same way).
    # Django still refuses to delete an employer or a person a finding names (PROTECT). The
    # employer is looked up by the (employer, rule) index below, not an index of its own.
    employer = models.ForeignKey(
        Employer,
        on_delete=models.PROTECT,
        related_name="findings",
        db_index=False,
        db_constraint=False,
    )
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
        db_constraint=False,
    )
    period = models.CharField(max_length=40, blank=True)
    severity = models.CharField(max_length=6, choices=Severity.choices)
    amount_fen = models.BigIntegerField(default=0)
    evidence = models.JSONField(default=dict)
    evidence_hash = models.CharField(max_length=64)
    figures = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    status_reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index (Meta): most findings are never decided
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Which scans found it first and last: provenance, never a way in (nothing looks findings up
    # by scan), so neither is indexed, and neither is a database constraint: a scan writes its
    # findings in the same transaction as it reads its own Scan row, and a constraint would be
    # a trigger fired per new finding (Django still sets them to NULL when a scan is deleted).
    # ``last_scan`` changes on every finding a scan finds again: with no index on it, that update
    # changes no indexed column, a heap-only (HOT) update on PostgreSQL (migration 0004).
    first_scan = models.ForeignKey(
        Scan,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    last_scan = models.ForeignKey(
        Scan,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    found_on = models.DateField()  # the as-of day of the scan that first found it
    seen_on = models.DateField()  # the as-of day of the latest scan that found it
    resolved_on = models.DateField(null=True, blank=True)  # a later scan no longer found it
    case = models.ForeignKey(
        "Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
        db_index=False,  # a partial index (Meta): most findings are in no case
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-found_on", "-id"]
        # The case and the deciding user are indexed only where set: an index entry per new
        # finding for a NULL nobody looks up was a tenth of the cost of storing the first scan's
        # findings (measured at 1,000,000 employees).
        indexes = [
            models.Index(fields=["region_code", "rule", "status"]),
            models.Index(fields=["employer", "rule"]),
            models.Index(fields=["case"], condition=Q(case__isnull=False), name="finding_case_set"),
            models.Index(
                fields=["decided_by"],
                condition=Q(decided_by__isnull=False),
                name="finding_decided_by_set",
            ),
        ]
        # A constraint rather than ``unique=True`` on the field: on PostgreSQL the latter adds a
        # second index of the key for LIKE searches, which nothing does.
        constraints = [models.UniqueConstraint(fields=["key"], name="cases_finding_key_unique")]


class OptOut(models.Model):
    """A contractual opt-out from social insurance on file, under a regional legacy rule (e.g.
    Shanghai Notice No. 38 [2009]): while the legacy rule was in force, no obligation arose for
    this person at this employer (see policies/compliance.toml ``[[legacy]]``)."""

    legacy = models.CharField(max_length=60)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="+")
    signed_on = models.DateField(_("agreement signed on"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.CharField(max_length=200)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["legacy", "person", "employer"], name="optout_once")
        ]


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Opened")
    ORDERED = "ordered", _("Order to rectify issued")
    FINE_PROPOSED = "fine_proposed", _("Fine proposed")
    DECIDED = "decided", _("Decided")
    CLOSED = "closed", _("Closed")


class Case(models.Model):
    number = models.CharField(max_length=30, unique=True)
    region_code = models.CharField(max_length=6)
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_by = models.CharField(max_length=200)
    opened_at = models.DateTimeField(auto_now_add=True)
    # The order to rectify (SIL Art. 84 and 86: correct or pay within a time limit).
    order_issued_on = models.DateField(null=True, blank=True)
    order_deadline = models.DateField(null=True, blank=True)
    order_requirements = models.TextField(blank=True)
    # The decision, with its reasons; the fines decided are the adopted proposals.
    decision = models.CharField(max_length=10, blank=True)  # fine | no_fine
    decision_reason = models.TextField(blank=True)
    decided_on = models.DateField(null=True, blank=True)
    fine_total_fen = models.BigIntegerField(default=0)
    late_fee_fen = models.BigIntegerField(default=0)  # from the contributions ledger, at decision
    closed_on = models.DateField(null=True, blank=True)
    close_reason = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["region_code", "status"])]


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ADOPTED = "adopted", _("Adopted in the decision")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class FineProposal(models.Model):
    """A fine proposed within the statutory range, with the range and its basis as they stood."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(max_length=60)  # a fine kind of rules/policies/national/penalties.toml
    basis_fen = models.BigIntegerField(null=True, blank=True)  # premiums payable or arrears
    persons = models.PositiveIntegerField(null=True, blank=True)
    min_fen = models.BigIntegerField()
    max_fen = models.BigIntegerField()
    amount_fen = models.BigIntegerField()
    explanation = models.TextField()
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    proposed_by = models.CharField(max_length=200)
    proposed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["proposed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gte=models.F("min_fen"))
                & Q(amount_fen__lte=models.F("max_fen")),
                name="proposal_within_range",
            )
        ]


class CaseEvent(models.Model):
    """The history of findings and cases: every change, who made it and what changed."""

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    actor_label = models.CharField(max_length=200)
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]


# --- disputes, complaints and reports (issue #12) ---------------------------------------------------
# A dispute between a foreign employee and their employer (SIL Art. 83: mediation, arbitration,
# lawsuit) and a complaint or report to the agency (SIL Art. 82 and 83). Services in disputes.py and
# complaints.py; every change is a row of DisputeEvent / ComplaintEvent and an audit event.


class DisputeStage(models.TextChoices):
    MEDIATION = "mediation", _("Mediation")
    ARBITRATION = "arbitration", _("Arbitration")
    LITIGATION = "litigation", _("Litigation")


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    DECIDED = "decided", _("Decided")
    CLOSED = "closed", _("Closed")


class DisputeOutcome(models.TextChoices):
    FOR_EMPLOYEE = "for_employee", _("Decided for the employee")
    FOR_EMPLOYER = "for_employer", _("Decided for the employer")
    PARTLY = "partly", _("Decided partly for each party")
    SETTLED = "settled", _("Settled by agreement")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DisputeSubject(models.TextChoices):
    BILL = "bill", _("A bill")
    BILL_LINE = "bill_line", _("A line of a bill")
    REGISTRATION = "registration", _("A registration decision")
    CARD_APPLICATION = "card_application", _("A card decision")
    OTHER = "other", _("Something else")


class Dispute(models.Model):
    """A dispute between a foreign employee and their employer over social insurance: what it is
    about (a bill, a line of a bill or a decision), the stage it has reached with the day each
    began, its documents, the outcome, and the corrections in billing that followed a decision."""

    number = models.CharField(max_length=30, unique=True)
    region_code = models.CharField(max_length=6)
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="disputes")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="disputes")
    opened_as = models.CharField(max_length=10)  # employee | hr | agency
    opened_by = models.CharField(max_length=200)
    opened_at = models.DateTimeField(auto_now_add=True)
    subject_kind = models.CharField(max_length=16, choices=DisputeSubject.choices)
    bill = models.ForeignKey(
        "billing.Bill", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    bill_line = models.ForeignKey(
        "billing.BillLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    registration = models.ForeignKey(
        "insurance.Registration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    card_application = models.ForeignKey(
        "cards.CardApplication",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    claim = models.TextField()
    stage = models.CharField(max_length=12, choices=DisputeStage.choices)
    mediation_on = models.DateField(null=True, blank=True)
    arbitration_on = models.DateField(null=True, blank=True)
    litigation_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=8, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    outcome = models.CharField(max_length=14, choices=DisputeOutcome.choices, blank=True)
    outcome_text = models.TextField(blank=True)
    decided_on = models.DateField(null=True, blank=True)
    decided_stage = models.CharField(max_length=12, choices=DisputeStage.choices, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["region_code", "status"]),
            models.Index(fields=["employer", "status"]),
        ]


class DisputeDocument(models.Model):
    """A document of a dispute (a mediation agreement, an arbitration award, a judgment…): the
    file as uploaded, PDF, JPEG or PNG, kept in the database like other signed forms."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_as = models.CharField(max_length=10)
    uploaded_by = models.CharField(max_length=200)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]


class DisputeCorrection(models.Model):
    """A correction in billing that follows a dispute's decision: the adjustment bill holding a
    reversing entry and a new entry for each line corrected (never an edit of the line)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="corrections")
    bill = models.ForeignKey("billing.Bill", on_delete=models.PROTECT, related_name="+")
    line_ids = models.JSONField(default=list)  # the bill lines reversed and entered again
    net_fen = models.BigIntegerField()  # what the correction adds to the bills (negative: less)
    reason = models.TextField()
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class DisputeEvent(models.Model):
    """The history of a dispute: every change, who made it and what changed."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=30)
    from_stage = models.CharField(max_length=12, blank=True)
    to_stage = models.CharField(max_length=12, blank=True)
    actor_label = models.CharField(max_length=200)
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]


class ComplaintKind(models.TextChoices):
    INTERVENTION = "intervention", _("Request to intervene")
    REPORT = "report", _("Report about an employer")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Awaiting the agency's reply")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class ReportCategory(models.TextChoices):
    """What a report from the public page says happens (public_reports.py)."""

    NO_INSURANCE = "no_insurance", _("Working without social insurance")
    NOT_PAID = "not_paid", _("Contributions not paid")
    ILLEGAL_EMPLOYMENT = "illegal_employment", _("Illegal employment of foreigners")
    OTHER = "other", _("Something else")


class Complaint(models.Model):
    """A foreign employee's request that the agency intervene with their employer, or anyone's
    report about an employer; the agency owes a reply by ``reply_due`` (the ``complaint_reply``
    clock of rules/policies/national/deadlines.toml)."""

    number = models.CharField(max_length=30, unique=True)
    kind = models.CharField(max_length=12, choices=ComplaintKind.choices)
    region_code = models.CharField(max_length=6)
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="complaints")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_as = models.CharField(max_length=10)  # employee | hr | public | agency
    complainant_label = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    details = models.TextField()
    received_on = models.DateField()
    reply_due = models.DateField()
    status = models.CharField(
        max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED
    )
    reply = models.TextField(blank=True)
    replied_on = models.DateField(null=True, blank=True)
    replied_by = models.CharField(max_length=200, blank=True)
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A report from someone without an account (the public page, POST /api/v1/reports;
    # public_reports.py): what happens, where, and where to send the acknowledgement and the reply.
    # The address is the reporter's personal data: agency staff see it on the report's page (an
    # audited read); nobody else ever does. ``anonymous``: they asked to leave no contact.
    category = models.CharField(max_length=24, choices=ReportCategory.choices, blank=True)
    place = models.CharField(max_length=6, blank=True)  # a region code of the regions on file
    contact_email = models.EmailField(max_length=254, blank=True)
    anonymous = models.BooleanField(default=False)
    language = models.CharField(max_length=8, blank=True)  # of the acknowledgement and the reply

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["region_code", "status", "reply_due"])]


class ComplaintEvent(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=30)
    actor_label = models.CharField(max_length=200)
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]
