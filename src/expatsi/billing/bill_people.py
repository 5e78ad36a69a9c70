"""A bill read person by person: subtotals per person, the ¥0.00 lines left out, search within the
bill, and pages — so a bill of thousands of people is as quick to open as one of five.

Reads only (the bill was found in the reader's scope with ``selectors.bill_get``). A page costs a
fixed number of queries whatever the bill's size: the people of the page with their subtotals (one
grouped query, paged in SQL), their count, and their lines. Exports (CSV, XLSX) keep every line,
¥0.00 included; the compact PDF has one line per person (:func:`bill_person_totals`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, When

from expatsi.billing.exports import LineView, bill_context, insurance_label, line_views
from expatsi.billing.models import INSURANCE_CODES, Bill, BillLine
from expatsi.people.models import Person

PER_PAGE = 50
ORDER = ("person__family_name", "person__given_names", "person_id")


def _zero() -> Q:
    return Q(employer_amount=0, employee_amount=0)


def _search(query: str) -> Q:
    """Every word must match the person's family, given or Chinese name, or be their social
    security number (spaces ignored): "MÜLLER Hans" and "911276198005170018" both find him."""
    condition = Q()
    for word in query.split():
        condition &= (
            Q(person__family_name__icontains=word)
            | Q(person__given_names__icontains=word)
            | Q(person__chinese_name__icontains=word)
            | Q(person__ssn=word.upper())
        )
    return condition


def _people(bill: Bill, query: str) -> QuerySet[Any, Any]:
    """One row per person of the bill (matching ``query``) with their subtotals, in name order."""
    lines = BillLine.objects.filter(bill=bill)
    if query.strip():
        lines = lines.filter(_search(query))
    return (
        lines.values("person_id")
        .annotate(
            employer=Sum("employer_amount"),
            employee=Sum("employee_amount"),
            lines=Count("id"),
            zero=Sum(Case(When(_zero(), then=1), default=0, output_field=IntegerField())),
        )
        .order_by(*ORDER)
    )


@dataclass
class PersonGroup:
    """One person's lines on a bill (the ¥0.00 ones left out) and what they add up to."""

    person: Person | None
    person_id: int
    employer: int
    employee: int
    hidden: int  # lines of ¥0.00 not shown
    lines: list[LineView] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.employer + self.employee


@dataclass(frozen=True)
class BillPage:
    groups: list[PersonGroup]
    page: Page[Any]
    query: str
    hidden: int  # ¥0.00 lines left out on this page

    @property
    def count(self) -> int:
        return int(self.page.paginator.count)


def bill_page(bill: Bill, *, query: str = "", page: Any = 1, per_page: int = PER_PAGE) -> BillPage:
    """The page ``page`` (a number; anything else is the first, past the end the last) of the
    bill's people matching ``query``, each with their non-zero lines and subtotals."""
    query = query.strip()[:100]
    paginator = Paginator(_people(bill, query), per_page, allow_empty_first_page=True)
    current = paginator.get_page(page)
    rows = list(current.object_list)
    ids = [r["person_id"] for r in rows]
    groups = {
        r["person_id"]: PersonGroup(
            person=None,
            person_id=r["person_id"],
            employer=int(r["employer"] or 0),
            employee=int(r["employee"] or 0),
            hidden=int(r["zero"] or 0),
        )
        for r in rows
    }
    lines = (
        BillLine.objects.filter(bill=bill, person_id__in=ids)
        .exclude(_zero())
        .select_related("person")
        .order_by(*ORDER, "insurance", "id")
    )
    for view in line_views(bill, lines, bill_context(bill)):
        group = groups[view.line.person_id]
        group.person = view.line.person
        group.lines.append(view)
    # A person whose every line is ¥0.00 (wholly exempt) still has a row: read them by name.
    missing = [g.person_id for g in groups.values() if g.person is None]
    if missing:
        for person in Person.objects.filter(pk__in=missing):
            groups[person.pk].person = person
    ordered = [groups[i] for i in ids]
    return BillPage(ordered, current, query, sum(g.hidden for g in ordered))


@dataclass(frozen=True)
class InsuranceTotal:
    code: str
    label: str
    employer: int
    employee: int

    @property
    def total(self) -> int:
        return self.employer + self.employee


def bill_insurance_totals(bill: Bill) -> list[InsuranceTotal]:
    """The bill's totals per insurance (the summary page of the compact PDF), in the usual order."""
    rows = (
        BillLine.objects.filter(bill=bill)
        .values("insurance")
        .annotate(er=Sum("employer_amount"), ee=Sum("employee_amount"))
        .order_by("insurance")
    )
    return [
        InsuranceTotal(
            INSURANCE_CODES[r["insurance"]],
            insurance_label(r["insurance"]),
            int(r["er"] or 0),
            int(r["ee"] or 0),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class PersonTotal:
    name: str
    ssn: str
    employer: int
    employee: int

    @property
    def total(self) -> int:
        return self.employer + self.employee


def bill_person_totals(bill: Bill) -> list[PersonTotal]:
    """One line per person of the whole bill (the compact PDF), in name order: one query."""
    rows = (
        BillLine.objects.filter(bill=bill)
        .values("person_id", *ORDER[:2], "person__chinese_name", "person__ssn")
        .annotate(er=Sum("employer_amount"), ee=Sum("employee_amount"))
        .order_by(*ORDER)
    )
    return [
        PersonTotal(
            " · ".join(
                n
                for n in (
                    f"{r['person__family_name'].upper()} {r['person__given_names']}".strip(),
                    r["person__chinese_name"],
                )
                if n
            ),
            r["person__ssn"] or "",
            int(r["er"] or 0),
            int(r["ee"] or 0),
        )
        for r in rows
    ]
