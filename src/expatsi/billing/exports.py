"""A bill as CSV, XLSX and PDF; the employee's account statement as PDF; line explanations.

CSV and XLSX are for machines and spreadsheets: fixed English column names, amounts as exact
yuan numbers with two decimals (``Decimal``; no float ever touches them here), every cell made
safe by :mod:`expatsi.spreadsheets` (no formula from user text, no illegal character). The PDFs are for people: the bill in
the reader's language, the statement in the language asked for. The CJK font is named explicitly
(as for the card PDF): without it Chinese prints as empty boxes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from expatsi import spreadsheets
from expatsi.billing.models import INSURANCE_CODES, Bill, BillLine
from expatsi.billing.payments import BillState
from expatsi.billing.run import FLAG_DEFAULT_WORK_INJURY
from expatsi.cards.pdf import CJK_FONTS
from expatsi.rules.accounts import Statement
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.money import format_rate, format_yuan
from expatsi.rules.regions import INSURANCES, Period, region

INSURANCE_LABELS: dict[str, Promise] = {
    "pension": gettext_lazy("Pension"),
    "medical": gettext_lazy("Medical"),
    "unemployment": gettext_lazy("Unemployment"),
    "work_injury": gettext_lazy("Work-related injury"),
    "maternity": gettext_lazy("Maternity"),
}
REASONS = ("within_limits", "raised_to_lower_limit", "capped_at_upper_limit")


def insurance_label(index_or_code: int | str) -> str:
    code = INSURANCE_CODES[index_or_code] if isinstance(index_or_code, int) else index_or_code
    return str(INSURANCE_LABELS.get(code, code))


def base_reason(line: BillLine) -> str:
    return REASONS[(line.flags >> BillLine.REASON_SHIFT) & 3]


def _y(fen: int) -> str:
    return format_yuan(fen, thousands=True)


def _period(bill: Bill) -> Period | None:
    try:
        return region(bill.region_code).period_for(Month.parse(bill.month))
    except RuleError:
        return None


@dataclass(frozen=True)
class LineView:
    """A bill line with what a reader needs: names, the base's reason and an explanation."""

    line: BillLine
    insurance: str
    reason: str
    exempt: bool
    merged: bool
    default_rate: bool
    explanation: str
    employer_rate: str = ""
    employee_rate: str = ""


def line_explanation(line: BillLine, period: Period | None) -> str:
    """Why this line says what it says, in the active language, from its flags and the policy."""
    code = INSURANCE_CODES[line.insurance]
    label = insurance_label(code)
    rule = period.rules.get(code) if period is not None else None  # type: ignore[call-overload]
    parts: list[str] = []
    if line.flags & BillLine.FLAG_MERGED:
        into = insurance_label(rule.merged_into) if rule and rule.merged_into else ""
        parts.append(
            _("%(ins)s is included in %(into)s insurance in this region.")
            % {"ins": label, "into": into}
        )
    elif line.flags & BillLine.FLAG_EXEMPT:
        parts.append(
            _(
                "%(ins)s: exempt under a bilateral social security agreement (certificate of coverage)."
            )
            % {"ins": label}
        )
    else:
        reason = base_reason(line)
        limits = f"{_y(rule.base_lower)}–{_y(rule.base_upper)}" if rule else "—"
        if reason == "raised_to_lower_limit":
            parts.append(
                _(
                    "Base %(base)s: the wage is below the lower limit, raised to it (limits %(limits)s)."
                )
                % {"base": _y(line.base), "limits": limits}
            )
        elif reason == "capped_at_upper_limit":
            parts.append(
                _("Base %(base)s: the wage is above the upper limit, capped (limits %(limits)s).")
                % {"base": _y(line.base), "limits": limits}
            )
        else:
            parts.append(
                _("Base %(base)s: the declared wage, within the limits %(limits)s.")
                % {"base": _y(line.base), "limits": limits}
            )
        parts.append(
            _("Employer %(rate)s = %(amount)s.")
            % {"rate": format_rate(line.employer_rate), "amount": _y(line.employer_amount)}
        )
        if code == "work_injury":
            parts.append(_("The employee pays no work-injury contribution."))
        else:
            parts.append(
                _("Employee %(rate)s = %(amount)s.")
                % {"rate": format_rate(line.employee_rate), "amount": _y(line.employee_amount)}
            )
        if rule is not None and (rule.employee_fixed or rule.employer_fixed):
            parts.append(
                _("Includes a fixed amount of %(amount)s.")
                % {"amount": _y(rule.employee_fixed or rule.employer_fixed)}
            )
    if code == "work_injury" and line.flags & FLAG_DEFAULT_WORK_INJURY:
        parts.append(_("No work-injury rating on file: the class I benchmark rate is assumed."))
    if line.note:
        parts.append(_("Adjustment: %(note)s") % {"note": line.note})
    return " ".join(parts)


def line_views(bill: Bill, lines: Any) -> list[LineView]:
    period = _period(bill)
    return [
        LineView(
            line=line,
            insurance=insurance_label(line.insurance),
            reason=base_reason(line),
            exempt=bool(line.flags & BillLine.FLAG_EXEMPT),
            merged=bool(line.flags & BillLine.FLAG_MERGED),
            default_rate=bool(line.flags & FLAG_DEFAULT_WORK_INJURY)
            and INSURANCE_CODES[line.insurance] == "work_injury",
            explanation=line_explanation(line, period),
            employer_rate=format_rate(line.employer_rate),
            employee_rate=format_rate(line.employee_rate),
        )
        for line in lines
    ]


# --- CSV and XLSX -----------------------------------------------------------------------------

COLUMNS = (
    "bill_number",
    "month",
    "kind",
    "person_id",
    "name",
    "social_security_number",
    "insurance",
    "base",
    "base_reason",
    "employer_rate",
    "employee_rate",
    "employer_amount",
    "employee_amount",
    "exempt",
    "merged",
    "note",
)


def bill_rows(bill: Bill, lines: Any) -> list[list[spreadsheets.Cell]]:
    """One row per line: user text as text, amounts as exact yuan numbers (``Decimal``)."""
    rows: list[list[spreadsheets.Cell]] = []
    for line in lines:
        rows.append(
            [
                bill.number,
                bill.month,
                bill.kind,
                line.person_id,
                line.person.full_name,
                line.person.ssn or "",
                INSURANCE_CODES[line.insurance],
                spreadsheets.yuan(line.base),
                base_reason(line),
                format_rate(line.employer_rate),
                format_rate(line.employee_rate),
                spreadsheets.yuan(line.employer_amount),
                spreadsheets.yuan(line.employee_amount),
                "yes" if line.flags & BillLine.FLAG_EXEMPT else "no",
                "yes" if line.flags & BillLine.FLAG_MERGED else "no",
                line.note,
            ]
        )
    return rows


def bill_csv(bill: Bill, lines: Any) -> str:
    """Every cell through :mod:`expatsi.spreadsheets`: no formula from a name or a note."""
    return spreadsheets.csv_text(
        [
            COLUMNS,
            *bill_rows(bill, lines),
            [],
            ["total_employer", spreadsheets.yuan(bill.employer_total)],
            ["total_employee", spreadsheets.yuan(bill.employee_total)],
            ["total", spreadsheets.yuan(bill.total)],
            ["due_date", bill.due_date.isoformat()],
        ]
    )


def bill_xlsx(bill: Bill, lines: Any, state: BillState) -> bytes:
    """Amounts are number cells (two decimals); text cells are never formulas."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "bill"
    summary_rows: list[tuple[str, spreadsheets.Cell]] = [
        ("bill_number", bill.number),
        ("employer", bill.employer.name),
        ("uscc", bill.employer.uscc),
        ("region", bill.region_code),
        ("month", bill.month),
        ("kind", bill.kind),
        ("due_date", bill.due_date.isoformat()),
        ("employer_total", spreadsheets.yuan(bill.employer_total)),
        ("employee_total", spreadsheets.yuan(bill.employee_total)),
        ("total", spreadsheets.yuan(bill.total)),
        ("paid", spreadsheets.yuan(state.principal_paid)),
        ("outstanding", spreadsheets.yuan(state.outstanding)),
        ("late_fee", spreadsheets.yuan(state.late_fee)),
        ("policy_version", bill.policy_version),
        ("reason", bill.reason),
    ]
    for key, value in summary_rows:
        spreadsheets.append(summary, [key, value])
    sheet = book.create_sheet("lines")
    spreadsheets.append(sheet, COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in bill_rows(bill, lines):
        spreadsheets.append(sheet, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- PDF ------------------------------------------------------------------------------------------


def _pdf(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]

    html = render_to_string(template, {**context, "fonts": CJK_FONTS})
    return bytes(HTML(string=html).write_pdf())


def bill_pdf(bill: Bill, lines: Any, state: BillState) -> bytes:
    """The bill in the active language."""
    return _pdf(
        "billing/bill_pdf.html",
        {
            "bill": bill,
            "state": state,
            "lines": line_views(bill, lines),
            "printed_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            "lang": translation.get_language() or "en",
        },
    )


def statement_pdf(
    *,
    person: Any,
    statement: Statement,
    months_counted: int,
    contributions: list[Any],
    language: str,
    on: date,
) -> bytes:
    """The account statement in ``language`` (en or zh-hans)."""
    with translation.override(language):
        return _pdf(
            "billing/statement_pdf.html",
            {
                "person": person,
                "statement": statement,
                "years": [(y, format_rate(y.rate_ppm)) for y in statement.years],
                "months_counted": months_counted,
                "contributions": contributions,
                "on": on,
                "printed_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
                "lang": language,
                "insurances": INSURANCES,
            },
        )
