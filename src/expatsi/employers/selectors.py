"""Reads of employers within the actor's scope."""

from __future__ import annotations

from django.db.models import QuerySet

from expatsi.access.actors import Actor
from expatsi.employers.models import ApiToken, Employer
from expatsi.rules.errors import Forbidden, NotFound


def employers_visible(actor: Actor) -> QuerySet[Employer]:
    qs = Employer.objects.all()
    if actor.kind == "system" or (actor.kind == "agency" and actor.regions is None):
        return qs
    if actor.kind == "agency":
        return qs.filter(region_code__in=actor.regions or ())
    if actor.kind == "hr":
        return qs.filter(pk__in=actor.employer_ids)
    if actor.kind == "employee" and actor.person_id is not None:
        return qs.filter(employments__person_id=actor.person_id).distinct()
    return qs.none()


def employer_get(*, actor: Actor, employer_id: int) -> Employer:
    employer = employers_visible(actor).filter(pk=employer_id).first()
    if employer is None:
        raise NotFound("not_found", f"no employer {employer_id} that you may see", "employer_id")
    return employer


def api_tokens_visible(*, actor: Actor, employer_id: int) -> QuerySet[ApiToken]:
    """An employer's API tokens (never their secrets): for its HR and the agency staff of its region."""
    employer = employer_get(actor=actor, employer_id=employer_id)
    if not (actor.kind == "hr" or actor.covers_region(employer.region_code)):
        raise Forbidden(
            "forbidden", "only the employer's HR and agency staff see its API tokens", ""
        )
    return ApiToken.objects.filter(employer=employer).order_by("-created_at", "-pk")
