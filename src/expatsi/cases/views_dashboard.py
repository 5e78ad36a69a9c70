"""The agency's compliance dashboard: five charts over the actor's regions, each also a table and
a CSV download, with filters by region and period (GET, so a view can be bookmarked and shared).

The figures come from :mod:`expatsi.cases.dashboard` (scoped, aggregated in SQL); here they get
their words in the reader's language (month names, rule names, region names, statuses) and become
:class:`~expatsi.cases.charts.Chart` objects, drawn by :mod:`expatsi.cases.charts`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from expatsi.access.actors import Actor
from expatsi.cases import charts, dashboard, permissions
from expatsi.cases.charts import Category, Chart, Series
from expatsi.cases.forms import CasesForm
from expatsi.cases.models import FindingStatus
from expatsi.cases.registry import registry
from expatsi.cases.templatetags.compliance import rule_label
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.money import format_yuan
from expatsi.rules.regions import regions
from expatsi.web.actors import request_actor
from expatsi.web.formatting import yuan

CHARTS = ("registrations", "findings_rule", "findings_region", "arrears", "cards")


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def _region_name(code: str) -> str:
    found = regions().get(code)
    if found is None:
        return code
    return found.name_zh if _zh() else found.name


def _covered(actor: Actor) -> list[str]:
    return [code for code in sorted(regions()) if permissions.may_scan_region(actor, code)]


MESSAGES = {
    "invalid_month": gettext_lazy("Give a month as YYYY-MM, for example 2026-01."),
    "period_reversed": gettext_lazy("The last month is before the first."),
    "period_too_long": gettext_lazy("Choose at most 36 months."),
    "period_in_future": gettext_lazy("The period starts after this month."),
}


class DashboardForm(CasesForm):
    """Region and period; empty fields mean every region the actor covers and the last twelve
    months."""

    def add_rule_error(self, exc: RuleError) -> None:
        message = MESSAGES.get(exc.code)
        if message is None:
            super().add_rule_error(exc)
        else:
            self.add_error(exc.field if exc.field in self.fields else None, str(message))

    region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)
    start = forms.CharField(
        label=gettext_lazy("From month"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )
    end = forms.CharField(
        label=gettext_lazy("To month"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )

    def __init__(self, data: Any, *, actor: Actor, today: date) -> None:
        super().__init__(data)
        self.today = today
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = [
            ("", _("All my regions")),
            *((c, _region_name(c)) for c in _covered(actor)),
        ]

    def _month(self, name: str) -> Month | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            return Month.parse(text, field=name)
        except RuleError as exc:
            self.add_rule_error(exc)
            return None

    def filters(self) -> dashboard.Filters | None:
        """The filters asked for, or None with the errors on their fields."""
        if not self.is_valid():
            return None
        default = dashboard.Filters.default(self.today)
        start, end = self._month("start"), self._month("end")
        if self.errors:
            return None
        last = end or (default.last if start is None else min(start.plus(11), default.last))
        first = start or max(last.plus(-11), Month(1900, 1))
        try:
            return dashboard.Filters(self.cleaned_data.get("region") or "", first, last, self.today)
        except RuleError as exc:
            self.add_rule_error(exc)
            return None


# --- the charts, in the reader's words ------------------------------------------------------------


def _count(n: int) -> str:
    return f"{n:,}"


def _money_axis(fen: int) -> str:
    return yuan(fen)


def _month_categories(months: list[Month]) -> tuple[Category, ...]:
    """Months in words (the table: "November 2026", "2026年11月"); under the axis the short
    month, with the year under the first month and under each January."""
    out = []
    for i, m in enumerate(months):
        day = m.first_day()
        short = f"{m.month}月" if _zh() else date_format(day, "M")
        year = str(m.year) if i == 0 or m.month == 1 else ""
        out.append(Category(str(m), date_format(day, "YEAR_MONTH_FORMAT"), (short, year)))
    return tuple(out)


def registrations_chart(actor: Actor, f: dashboard.Filters) -> Chart:
    data = dashboard.registrations_by_month(actor, f)
    months = f.months
    return Chart(
        key="registrations",
        title=_("Registrations on time and late, by month"),
        description=_(
            "Stacked columns, one a month: registrations made by the deadline and after it. "
            "The figures are in the table that follows."
        ),
        category_header=_("Month"),
        categories=_month_categories(months),
        series=(
            Series("on_time", _("On time"), tuple(data[m].on_time for m in months)),
            Series("late", _("Late"), tuple(data[m].late for m in months)),
        ),
        kind="columns",
        stacked=True,
        fmt=_count,
        total_label=_("Total"),
        empty=_("No registration was made in this period."),
    )


def _status_series(
    counts: list[dashboard.FindingCount], keys: list[str], pick: Callable[[Any], str]
) -> tuple[Series, ...]:
    table: dict[tuple[str, str], int] = {}
    for c in counts:
        k = (pick(c), c.status)
        table[k] = table.get(k, 0) + c.count
    # The statuses' own words (in the "finding status" context: "Open" is a bill's status too).
    return tuple(
        Series(str(status), str(status.label), tuple(table.get((k, status), 0) for k in keys))
        for status in FindingStatus
    )


def findings_rule_chart(
    actor: Actor, f: dashboard.Filters, counts: list[dashboard.FindingCount] | None = None
) -> Chart:
    counts = dashboard.findings_counts(actor, f) if counts is None else counts
    rules = registry().rules
    keys = list(rules)
    keys += sorted({c.rule for c in counts} - set(keys))
    return Chart(
        key="findings_rule",
        title=_("Findings by rule"),
        description=_(
            "Stacked bars, one a rule: findings first found in the period, open, confirmed and "
            "dismissed. The figures are in the table that follows."
        ),
        category_header=_("Rule"),
        categories=tuple(
            Category(k, rules[k].display() if k in rules else rule_label(k)) for k in keys
        ),
        series=_status_series(counts, keys, lambda c: c.rule),
        kind="bars",
        stacked=True,
        fmt=_count,
        total_label=_("Total"),
        empty=_("No finding was found in this period."),
    )


def findings_region_chart(
    actor: Actor, f: dashboard.Filters, counts: list[dashboard.FindingCount] | None = None
) -> Chart:
    counts = dashboard.findings_counts(actor, f) if counts is None else counts
    keys = [f.region_code] if f.region_code else _covered(actor)
    return Chart(
        key="findings_region",
        title=_("Findings by region"),
        description=_(
            "Stacked bars, one a region: findings first found in the period, open, confirmed "
            "and dismissed. The figures are in the table that follows."
        ),
        category_header=_("Region"),
        categories=tuple(Category(k, _region_name(k)) for k in keys),
        series=_status_series(counts, keys, lambda c: c.region_code),
        kind="bars",
        stacked=True,
        fmt=_count,
        total_label=_("Total"),
        empty=_("No finding was found in this period."),
    )


def arrears_chart(actor: Actor, f: dashboard.Filters) -> Chart:
    data = dashboard.arrears_by_month(actor, f)
    months = f.months
    return Chart(
        key="arrears",
        title=_("Arrears at the end of each month"),
        description=_(
            "A line, one point a month: contributions unpaid after their due date, on the last "
            "day of the month (today for this month). The figures are in the table that follows."
        ),
        category_header=_("Month"),
        categories=_month_categories(months),
        series=(Series("arrears", _("Arrears"), tuple(data[m] for m in months)),),
        kind="line",
        fmt=_money_axis,
        plain=format_yuan,
        empty=_("Nothing was in arrears in this period."),
    )


def _day_short(day: date) -> str:
    return f"{day.month}月{day.day}日" if _zh() else date_format(day, "M j")


def cards_chart(actor: Actor, f: dashboard.Filters) -> Chart:
    weeks = dashboard.by_week(dashboard.cards_expiring(actor, f), f.today)
    return Chart(
        key="cards",
        title=_("Cards expiring in the next 90 days, by week"),
        description=_(
            "Columns, one a week from today: active Integrated Cards whose validity ends that "
            "week. The figures are in the table that follows."
        ),
        category_header=_("Week"),
        categories=tuple(
            Category(
                a.isoformat(),
                f"{date_format(a, 'DATE_FORMAT')} – {date_format(b, 'DATE_FORMAT')}",
                (_day_short(a),),
            )
            for a, b, _n in weeks
        ),
        series=(Series("cards", _("Cards"), tuple(n for _a, _b, n in weeks)),),
        kind="columns",
        fmt=_count,
        empty=_("No active card expires in the next 90 days."),
    )


def build(actor: Actor, f: dashboard.Filters, only: str = "") -> list[Chart]:
    """The dashboard's charts (or just ``only``), in their order on the page."""
    wanted = [only] if only else list(CHARTS)
    counts = (
        dashboard.findings_counts(actor, f)
        if {"findings_rule", "findings_region"} & set(wanted)
        else []
    )
    makers: dict[str, Callable[[], Chart]] = {
        "registrations": lambda: registrations_chart(actor, f),
        "findings_rule": lambda: findings_rule_chart(actor, f, counts),
        "findings_region": lambda: findings_region_chart(actor, f, counts),
        "arrears": lambda: arrears_chart(actor, f),
        "cards": lambda: cards_chart(actor, f),
    }
    return [makers[k]() for k in wanted]


# --- pages ----------------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    if not permissions.is_staff(actor):
        raise PermissionDenied
    return actor


def _query(f: dashboard.Filters) -> str:
    parts = [f"start={f.first}", f"end={f.last}"]
    if f.region_code:
        parts.insert(0, f"region={f.region_code}")
    return "&".join(parts)


@login_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    today = timezone.localdate()
    data = request.GET.copy()
    if not data.get("start") and not data.get("end"):  # show the period the page shows
        default = dashboard.Filters.default(today)
        data["start"], data["end"] = str(default.first), str(default.last)
    form = DashboardForm(data, actor=actor, today=today)
    filters = form.filters()
    status = 200
    if filters is None:
        status = 400
        filters = dashboard.Filters.default(today)
    shown = build(actor, filters)
    query = _query(filters)
    return render(
        request,
        "cases/dashboard.html",
        {
            "form": form,
            "filters": filters,
            "period": _("%(first)s to %(last)s")
            % {
                "first": date_format(filters.first.first_day(), "YEAR_MONTH_FORMAT"),
                "last": date_format(filters.last.first_day(), "YEAR_MONTH_FORMAT"),
            },
            "region_label": _region_name(filters.region_code)
            if filters.region_code
            else _("All my regions"),
            "charts": [
                {
                    "chart": c,
                    "svg": mark_safe(charts.svg(c)),  # noqa: S308 - charts.svg escapes all text
                    "header": c.header(),
                    "rows": c.table(),
                    "query": f"chart={c.key}&{query}",
                }
                for c in shown
            ],
        },
        status=status,
    )


@login_required
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """One chart's table as CSV: the same columns and rows as the page shows, numbers plain."""
    actor = _staff(request)
    key = request.GET.get("chart", "")
    if key not in CHARTS:
        raise Http404
    today = timezone.localdate()
    form = DashboardForm(request.GET, actor=actor, today=today)
    filters = form.filters()
    if filters is None:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    chart = build(actor, filters, key)[0]
    response = HttpResponse(
        "\ufeff" + charts.csv_text(chart), content_type="text/csv; charset=utf-8"
    )
    name = f"{key}-{filters.region_code or 'all'}-{filters.first}-{filters.last}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
