"""Internal codes as words in the reader's language: card history, the decision queue, the audit
trail. Services store stable codes (``approve_first_entry``, ``card.read``, amounts in fen); pages
show these labels. A code without a label is shown as words, never with underscores or dots.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from expatsi.cards.models import ApplicationKind, CardStatus, Category
from expatsi.cards.models import DocumentKind as ApplicationDocumentKind
from expatsi.cases.complaints import REPORTED_RULE
from expatsi.cases.models import ComplaintKind, DisputeOutcome, DisputeStage, DisputeSubject
from expatsi.cases.registry import registry
from expatsi.people.models import DocumentKind
from expatsi.rules.money import format_yuan

CARD_ACTIONS: dict[str, Promise] = {
    "apply": _("Application filed"),
    "import_legacy": _("Taken over from the earlier system"),
    "photo": _("Photo added"),
    "enter": _("Entry into China recorded"),
    "approve_first_entry": _("First application approved"),
    "reject_first_entry": _("First application rejected"),
    "reject_extension": _("Extension rejected"),
    "reject_change": _("Change rejected"),
    "reject_deregistration": _("Deregistration rejected"),
    "extend": _("Extended"),
    "change": _("Details changed"),
    "deregister": _("Deregistered"),
    "expire": _("Expired"),
    "lapse": _("Notice lapsed"),
    "file_extension": _("Extension requested"),
    "file_change": _("Change requested"),
    "file_deregistration": _("Deregistration requested"),
    "read": _("Card viewed"),
    "document_attach": _("Application document added"),
    "document_read": _("Application document downloaded"),
}

AUDIT_ACTIONS: dict[str, Promise] = {
    "demo.generate": _("Demonstration data generated"),
    "access.recovery_code_used": _("Recovery code used"),
    "account.credit": _("Paid contributions credited to accounts"),
    "account.read": _("Account statement viewed"),
    "account.year_end": _("Accounts closed for the year"),
    "access.recovery_codes_renewed": _("Recovery codes renewed"),
    "access.second_factor_enrolled": _("Two-step sign-in set up"),
    "access.second_factor_reset": _("Two-step sign-in reset"),
    "bank_statement.import": _("Bank statement imported"),
    "bill.read": _("Bill viewed"),
    "billing.job_resume": _("Billing run resumed"),
    "billing.job_start": _("Billing run queued"),
    "billing.recalculate": _("Bills recalculated"),
    "billing.run": _("Billing run started"),
    "certificate.add": _("Certificate added"),
    "contributions.read": _("Contribution record viewed"),
    "database.backup": _("Database backed up"),
    "database.restore": _("Database restored"),
    "declaration.set": _("Wage declared"),
    "employer.create": _("Employer created"),
    "employer.hr_add": _("HR access granted"),
    "employer.hr_invite": _("HR user invited"),
    "employer.work_injury_rating": _("Work-injury rating set"),
    "employment.change": _("Employment changed"),
    "employment.end": _("Employment ended"),
    "employment.start": _("Employment started"),
    "entry_exit.import": _("Entries and exits imported"),
    "payment.record": _("Payment recorded"),
    "person.create": _("Person created"),
    "person.document": _("Document filed"),
    "person.passport": _("Passport filed"),
    "person.read": _("Personal record viewed"),
    "person.search": _("People searched"),
    "registration.accept": _("Registration accepted"),
    "registration.reject": _("Registration rejected"),
    "registration.submit": _("Registration submitted"),
    "token.create": _("API token created"),
    "token.revoke": _("API token revoked"),
    # compliance and enforcement (cases): every action its services and selectors record
    "compliance.scan": _("Compliance checks run"),
    "compliance.scan_resume": _("Interrupted compliance checks resumed"),
    "finding.read": _("Compliance finding viewed"),
    "finding.confirmed": _("Compliance finding confirmed"),
    "finding.dismissed": _("Compliance finding dismissed"),
    "case.read": _("Enforcement case viewed"),
    "case.opened": _("Enforcement case opened"),
    "case.issue_order": _("Order to rectify issued"),
    "case.propose_fine": _("Fine proposed"),
    "case.withdraw_fine": _("Fine proposal withdrawn"),
    "case.decide": _("Enforcement case decided"),
    "case.close": _("Enforcement case closed"),
    "optout.record": _("Contractual opt-out recorded"),
    "pension.apply": _("Pension applied for"),
    "pension.read": _("Pension viewed"),
    "pension.award": _("Pension awarded"),
    "pension.reject": _("Pension application rejected"),
    "pension.payout": _("Monthly pension payout created"),
    "pension.suspend": _("Pension suspended: no proof of life"),
    "pension.stop_death": _("Pension stopped: death"),
    "proof_of_life.upload": _("Life certificate uploaded"),
    "proof_of_life.accept": _("Proof of life accepted"),
    "proof_of_life.reject": _("Life certificate rejected"),
    "death.report": _("Death recorded"),
    "death.read": _("Death record viewed"),
    "death.document_read": _("Death evidence viewed"),
    "inheritance.file": _("Inheritance claim filed"),
    "inheritance.document": _("Inheritance document filed"),
    "inheritance.read": _("Inheritance claim viewed"),
    "inheritance.approve": _("Inheritance shares approved"),
    "inheritance.reject": _("Inheritance claim rejected"),
    "employer.hr_revoke": _("HR access revoked"),
    "access.staff_regions": _("Agency staff's regions set"),
    "registration.clock": _("Registration deadline set from the card's issue date"),
    "bill.correction": _("Correction posted as reversing and new entries"),
    "dispute.read": _("Dispute viewed"),
    "dispute.opened": _("Dispute recorded"),
    "dispute.escalated": _("Dispute taken to the next stage"),
    "dispute.decided": _("Dispute outcome recorded"),
    "dispute.closed": _("Dispute closed"),
    "dispute.document_added": _("Dispute document added"),
    "dispute.document_read": _("Dispute document downloaded"),
    "dispute.corrected": _("Correction after a dispute posted"),
    "complaint.read": _("Complaint viewed"),
    "complaint.filed": _("Complaint or report received"),
    "complaint.answered": _("Complaint answered"),
    "complaint.closed": _("Complaint closed"),
    "complaint.finding_created": _("Complaint turned into a finding"),
    "finding.from_complaint": _("Finding made from a complaint"),
    "account.close": _("Individual account closed (lump sum paid)"),
    "termination.form_read": _("Signed termination form downloaded"),
    "payout.bank_corrected": _("Bank details corrected after a returned payout"),
    "programme.apply": _("Programme application submitted"),
    "programme.approve": _("Programme application approved"),
    "programme.reject": _("Programme application rejected"),
    "programme.read": _("Programme application viewed"),
    "benefits.list_export": _("Benefit list downloaded"),
}

ACTOR_KINDS: dict[str, Promise] = {
    "agency": _("agency"),
    "hr": _("employer HR"),
    "employee": _("employee"),
    "system": _("system"),
    "public": _("public"),
}

SPECIAL_ACTORS: dict[str, Promise] = {
    "system": _("System (scheduled job)"),
    "anonymous": _("Public"),
    "public": _("Public"),
}

DEREGISTRATION_REASONS: dict[str, Promise] = {
    "contract_ended": _("Contract ended"),
    "death": _("Death"),
    "employer_gone": _("Employer closed"),
    "other": _("Other reason"),
}

FIELDS: dict[str, Promise] = {
    "family_name": _("Family name"),
    "given_names": _("Given names"),
    "passport_country": _("Passport country"),
    "passport_number": _("Passport number"),
    "position": _("Position"),
    "category": _("Category"),
    "reason": _("Reason"),
    "amount": _("Amount"),
    "wage": _("Wage"),
    "from": _("From"),
    "to": _("To"),
    "application": _("Application"),
    "employer": _("Employer"),
    "username": _("User name"),
    "rows": _("Rows"),
    "deadline": _("Deadline"),
    "on": _("On"),
    "valid_to": _("Valid to"),
    "new_valid_to": _("New validity end"),
    "old_valid_to": _("Previous validity end"),
    "notice_valid_to": _("Notice valid to"),
    "entry_date": _("Entry date"),
    "permit_number": _("Permit number"),
    "period_start": _("Period start"),
    "kind": _("Kind"),
    "country": _("Country"),
    "start": _("Start"),
    "fields": _("Fields"),
    # details of the compliance and enforcement actions (cases)
    "as_of": _("As of"),
    "region_code": _("Region"),
    "employer_id": _("Employer"),
    "findings": _("Findings"),
    "proposal": _("Fine proposal"),
    "outcome": _("Decision"),
    "fine_total": _("Fines in total"),
    "late_fees": _("Late fees"),
    "size": _("Size"),
    "subject": _("Subject"),
    "since": _("Since"),
    "bill": _("Bill"),
    "title": _("Title"),
    "document": _("Document"),
    "number": _("Number"),
    "reply_due": _("Reply due by"),
    "days_late": _("Days late"),
    "finding": _("Finding"),
    "complaint": _("Complaint or report"),
    "lines": _("Bill lines"),
    "counts": _("Findings by rule"),
    "download_format": _("File format"),
    "search": _("Search"),
}

FEN_KEYS = frozenset({"amount", "wage", "principal", "late_fee", "credit", "contract_wage"})

_STATUSES: dict[str, Any] = {
    **dict(CardStatus.choices),
    **{f"app:{k}": v for k, v in ApplicationKind.choices},
}
_VALUES: dict[str, Any] = {
    **DEREGISTRATION_REASONS,
    **dict(Category.choices),
    **dict(CardStatus.choices),
    **dict(ApplicationDocumentKind.choices),  # an application document's kind (card.document_read)
    **dict(DocumentKind.choices),  # a person's document (the card on file)
    **dict(DisputeOutcome.choices),
    **{k: v for k, v in DisputeSubject.choices if k != "other"},  # "other": a reason above
    **dict(DisputeStage.choices),
    **dict(ComplaintKind.choices),
}


# What an audit event is about (``AuditEvent.object_type``), in words.
OBJECT_TYPES: dict[str, Promise] = {
    "termination": _("Termination application"),
    "payout": _("Payout"),
    "employer": _("Employer"),
    "pension": _("Pension"),
    "inheritance": _("Inheritance claim"),
    "user": _("User"),
    "registration": _("Registration"),
    "person": _("Person"),
    "card": _("Card"),
    "proof_of_life": _("Proof of life"),
    "programme_application": _("Programme application"),
    "finding": _("Compliance finding"),
    "employment": _("Employment"),
    "dispute": _("Dispute"),
    "departure": _("Departure"),
    "death": _("Death record"),
    "case": _("Enforcement case"),
    "document": _("Document"),
    "database": _("Database"),
    "complaint": _("Complaint"),
    "billing_job": _("Billing job"),
    "bill": _("Bill"),
    "api_token": _("API token"),
    "scan": _("Compliance scan"),
    "payment_run": _("Payment run"),
    "payment": _("Payment"),
    "optout": _("Contractual opt-out"),
    "import": _("Import"),
    "certificate": _("Certificate of coverage"),
    "card_application": _("Card application"),
    "billing_run": _("Billing run"),
    "base_declaration": _("Base declaration"),
    "bank_statement": _("Bank statement"),
    "agency_staff": _("Agency staff"),
    "account_year": _("Account year"),
    "account_credit": _("Account credit"),
    "account_closing": _("Account closing"),
    "demo": _("Generated demonstration data"),
    "benefit_list": _("Benefit list"),
}


def words(code: str) -> str:
    """A code without a label, as words: ``first_entry`` → ``first entry``."""
    return code.replace("_", " ").replace(".", ": ").strip()


def card_action(code: str) -> str:
    label = CARD_ACTIONS.get(code)
    return str(label) if label is not None else words(code)


def card_status(code: str) -> str:
    if not code:
        return ""
    label = _STATUSES.get(code)
    return str(label) if label is not None else words(code)


def actor_name(label: str) -> str:
    special = SPECIAL_ACTORS.get(label)
    return str(special) if special is not None else label


def actor_kind(code: str) -> str:
    label = ACTOR_KINDS.get(code)
    return str(label) if label is not None else words(code)


def audit_object(code: str) -> str:
    label = OBJECT_TYPES.get(code)
    return str(label) if label is not None else words(code)


def audit_action(code: str) -> str:
    label = AUDIT_ACTIONS.get(code)
    if label is not None:
        return str(label)
    if code.startswith("card."):
        return card_action(code.removeprefix("card."))
    return words(code)


def field_name(key: str) -> str:
    label = FIELDS.get(key)
    return str(label) if label is not None else words(key)


def value_text(key: str, value: Any) -> str:
    """A detail's value: fen as yuan, card statuses and reasons as words, the rest as stored."""
    if key in FEN_KEYS:
        try:
            return f"¥{format_yuan(int(value), thousands=True)}"
        except (TypeError, ValueError):
            return str(value)
    if key == "counts" and isinstance(value, Mapping):
        return scan_counts(value)
    if key == "fields" and isinstance(value, str):
        return ", ".join(field_name(f) for f in value.split(",") if f)
    if isinstance(value, str) and value in _VALUES:
        return str(_VALUES[value])
    return str(value)


def detail_items(detail: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    return [(field_name(k), value_text(k, v)) for k, v in (detail or {}).items()]


# What a compliance scan counted for each rule (``compliance.scan``: rule → {found, new, …}).
SCAN_COUNTS: dict[str, Promise] = {
    "found": _("%(n)s found"),
    "new": _("%(n)s new"),
    "changed": _("%(n)s with changed evidence"),
    "reopened": _("%(n)s reopened"),
    "resolved": _("%(n)s put right"),
}


def rule_name(key: str) -> str:
    """A compliance rule's name in the reader's language (findings made from a complaint too)."""
    found = registry().rules.get(key)
    if found is not None:
        return found.display()
    if key == REPORTED_RULE:
        return str(_("Reported to the agency"))
    return words(key)


def scan_counts(counts: Mapping[str, Any]) -> str:
    """A scan's counts, a rule at a time: ``Not registered …: 3 found, 2 new``."""
    chinese = (get_language() or "").startswith("zh")
    comma, semicolon, colon = ("，", "；", "：") if chinese else (", ", "; ", ": ")
    parts = []
    for rule, figures in counts.items():
        if isinstance(figures, Mapping):
            # in SCAN_COUNTS' order: PostgreSQL's jsonb keeps keys sorted by length, not as written
            order = [k for k in SCAN_COUNTS if k in figures] + sorted(
                k for k in figures if k not in SCAN_COUNTS
            )
            shown = comma.join(
                str(SCAN_COUNTS[k]) % {"n": figures[k]}
                if k in SCAN_COUNTS
                else f"{words(k)} {figures[k]}"
                for k in order
            )
        else:
            shown = str(figures)
        parts.append(f"{rule_name(rule)}{colon}{shown}")
    return semicolon.join(parts)
