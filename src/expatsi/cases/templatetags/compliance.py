"""Template filters of the compliance pages: rules, statuses and evidence in words."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from expatsi.cases.complaints import REPORTED_RULE
from expatsi.cases.messages import EVIDENCE_LABELS, SIGNS
from expatsi.cases.models import ComplaintKind, Finding
from expatsi.cases.notice import FINES
from expatsi.cases.registry import registry
from expatsi.employers.display import display_name
from expatsi.rules.regions import regions
from expatsi.web.formatting import yuan

register = template.Library()
register.filter("display_name", display_name)

HIDDEN = {"bill_id", "estimated_on", "per", "fixture", "person_ids"}


@register.filter
def rule_label(key: str) -> str:
    found = registry().rules.get(key)
    if found is None and key == REPORTED_RULE:
        return _("Reported to the agency")
    return found.display() if found else key


@register.filter
def rule_article(key: str) -> str:
    found = registry().rules.get(key)
    return found.article if found else ""


def _value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key.endswith("_fen"):
        return yuan(int(value))
    if key == "sign":
        return str(SIGNS.get(str(value), value))
    if key == "complaint_kind" and value in ComplaintKind.values:
        return str(ComplaintKind(value).label)
    if key == "rate_ppm":
        return f"{int(value) / 10_000:g}%"
    if key == "card_region":
        found = regions().get(str(value))
        if found is None:
            return str(value)
        return found.name_zh if (get_language() or "").startswith("zh") else found.name
    if key == "legacy" and isinstance(value, dict):
        return _("%(document)s: no obligation for an opted-out foreigner until %(until)s") % {
            "document": value.get("document", ""),
            "until": _long(value.get("in_force_to")),
        }
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return _long(value)
    return str(value)


def _long(text: Any) -> str:
    try:
        return date_format(date.fromisoformat(str(text)), "DATE_FORMAT")
    except ValueError:
        return str(text)


def _rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (str(EVIDENCE_LABELS.get(k, k.replace("_", " "))), _value(k, v))
        for k, v in data.items()
        if k not in HIDDEN
    ]


@register.filter
def evidence_rows(finding: Finding) -> list[tuple[str, str]]:
    return _rows(finding.evidence)


@register.filter
def figure_rows(finding: Finding) -> list[tuple[str, str]]:
    return _rows(finding.figures)


@register.filter
def fine_label(kind: str) -> str:
    """A fine's kind in the reader's language (the bilingual wording of the order)."""
    en, zh = FINES.get(kind, (kind, kind))
    return zh if (get_language() or "").startswith("zh") else en


@register.filter
def event_label(action: str) -> str:
    labels = {
        "confirmed": _("Confirmed"),
        "dismissed": _("Dismissed"),
        "reopened": _("Reopened: the evidence changed"),
        "evidence_changed": _("Evidence changed"),
        "case_opened": _("Taken into an enforcement case"),
        "opened": _("Case opened"),
        "issue_order": _("Order to rectify issued"),
        "propose_fine": _("Fine proposed"),
        "decide": _("Decided"),
        "close": _("Closed"),
        "withdraw_fine": _("Fine proposal withdrawn"),
        "from_complaint": _("Made from a complaint or report"),
    }
    return str(labels.get(action, action))
