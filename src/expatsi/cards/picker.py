"""Whom and for which employer a first card application may be filed: the form's searchable
pickers (issue 13). An employer with thousands of staff, or agency staff with a million people in
their regions, find one by typing part of a name, a document number or a social security number;
the answer is capped, answered from indexes (``people/search.py``) and scoped like every person
read (``insurance.permissions.person_scope``). A search that shows people is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.cards import permissions
from expatsi.cards.models import CardStatus
from expatsi.employers.display import display_name
from expatsi.employers.models import Employer
from expatsi.employers.selectors import employer_search, employers_visible
from expatsi.insurance.models import Employment
from expatsi.insurance.selectors import persons_visible
from expatsi.people.models import Person
from expatsi.people.search import long_enough, normalise, person_match
from expatsi.rules.errors import NotFound

# A picker shows at most this many matches: enough to choose from, few enough to read.
CAP = 20
# A card in one of these states blocks a first application (one live card per person).
LIVE = (CardStatus.APPLIED, CardStatus.NOTICE_ISSUED, CardStatus.ACTIVE)


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Found:
    choices: list[Choice]
    searched: bool  # a query long enough to search was given
    more: bool  # more matched than are shown


def _employed_by(employer_id: int) -> Exists:
    today = timezone.localdate()
    return Exists(
        Employment.objects.filter(person=OuterRef("pk"), employer_id=employer_id).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today)
        )
    )


def candidates(actor: Actor, employer_id: int | None = None) -> QuerySet[Person]:
    """People the actor may see with no card in progress or in force; with ``employer_id``, only
    those that employer employs now or from a later date."""
    if not permissions.may_open_application_form(actor):
        return Person.objects.none()
    qs = persons_visible(actor).exclude(cards__status__in=LIVE)
    if employer_id is not None:
        qs = qs.filter(_employed_by(employer_id))
    return qs


def person_label(person: Person) -> str:
    return f"{person.full_name} · {person.ssn}" if person.ssn else person.full_name


def people_search(
    *, actor: Actor, query: str, employer_id: int | None = None, limit: int = CAP
) -> tuple[list[Person], bool, bool]:
    """At most ``limit`` candidates matching ``query``, by name; without a query, the first
    ``limit`` by name (an employer with a handful of staff need not type). Also answers whether
    the query was long enough to search and whether more matched. A search that shows people is
    audited with the people it showed."""
    q = normalise(query)
    qs = candidates(actor, employer_id)
    searched = long_enough(q)
    if q and not searched:
        return [], False, False
    if searched:
        qs = qs.filter(person_match(q))
    rows = list(
        qs.order_by("family_name", "given_names", "pk").only(
            "pk", "family_name", "given_names", "chinese_name", "ssn"
        )[: limit + 1]
    )
    shown = rows[:limit]
    if searched and shown:
        audit_record(
            actor=actor,
            action="person.search",
            object_type="person",
            object_id="",
            detail={"shown": [p.pk for p in shown], "employer": employer_id},
        )
    return shown, searched, len(rows) > limit


def people_find(
    *, actor: Actor, query: str, employer_id: int | None = None, limit: int = CAP
) -> Found:
    """:func:`people_search` as a picker's choices."""
    shown, searched, more = people_search(
        actor=actor, query=query, employer_id=employer_id, limit=limit
    )
    return Found([Choice(str(p.pk), person_label(p)) for p in shown], searched, more)


def person_choice(actor: Actor, person_id: str, employer_id: int | None = None) -> Choice | None:
    """The chosen person as a choice, if the actor may apply for them (with that employer)."""
    if not person_id.isdigit():
        return None
    person = candidates(actor, employer_id).filter(pk=int(person_id)).first()
    return Choice(str(person.pk), person_label(person)) if person else None


def employers_applicable(actor: Actor) -> QuerySet[Employer]:
    """Employers the actor may apply for: HR their employers, agency staff those of their regions
    (``permissions.may_apply`` is the same rule for one employer)."""
    if not permissions.may_open_application_form(actor):
        return Employer.objects.none()
    return employers_visible(actor)


def employers_find(*, actor: Actor, query: str, limit: int = CAP) -> Found:
    """At most ``limit`` employers the actor may apply for, by name or credit code."""
    if not permissions.may_open_application_form(actor):
        return Found([], False, False)
    q = normalise(query)
    rows = list(employer_search(actor=actor, query=q)[: limit + 1])
    shown = rows[:limit]
    return Found([Choice(str(e.pk), display_name(e)) for e in shown], bool(q), len(rows) > limit)


def employer_choice(actor: Actor, employer_id: str) -> Choice | None:
    if not employer_id.isdigit():
        return None
    employer = employers_applicable(actor).filter(pk=int(employer_id)).first()
    return Choice(str(employer.pk), display_name(employer)) if employer else None


def applicable_employer(actor: Actor, employer_id: int) -> int:
    """``employer_id`` if the actor may apply for that employer; otherwise not found (an employer
    one may not act for is not told apart from one that does not exist)."""
    if not employers_applicable(actor).filter(pk=employer_id).exists():
        raise NotFound("not_found", f"no employer {employer_id} you may apply for", "employer_id")
    return employer_id
