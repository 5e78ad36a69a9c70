"""Writes for employers: registration of the employer, HR users, work-injury ratings, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from expatsi.access import validation
from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.employers.models import (
    ApiToken,
    Employer,
    EmployerKind,
    HrMembership,
    WorkInjuryRating,
)
from expatsi.employers.selectors import employer_get
from expatsi.rules.agreements import work_injury_rate
from expatsi.rules.errors import Conflict, Forbidden, RuleError
from expatsi.rules.regions import region

TOKEN_PREFIX = "exp_"  # noqa: S105 - a public prefix, not a secret


def _require_agency(actor: Actor, region_code: str) -> None:
    if not actor.covers_region(region_code):
        raise Forbidden("forbidden", "only agency staff of this region may do this", "")


def employer_create(
    *,
    actor: Actor,
    name: str,
    uscc: str,
    region_code: str,
    kind: str = EmployerKind.DOMESTIC,
    name_zh: str = "",
    overseas_company: str = "",
    overseas_country: str = "",
    address: str = "",
    email: str = "",
) -> Employer:
    """Register an employer (agency staff only)."""
    code = validation.region_code(region_code)
    _require_agency(actor, code)
    if kind not in EmployerKind.values:
        raise RuleError(
            "invalid_kind", f"kind must be one of {', '.join(EmployerKind.values)}", "kind"
        )
    if kind != EmployerKind.DOMESTIC:
        validation.required_text(overseas_company, "overseas_company")
        overseas_country = validation.nationality(overseas_country, field="overseas_country")
    employer = Employer(
        name=validation.required_text(name, "name"),
        name_zh=name_zh.strip(),
        uscc=validation.uscc(uscc),
        region_code=code,
        kind=kind,
        overseas_company=overseas_company.strip() if kind != EmployerKind.DOMESTIC else "",
        overseas_country=overseas_country if kind != EmployerKind.DOMESTIC else "",
        address=address.strip(),
        email=email.strip(),
    )
    try:
        with transaction.atomic():
            employer.save()
            audit_record(
                actor=actor,
                action="employer.create",
                object_type="employer",
                object_id=employer.pk,
                detail={"uscc": employer.uscc},
            )
    except IntegrityError:
        raise Conflict(
            "duplicate_uscc", f"an employer with USCC {employer.uscc} already exists", "uscc"
        ) from None
    return employer


def work_injury_rating_set(
    *, actor: Actor, employer: Employer, industry_class: str, grade: str, effective_from: date
) -> WorkInjuryRating:
    """Rate an employer from a date on: closes the open rating the day before (history is kept)."""
    _require_agency(actor, employer.region_code)
    factor = region(employer.region_code).work_injury_factor
    rate = work_injury_rate(industry_class, grade, factor=factor)
    from expatsi.rules.money import PPM, parse_rate

    grade_ppm = parse_rate(grade, field="grade", maximum=2 * PPM)
    with transaction.atomic():
        open_rating = (
            WorkInjuryRating.objects.select_for_update()
            .filter(employer=employer, effective_to__isnull=True)
            .first()
        )
        if open_rating is not None:
            if effective_from <= open_rating.effective_from:
                raise RuleError(
                    "not_after_current",
                    f"must be after {open_rating.effective_from}",
                    "effective_from",
                )
            open_rating.effective_to = effective_from - timedelta(days=1)
            open_rating.save(update_fields=["effective_to"])
        rating = WorkInjuryRating.objects.create(
            employer=employer,
            industry_class=industry_class.upper(),
            grade_ppm=grade_ppm,
            rate_ppm=rate,
            effective_from=effective_from,
        )
        audit_record(
            actor=actor,
            action="employer.work_injury_rating",
            object_type="employer",
            object_id=employer.pk,
            detail={"class": rating.industry_class, "rate_ppm": rate, "from": effective_from},
        )
    return rating


def work_injury_rate_on(employer: Employer, day: date) -> int | None:
    rating = (
        employer.work_injury_ratings.filter(effective_from__lte=day)
        .exclude(effective_to__lt=day)
        .order_by("-effective_from")
        .first()
    )
    return rating.rate_ppm if rating else None


def hr_user_add(
    *, actor: Actor, employer: Employer, username: str, email: str, password: str | None = None
) -> AbstractBaseUser:
    """Give a user HR access to an employer (agency staff, or HR of the same employer)."""
    is_hr_user = actor.kind == "hr" and actor.via != "token" and employer.pk in actor.employer_ids
    if not (actor.covers_region(employer.region_code) or is_hr_user):
        raise Forbidden(
            "forbidden", "only agency staff or this employer's HR (signed in) may add HR users", ""
        )
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(
            username=validation.required_text(username, "username", max_length=150),
            defaults={"email": email},
        )
        if created:
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
        HrMembership.objects.update_or_create(
            user=user, employer=employer, defaults={"active": True}
        )
        audit_record(
            actor=actor,
            action="employer.hr_add",
            object_type="employer",
            object_id=employer.pk,
            detail={"user": user.get_username()},
        )
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, actor: Actor, employer_id: int, name: str) -> tuple[ApiToken, str]:
    """A new token for one employer. The secret is returned once and stored only as a digest."""
    employer = employer_get(actor=actor, employer_id=employer_id)
    if not (actor.kind == "hr" and actor.via != "token") and not actor.covers_region(
        employer.region_code
    ):
        raise Forbidden(
            "forbidden", "API tokens are created by the employer's HR or agency staff", ""
        )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            employer=employer,
            name=validation.required_text(name, "name", max_length=100),
            prefix=prefix,
            digest=_digest(secret),
            created_by_id=actor.user_id,
        )
        audit_record(
            actor=actor,
            action="token.create",
            object_type="api_token",
            object_id=token.pk,
            detail={"employer": employer.pk, "prefix": prefix},
        )
    return token, secret


def api_token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.select_related("employer").filter(pk=token_id).first()
    if token is None or not (
        (actor.kind == "hr" and token.employer_id in actor.employer_ids)
        or actor.covers_region(token.employer.region_code)
    ):
        from expatsi.rules.errors import NotFound

        raise NotFound("not_found", f"no API token {token_id} that you may see", "token_id")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, action="token.revoke", object_type="api_token", object_id=token.pk
        )
    return token


def api_token_authenticate(secret: str) -> ApiToken | None:
    """The live token matching ``secret``, or None. Constant-time by digest lookup."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("employer")
        .filter(digest=_digest(secret), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
