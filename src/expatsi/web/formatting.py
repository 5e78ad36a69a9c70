"""Amounts as readers see them; shared by pages, PDFs and exports so all three say the same."""

from __future__ import annotations

from django.utils.translation import get_language

from expatsi.rules.money import format_yuan


def yuan(fen: int | None) -> str:
    """Fen as money in the active language: ¥28,500.00 or 28,500.00 元."""
    if fen is None:
        return ""
    amount = format_yuan(int(fen), thousands=True)
    if (get_language() or "").startswith("zh"):
        return f"{amount} 元"
    return f"¥{amount}"
