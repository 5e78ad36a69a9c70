"""The card and permit information as a PDF in English and Chinese (WeasyPrint).

The document is bilingual by design, like the card itself: every label is printed in both
languages whatever the reader's interface language, so the pairs below are fixed text rather than
catalogue entries. The CJK font is named explicitly on ``html`` and inside the ``@page`` margin
boxes (which do not inherit the body's font): without it Chinese silently prints as empty boxes.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from expatsi.cards.models import Card, CardStatus, Category
from expatsi.credentials import qr

CJK_FONTS = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Noto Sans SC", sans-serif'

STATUS_ZH: dict[str, str] = {
    CardStatus.APPLIED: "已申请",
    CardStatus.NOTICE_ISSUED: "已发工作许可通知",
    CardStatus.ACTIVE: "有效",
    CardStatus.LAPSED: "通知已失效",
    CardStatus.REJECTED: "未予批准",
    CardStatus.EXPIRED: "已过期",
    CardStatus.DEREGISTERED: "已注销",
}
STATUS_EN: dict[str, str] = {
    CardStatus.APPLIED: "Applied",
    CardStatus.NOTICE_ISSUED: "Work permit notice issued",
    CardStatus.ACTIVE: "Active",
    CardStatus.LAPSED: "Notice lapsed",
    CardStatus.REJECTED: "Rejected",
    CardStatus.EXPIRED: "Expired",
    CardStatus.DEREGISTERED: "Deregistered",
}
CATEGORY_ZH: dict[str, str] = {
    Category.A: "A类（外国高端人才）",
    Category.B: "B类（外国专业人才）",
    Category.C: "C类（其他外国人员）",
}
CATEGORY_EN: dict[str, str] = {
    Category.A: "A — foreign high-end talent",
    Category.B: "B — foreign professional",
    Category.C: "C — other foreign personnel",
}


def _day(d: date | None) -> str:
    return d.isoformat() if d else "—"


def card_rows(card: Card) -> list[dict[str, str]]:
    person = card.person
    employer_name = card.employer.name + (
        f" / {card.employer.name_zh}" if card.employer.name_zh else ""
    )
    return [
        {
            "en": "Name",
            "zh": "姓名",
            "value": person.full_name
            + (f" ({person.chinese_name})" if person.chinese_name else ""),
        },
        {"en": "Nationality", "zh": "国籍", "value": person.nationality},
        {"en": "Date of birth", "zh": "出生日期", "value": _day(person.birth_date)},
        {"en": "Card number", "zh": "卡号", "value": card.card_number or "—"},
        {"en": "Work permit number", "zh": "工作许可证号", "value": card.permit_number or "—"},
        {"en": "Social security number", "zh": "社会保障号码", "value": person.ssn or "—"},
        {
            "en": "Category",
            "zh": "类别",
            "value": f"{CATEGORY_EN.get(card.category, card.category)} · {CATEGORY_ZH.get(card.category, '')}",
        },
        {"en": "Employer", "zh": "工作单位", "value": employer_name},
        {"en": "Position", "zh": "职务", "value": card.position},
        {"en": "Valid from", "zh": "有效期自", "value": _day(card.valid_from)},
        {"en": "Valid until", "zh": "有效期至", "value": _day(card.valid_to)},
        {
            "en": "Status",
            "zh": "状态",
            "value": f"{STATUS_EN.get(card.status, card.status)} · {STATUS_ZH.get(card.status, '')}",
        },
    ]


def card_pdf(card: Card, qr_text: str | None) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]

    context: dict[str, Any] = {
        "card": card,
        "rows": card_rows(card),
        "fonts": CJK_FONTS,
        "qr_src": (
            "data:image/svg+xml;base64," + base64.b64encode(qr.svg(qr_text).encode()).decode()
            if qr_text
            else ""
        ),
        "qr_text": qr_text or "",
        "photo_src": (
            "data:image/jpeg;base64," + base64.b64encode(bytes(card.photo)).decode()
            if card.photo
            else ""
        ),
        "printed_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "legacy": card.legacy,
    }
    html = render_to_string("cards/card_pdf.html", context)
    return bytes(HTML(string=html).write_pdf())
