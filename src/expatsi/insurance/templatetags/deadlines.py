"""Registration deadlines as words and a badge (the colour never stands alone)."""

from __future__ import annotations

from datetime import date

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from expatsi.insurance.models import Registration
from expatsi.insurance.selectors import DeadlineView, registration_deadline_status

register = template.Library()


def deadline_text(view: DeadlineView) -> str:
    if view.status == "overdue":
        n = view.days_late or 0
        return ngettext("Overdue by %(n)d day", "Overdue by %(n)d days", n) % {"n": n}
    if view.status == "due_soon":
        n = view.days_left or 0
        if n == 0:
            return _("Due today")
        return ngettext("Due soon: %(n)d day left", "Due soon: %(n)d days left", n) % {"n": n}
    if view.status == "on_time":
        n = view.days_left or 0
        return ngettext("On time: %(n)d day left", "On time: %(n)d days left", n) % {"n": n}
    if view.status == "registered_late":
        n = view.days_late or 0
        return ngettext("Registered %(n)d day late", "Registered %(n)d days late", n) % {"n": n}
    if view.status == "registered_on_time":
        return _("Registered on time")
    return _("Rejected")


@register.simple_tag
def deadline_badge(reg: Registration, today: date | None = None) -> SafeString:
    """Colour and words, never colour alone: a dot, the status text, and a CSS class."""
    view = registration_deadline_status(reg, today)
    return format_html(
        '<span class="status status-{}"><span class="status-dot" aria-hidden="true"></span>{}</span>',
        view.status.replace("_", "-"),
        deadline_text(view),
    )
