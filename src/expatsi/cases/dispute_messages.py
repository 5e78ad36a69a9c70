"""The words of disputes, complaints and reports in the reader's language: the inbox message of a
reply (registered with notify at start, see apps.py), the refusals of disputes.py and
complaints.py, and the history's actions."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from expatsi.cases.messages import message_for as case_message_for

NOTICES: dict[str, tuple[Promise, Promise]] = {
    "complaint_reply": (
        _("Reply of the social insurance agency: %(number)s"),
        _(
            "The social insurance agency has replied to your complaint %(number)s "
            "(%(subject)s) on %(replied_on)s: %(reply)s"
        ),
    ),
    # To the other party of a dispute (dispute_notices.py).
    "dispute_opened": (
        _("A dispute was recorded: %(number)s"),
        _(
            "A dispute over social insurance with %(employer)s was recorded as %(number)s, "
            "at the stage of %(stage)s. Open it under Disputes to read the claim and add documents."
        ),
    ),
    "dispute_escalated": (
        _("Dispute %(number)s went on to %(stage)s"),
        _(
            "The dispute %(number)s with %(employer)s was taken to the next stage: %(stage)s. "
            "Open it under Disputes to see its history."
        ),
    ),
    "dispute_decided": (
        _("Outcome of dispute %(number)s"),
        _(
            "An outcome was recorded in the dispute %(number)s with %(employer)s at the stage of "
            "%(stage)s: %(outcome)s. Open it under Disputes to read the decision."
        ),
    ),
}

MESSAGES: dict[str, Promise] = {
    "invalid_subject": _("Choose what the dispute is about."),
    "subject_required": _("Give the number of the bill, line or decision the dispute is about."),
    "subject_not_found": _(
        "There is no such bill, line or decision between this employee and this employer."
    ),
    "not_employed": _("This person has never worked for this employer."),
    "invalid_stage": _("Choose mediation, arbitration or litigation."),
    "date_in_future": _("This date is after today."),
    "dispute_closed": _("This dispute is closed."),
    "stage_backwards": _("A dispute never goes back to an earlier stage."),
    "stage_skipped": _("A dispute goes on one stage at a time: record the next stage first."),
    "before_stage_start": _("This date is before the present stage began."),
    "invalid_outcome": _("Choose an outcome."),
    "not_decided": _("A correction follows a decision: record the outcome first."),
    "outcome_not_correctable": _("This outcome calls for no correction of the bills."),
    "line_not_in_dispute": _("This bill line is not one of the lines of this dispute."),
    "already_corrected": _("This bill line was corrected already in this dispute."),
    "nothing_to_correct": _("The line already says these amounts."),
    "no_lines": _("Choose at least one bill line."),
    "duplicate_line": _("A line is corrected at most once at a time."),
    "one_month": _("Correct the lines of one month at a time."),
    "document_required": _("Choose the file."),
    "document_too_large": _("The file must be at most 5 MB."),
    "document_type": _("The file must be a PDF, JPEG or PNG file."),
    "invalid_kind": _("Choose a request to intervene or a report."),
    "unknown_employer": _("No registered employer has this unified social credit code."),
    "already_answered": _("This complaint has its reply already."),
    "not_answered": _("Reply to the complaint before closing it."),
    "wrong_state": _("This cannot be done at the present stage."),
}

EVENTS: dict[str, Promise] = {
    "opened": _("Dispute recorded"),
    "escalated": _("Taken to the next stage"),
    "decided": _("Outcome recorded"),
    "closed": _("Closed"),
    "document_added": _("Document added"),
    "corrected": _("Correction posted in billing"),
    "filed": _("Received"),
    "answered": _("Answered"),
    "finding_created": _("Turned into a compliance finding"),
}


def message_for(code: str, fallback: str, params: Mapping[str, object] | None = None) -> str:
    message = MESSAGES.get(code)
    if message is None:
        return case_message_for(code, fallback, params)
    return str(message)


def event_label(action: str) -> str:
    found = EVENTS.get(action)
    return str(found) if found is not None else action.replace("_", " ")
