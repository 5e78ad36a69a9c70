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

from django.db.models import Max, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from expatsi import spreadsheets
from expatsi.billing import provenance
from expatsi.billing.models import INSURANCE_CODES, Bill, BillLine
from expatsi.billing.payments import BillState
from expatsi.billing.provenance import RecordedPolicy, RecordedRule
from expatsi.cards.pdf import CJK_FONTS
from expatsi.rules.accounts import Statement
from expatsi.rules.money import format_rate, format_yuan
from expatsi.rules.regions import INSURANCES
from expatsi.web.formatting import yuan

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


def _money(fen: int) -> str:
    """Money in the active language: ¥6,890.00 or 6,890.00 元 (as on the pages)."""

    return yuan(fen)


def _signed(fen: int) -> str:
    return f"+{_money(fen)}" if fen > 0 else (f"−{_money(-fen)}" if fen < 0 else _money(0))


@dataclass(frozen=True)
class Previous:
    """What the earlier bills of the same month said for one person and insurance."""

    employer: int
    employee: int
    base: int


def previous_amounts(bill: Bill) -> dict[tuple[int, int], Previous]:
    """(person, insurance) → the sums of the bills of the same employer and month issued before
    ``bill``: the "old" side of an adjustment's old → new."""
    if bill.kind != "adjustment":
        return {}
    rows = (
        BillLine.objects.filter(
            bill__employer_id=bill.employer_id, bill__month=bill.month, bill_id__lt=bill.pk
        )
        .values("person_id", "insurance")
        .annotate(er=Sum("employer_amount"), ee=Sum("employee_amount"), last=Max("id"))
    )
    items = list(rows)
    bases = dict(
        BillLine.objects.filter(pk__in=[r["last"] for r in items]).values_list("pk", "base")
    )
    return {
        (r["person_id"], r["insurance"]): Previous(int(r["er"]), int(r["ee"]), bases[r["last"]])
        for r in items
    }


@dataclass(frozen=True)
class LineView:
    """A bill line with what a reader needs: names, the base's reason, an explanation and the
    status of the figures behind it."""

    line: BillLine
    insurance: str
    reason: str
    exempt: bool
    merged: bool
    default_rate: bool
    explanation: str
    employer_rate: str = ""
    employee_rate: str = ""
    status: str = ""

    @property
    def status_word(self) -> str:
        return provenance.status_word(self.status)

    @property
    def status_label(self) -> str:
        return provenance.status_label(self.status)


def _computation(
    line: BillLine, rule: RecordedRule | None, employer: int, employee: int
) -> list[str]:
    """ "Employer 16% of ¥6,890.00 = ¥1,102.40." and the employee's share, from the line's base."""
    base = _money(line.base)
    parts: list[str] = []
    if rule is not None and rule.employer_fixed:
        parts.append(
            _("Employer %(rate)s of %(base)s + %(fixed)s = %(amount)s.")
            % {
                "rate": format_rate(line.employer_rate),
                "base": base,
                "fixed": _money(rule.employer_fixed),
                "amount": _money(employer),
            }
        )
    else:
        parts.append(
            _("Employer %(rate)s of %(base)s = %(amount)s.")
            % {"rate": format_rate(line.employer_rate), "base": base, "amount": _money(employer)}
        )
    if INSURANCE_CODES[line.insurance] == "work_injury":
        parts.append(_("The employee pays no work-injury contribution."))
    elif rule is not None and rule.employee_fixed:
        parts.append(
            _("Employee %(rate)s of %(base)s + %(fixed)s = %(amount)s.")
            % {
                "rate": format_rate(line.employee_rate),
                "base": base,
                "fixed": _money(rule.employee_fixed),
                "amount": _money(employee),
            }
        )
    else:
        parts.append(
            _("Employee %(rate)s of %(base)s = %(amount)s.")
            % {"rate": format_rate(line.employee_rate), "base": base, "amount": _money(employee)}
        )
    return parts


def line_explanation(
    line: BillLine, recorded: RecordedPolicy | None, previous: Previous | None = None
) -> str:
    """Why this line says what it says, in the active language, from its flags and the policy the
    bill was built on (never today's, unless the bill predates recorded policies). An adjustment
    line (``previous`` given) says old → new and shows the new computation."""
    code = INSURANCE_CODES[line.insurance]
    label = insurance_label(code)
    rule = recorded.rules.get(code) if recorded is not None else None
    parts: list[str] = []
    employer, employee = line.employer_amount, line.employee_amount
    if previous is not None:
        employer, employee = previous.employer + employer, previous.employee + employee
        parts.append(
            _(
                "%(ins)s, corrected: base %(old_base)s → %(new_base)s; employer %(old_er)s → "
                "%(new_er)s (%(d_er)s); employee %(old_ee)s → %(new_ee)s (%(d_ee)s)."
            )
            % {
                "ins": label,
                "old_base": _money(previous.base),
                "new_base": _money(line.base),
                "old_er": _money(previous.employer),
                "new_er": _money(employer),
                "d_er": _signed(line.employer_amount),
                "old_ee": _money(previous.employee),
                "new_ee": _money(employee),
                "d_ee": _signed(line.employee_amount),
            }
        )
        if line.base == 0 and line.employer_rate == 0 and line.employee_rate == 0:
            parts.append(_("No longer billed for this month."))
            return " ".join(parts)
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
        limits = f"{_money(rule.base_lower)}–{_money(rule.base_upper)}" if rule else "—"
        if reason == "raised_to_lower_limit":
            parts.append(
                _(
                    "Base %(base)s: the wage is below the lower limit, raised to it (limits %(limits)s)."
                )
                % {"base": _money(line.base), "limits": limits}
            )
        elif reason == "capped_at_upper_limit":
            parts.append(
                _("Base %(base)s: the wage is above the upper limit, capped (limits %(limits)s).")
                % {"base": _money(line.base), "limits": limits}
            )
        else:
            parts.append(
                _("Base %(base)s: the declared wage, within the limits %(limits)s.")
                % {"base": _money(line.base), "limits": limits}
            )
        parts += _computation(line, rule, employer, employee)
    if code == "work_injury" and line.flags & BillLine.FLAG_DEFAULT_WORK_INJURY:
        parts.append(_("No work-injury rating on file: the class I benchmark rate is assumed."))
    if line.note and previous is None:
        parts.append(_("Adjustment: %(note)s") % {"note": line.note})
    if recorded is not None and not recorded.recorded:
        parts.append(
            _(
                "Explained from the policy on file today: this bill was issued before bills "
                "recorded their policy."
            )
        )
    return " ".join(parts)


@dataclass(frozen=True)
class BillContext:
    """Everything needed to explain and mark the lines of one bill, read once per bill."""

    bill: Bill
    recorded: RecordedPolicy | None
    previous: dict[tuple[int, int], Previous]

    def explanation(self, line: BillLine) -> str:
        prev = None
        if self.bill.kind == "adjustment":
            prev = self.previous.get((line.person_id, line.insurance), Previous(0, 0, 0))
        return line_explanation(line, self.recorded, prev)

    def status(self, line: BillLine) -> str:
        return provenance.line_status(
            self.bill, INSURANCE_CODES[line.insurance], line.flags, line.person.nationality
        )


def bill_context(bill: Bill) -> BillContext:
    return BillContext(bill, provenance.recorded_policy(bill), previous_amounts(bill))


def line_views(bill: Bill, lines: Any, context: BillContext | None = None) -> list[LineView]:
    ctx = context or bill_context(bill)
    return [
        LineView(
            line=line,
            insurance=insurance_label(line.insurance),
            reason=base_reason(line),
            exempt=bool(line.flags & BillLine.FLAG_EXEMPT),
            merged=bool(line.flags & BillLine.FLAG_MERGED),
            default_rate=bool(line.flags & BillLine.FLAG_DEFAULT_WORK_INJURY)
            and INSURANCE_CODES[line.insurance] == "work_injury",
            explanation=ctx.explanation(line),
            employer_rate=format_rate(line.employer_rate),
            employee_rate=format_rate(line.employee_rate),
            status=ctx.status(line),
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
    "policy_status",
    "policy_status_text",
)


def bill_rows(bill: Bill, lines: Any) -> list[list[spreadsheets.Cell]]:
    """One row per line: user text as text, amounts as exact yuan numbers (``Decimal``), and the
    status of the figures behind the line (code, and in words in the reader's language)."""
    rows: list[list[spreadsheets.Cell]] = []
    for line in lines:
        status = provenance.line_status(
            bill, INSURANCE_CODES[line.insurance], line.flags, line.person.nationality
        )
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
                status or "NOT_RECORDED",
                provenance.status_label(status),
            ]
        )
    return rows


def policy_rows(bill: Bill) -> list[list[spreadsheets.Cell]]:
    """The bill's summary status and every source behind it, for the foot of the CSV and the
    summary sheet: ``policy_status``, then one ``policy_source`` row per source."""
    status = bill.policy_status
    rows: list[list[spreadsheets.Cell]] = [
        ["policy_status", status or "NOT_RECORDED", provenance.status_label(status)],
        ["policy_version", bill.policy_version],
    ]
    for f in provenance.figures(bill):
        rows.append(["policy_source", f.status, " ".join(f.covers), f.source, f.url])
    due = provenance.due_rule(bill)
    if due is not None:
        rows.append(["policy_source", due.status, "due_date", due.source, due.url])
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
            *policy_rows(bill),
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
        ("reason", bill.reason),
    ]
    for key, value in summary_rows:
        spreadsheets.append(summary, [key, value])
    for row in policy_rows(bill):
        spreadsheets.append(summary, row)
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


def bill_pdf(bill: Bill, state: BillState, *, insurances: Any, people: Any) -> bytes:
    """The bill in the active language, compact: a summary page (totals per insurance, the
    employer's and the employees' shares, the status of the figures), then one line per person
    (``billing.bill_people``); every line with its explanation is in the CSV and XLSX."""
    return _pdf(
        "billing/bill_pdf.html",
        {
            "bill": bill,
            "state": state,
            "insurances": insurances,
            "people": people,
            "policy": provenance.bill_policy(bill),
            "printed_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            "lang": translation.get_language() or "en",
        },
    )


def _contribution_sources(contributions: list[Any]) -> list[tuple[str, provenance.Figure]]:
    """Each distinct source behind the contribution history that is not CONFIRMED, with the
    months it was used for (first…last)."""
    found: dict[tuple[str, str], tuple[list[str], provenance.Figure]] = {}
    for c in contributions:
        for f in c.sources:
            if f.status == "CONFIRMED":
                continue
            months, _figure = found.setdefault((f.status, f.source), ([], f))
            months.append(c.month)
    return [
        (f"{min(months)}…{max(months)}" if len(set(months)) > 1 else months[0], figure)
        for months, figure in found.values()
    ]


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
                "sources": provenance.statement_sources(statement),
                "contribution_sources": _contribution_sources(contributions),
                "months_counted": months_counted,
                "contributions": contributions,
                "on": on,
                "printed_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
                "lang": language,
                "insurances": INSURANCES,
            },
        )
