"""The order to rectify as a document in English and Chinese (WeasyPrint), and its wording.

Bilingual by design, like the card's PDF: an order is served on an employer whatever language its
HR reads the portal in, so every label is printed in both languages and the pairs below are
fixed text rather than catalogue entries. The CJK font is named on ``html`` and inside the
``@page`` margin boxes (they do not inherit the body's font): without it Chinese prints as boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from expatsi.cases.complaints import REPORTED_LABELS, REPORTED_RULE
from expatsi.cases.models import Case, Finding
from expatsi.cases.registry import registry
from expatsi.rules.money import format_yuan
from expatsi.rules.penalties import penalty_rules
from expatsi.rules.regions import regions

CJK_FONTS = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Noto Sans SC", sans-serif'

# What each fine kind means, in both languages (penalties.toml holds the English label).
FINES: dict[str, tuple[str, str]] = {
    "failure_to_register": (
        "Failure to register, not corrected within the time limit: a fine of 1 to 3 times the "
        "premiums payable",
        "逾期仍不办理社会保险登记的，处应缴社会保险费数额一倍以上三倍以下的罚款",
    ),
    "failure_to_register_responsible_person": (
        "Directly responsible managers and other directly responsible persons: 500 to 3,000 "
        "yuan each",
        "对其直接负责的主管人员和其他直接责任人员处五百元以上三千元以下的罚款",
    ),
    "arrears_not_paid": (
        "Contributions still unpaid after the time limit: a fine of 1 to 3 times the arrears",
        "逾期仍不缴纳的，处欠缴数额一倍以上三倍以下的罚款",
    ),
    "illegal_employment": (
        "Illegal employment of foreigners: 10,000 yuan per person, at most 100,000 yuan; "
        "illegal gains confiscated",
        "非法聘用外国人的，每非法聘用一人罚款一万元，总额不超过十万元；有违法所得的，没收违法所得",
    ),
}
ARTICLES_ZH: dict[str, str] = {
    "Social Insurance Law Art. 84": "《社会保险法》第八十四条",
    "Social Insurance Law Art. 86": "《社会保险法》第八十六条",
    "Exit and Entry Administration Law Art. 80": "《出境入境管理法》第八十条",
}
SIGNS_ZH: dict[str, tuple[str, str]] = {
    "other_employer": (
        "works for an employer other than the card's",
        "为证卡所载单位以外的单位工作",
    ),
    "card_expired": ("works on an expired card", "证卡已过期仍在工作"),
    "card_deregistered": ("works on a deregistered card", "证卡已注销仍在工作"),
    "permit_expired": ("works on an expired work permit", "工作许可已过期仍在工作"),
}


def money(fen: int) -> str:
    """Both ways a reader of either language writes an amount: CNY 1,234.56 · 1,234.56 元."""
    amount = format_yuan(fen, thousands=True)
    return f"CNY {amount} · {amount} 元"


@dataclass(frozen=True)
class Line:
    rule_en: str
    rule_zh: str
    subject: str
    period: str
    detail_en: str
    detail_zh: str
    amount: str


def _unlisted(key: str) -> tuple[str, str]:
    """A finding's rule that is no compliance check: one made from a complaint or report."""
    return REPORTED_LABELS if key == REPORTED_RULE else (key, "")


def _line(f: Finding) -> Line:
    rule = registry().rules.get(f.rule)
    if f.person is not None:
        subject = f.person.full_name
    elif f.evidence.get("people"):
        subject = f"{f.evidence['people']} 人 · persons"
    else:
        subject = str(f.evidence.get("bill", ""))
    detail_en = detail_zh = ""
    sign = str(f.evidence.get("sign", ""))
    if sign in SIGNS_ZH:
        detail_en, detail_zh = SIGNS_ZH[sign]
    elif "deadline" in f.evidence:
        detail_en = f"registration due by {f.evidence['deadline']}"
        detail_zh = f"应于 {f.evidence['deadline']} 前办理登记"
    elif "due_date" in f.evidence:
        detail_en = f"due on {f.evidence['due_date']}"
        detail_zh = f"缴费期限 {f.evidence['due_date']}"
    return Line(
        rule_en=rule.label if rule else _unlisted(f.rule)[0],
        rule_zh=rule.label_zh if rule else _unlisted(f.rule)[1],
        subject=subject,
        period=f.period,
        detail_en=detail_en,
        detail_zh=detail_zh,
        amount=money(f.amount_fen),
    )


def order_context(case: Case) -> dict[str, Any]:
    findings = list(case.findings.select_related("person").order_by("rule", "period", "pk"))
    reg = registry().rules
    kinds: list[str] = []
    articles: list[str] = []
    for f in findings:
        rule = reg.get(f.rule)
        if rule is None:
            continue
        if rule.article not in articles:
            articles.append(rule.article)
        kinds += [k for k in rule.fines if k not in kinds]
    penalties = penalty_rules()
    consequences = []
    for k in kinds:
        fine = penalties.fines.get(k)
        en, zh = FINES.get(k, (fine.label if fine else k, ""))
        article = fine.article if fine else ""
        consequences.append(
            {"en": en, "zh": zh, "article": article, "article_zh": ARTICLES_ZH.get(article, "")}
        )
    found_region = regions().get(case.region_code)
    return {
        "case": case,
        "employer": case.employer,
        "region_en": found_region.name if found_region else case.region_code,
        "region_zh": found_region.name_zh if found_region else "",
        "lines": [_line(f) for f in findings],
        "total": money(sum(f.amount_fen for f in findings)),
        "articles": articles,
        "consequences": consequences,
        "late_fee_article": penalties.late_fee_article,
        "fine_total": money(case.fine_total_fen),
        "late_fees": money(case.late_fee_fen),
        "fonts": CJK_FONTS,
        "printed_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }


def order_pdf(case: Case) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # heavy: loaded on first PDF

    html = render_to_string("cases/order_pdf.html", order_context(case))
    return bytes(HTML(string=html).write_pdf())
