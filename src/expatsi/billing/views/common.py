"""What every billing page does first: who is asking, which employer and day the page is about."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone

from expatsi.access.actors import Actor, actor_for_user, client_ip
from expatsi.billing import selectors
from expatsi.billing.payments import EmployerBalance
from expatsi.employers.models import Employer
from expatsi.rules.errors import NotFound


def page_actor(request: HttpRequest) -> Actor:
    return actor_for_user(request.user, ip=client_ip(request))


def require(allowed: bool) -> None:
    """403 for a page that is not the actor's (the answer of a question in billing.permissions)."""
    if not allowed:
        raise PermissionDenied


def one_employer_at_a_time(actor: Actor) -> bool:
    """HR pages show one of their employers at a time (the first unless another is picked);
    agency staff see every employer of their regions unless they pick one."""
    return actor.kind == "hr"


def pick(raw: Any, employers: list[Employer]) -> Employer:
    """The employer ``raw`` names among ``employers``, else the first; 403 when there is none."""
    if not employers:
        raise PermissionDenied
    return next((e for e in employers if str(e.pk) == str(raw)), employers[0])


def day_asked(request: HttpRequest) -> date:
    """``?on=YYYY-MM-DD``, else (or when it is no date) today."""
    raw = request.GET.get("on", "")
    try:
        return date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def bill_row_or_404(actor: Actor, pk: int, on: date | None = None) -> selectors.BillRow:
    """A bill the actor may see with where it stands on ``on`` (default today); else 404."""
    try:
        return selectors.bill_row(actor=actor, bill_id=pk, on=on)
    except NotFound:
        raise Http404 from None


def balance_on(actor: Actor, employer: Employer | None, on: date) -> EmployerBalance | None:
    """What the employer picked on the page owes on ``on``; None when none is picked."""
    if employer is None:
        return None
    return selectors.balance_get(actor=actor, employer_id=employer.pk, on=on).amounts


def int_or_none(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
