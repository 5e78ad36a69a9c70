"""Reads of employers within the actor's scope (``employers.permissions``): an employer the actor
may not see is not found."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.access.models import AgencyStaff
from expatsi.employers import permissions
from expatsi.employers.models import (
    ApiToken,
    Employer,
    HrInvitation,
    HrMembership,
    WorkInjuryRating,
)
from expatsi.rules.errors import Forbidden, NotFound


def employers_visible(actor: Actor) -> QuerySet[Employer]:
    scope = permissions.employer_scope(actor)
    qs = Employer.objects.all()
    return qs if scope is None else qs.filter(scope)


def employer_search(*, actor: Actor, query: str = "") -> QuerySet[Employer]:
    """Employers the actor may see by name (English or Chinese) or unified social credit code
    (spaces ignored), alphabetically; every one the actor may see when ``query`` is empty."""
    qs = employers_visible(actor)
    text = query.strip()
    if text:
        qs = qs.filter(
            Q(name__icontains=text)
            | Q(name_zh__icontains=text)
            | Q(uscc=text.replace(" ", "").upper())
        )
    return qs.order_by("name", "pk")


def employer_get(*, actor: Actor, employer_id: int) -> Employer:
    employer = employers_visible(actor).filter(pk=employer_id).first()
    if employer is None:
        raise NotFound("not_found", f"no employer {employer_id} that you may see", "employer_id")
    return employer


def work_injury_ratings(*, actor: Actor, employer_id: int) -> QuerySet[WorkInjuryRating]:
    """The employer's ratings, newest first (whoever may see the employer)."""
    employer = employer_get(actor=actor, employer_id=employer_id)
    return employer.work_injury_ratings.order_by("-effective_from")


def api_tokens_visible(*, actor: Actor, employer_id: int) -> QuerySet[ApiToken]:
    """An employer's API tokens (never their secrets): for its HR and the agency staff of its region."""
    employer = employer_get(actor=actor, employer_id=employer_id)
    if not permissions.may_manage_api_tokens(actor, employer):
        raise Forbidden(
            "forbidden", "only the employer's HR and agency staff see its API tokens", ""
        )
    return ApiToken.objects.filter(employer=employer).order_by("-created_at", "-pk")


def api_token_get(*, actor: Actor, employer_id: int, token_id: int) -> ApiToken:
    """One of the employer's tokens, for those who may manage them; any other is not found."""
    token = api_tokens_visible(actor=actor, employer_id=employer_id).filter(pk=token_id).first()
    if token is None:
        raise NotFound(
            "not_found", f"no API token {token_id} of employer {employer_id}", "token_id"
        )
    return token


# --- administration -------------------------------------------------------------------------------


def employer_table(*, actor: Actor) -> QuerySet[Employer]:
    """Employers an administrator may see, for the administration list (search and filters are
    the list toolkit's)."""
    return employers_visible(actor)


def employer_search_q(query: str) -> Q:
    """An employer by name (either language) or USCC."""
    q = query.strip()
    return Q(name__icontains=q) | Q(name_zh__icontains=q) | Q(uscc=q.upper())


def hr_members(*, actor: Actor, employer: Employer) -> QuerySet[HrMembership]:
    """The employer's HR users with access now, for an administrator of its region."""
    if not permissions.may_manage_hr_access(actor, employer):
        raise NotFound("not_found", f"no employer {employer.pk} that you may manage", "employer_id")
    return (
        HrMembership.objects.filter(employer=employer, active=True)
        .select_related("user")
        .order_by("user__username", "pk")
    )


def hr_invitations_open(*, actor: Actor, employer: Employer) -> QuerySet[HrInvitation]:
    """Invitations to the employer not yet accepted nor expired."""
    if not permissions.may_manage_hr_access(actor, employer):
        raise NotFound("not_found", f"no employer {employer.pk} that you may manage", "employer_id")
    return HrInvitation.objects.filter(
        employer=employer, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at", "-pk")


def agency_staff_list(*, actor: Actor) -> QuerySet[AgencyStaff]:
    """Agency staff and their regions, for an administrator of every region."""
    if not permissions.may_set_staff_regions(actor):
        raise Forbidden("forbidden", "only administrators of every region see agency staff", "")
    return AgencyStaff.objects.select_related("user").order_by("user__username", "pk")
