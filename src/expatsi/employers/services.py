"""Writes for employers: registration of the employer, HR users, work-injury ratings, API tokens."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from expatsi.access import validation
from expatsi.access.actors import Actor, actor_for_user
from expatsi.access.models import AgencyStaff
from expatsi.audit.services import audit_record
from expatsi.employers.models import (
    ApiToken,
    Employer,
    EmployerKind,
    HrInvitation,
    HrMembership,
    WorkInjuryRating,
)
from expatsi.employers.permissions import (
    may_add_hr_user,
    may_create_api_token,
    may_invite_hr,
    may_manage_api_tokens,
    may_manage_hr_access,
    may_rate_work_injury,
    may_register_employer,
    may_set_staff_regions,
)
from expatsi.employers.selectors import employer_get
from expatsi.rules.agreements import work_injury_rate
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from expatsi.rules.money import PPM, parse_rate
from expatsi.rules.regions import region, regions

TOKEN_PREFIX = "exp_"  # noqa: S105 - a public prefix, not a secret
log = logging.getLogger(__name__)


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
    if not may_register_employer(actor, code):
        raise Forbidden("forbidden", "only agency staff of this region may do this", "")
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
    if not may_rate_work_injury(actor, employer):
        raise Forbidden("forbidden", "only agency staff of this region may do this", "")
    factor = region(employer.region_code).work_injury_factor
    rate = work_injury_rate(industry_class, grade, factor=factor)

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
    """Make a NEW user who is HR of ``employer`` (the system only: demo data, tests, scripts).

    People reach HR access through :func:`hr_invite`. No path attaches an existing account."""
    if not may_add_hr_user(actor):
        raise Forbidden("forbidden", "HR users are invited (hr_invite), not added", "")
    name = _username(username)
    user_model = get_user_model()
    with transaction.atomic():
        if user_model.objects.filter(username__iexact=name).exists():
            raise _username_unavailable()
        user = user_model.objects.create_user(username=name, email=_email(email, required=False))
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        HrMembership.objects.create(user=user, employer=employer)
        audit_record(
            actor=actor,
            action="employer.hr_add",
            object_type="employer",
            object_id=employer.pk,
            detail={"user": user.get_username()},
        )
    return user


# --- HR invitations -------------------------------------------------------------------------------

INVITATION_DAYS = 7
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _max_length(name: str, default: int) -> int:
    """The user model's own limit for a field, so that a long value is a 400, never a 500."""
    try:
        found = get_user_model()._meta.get_field(name)
    except Exception:  # a custom user model without the field
        return default
    return int(getattr(found, "max_length", None) or default)


def _line(value: str | None, field: str, *, max_length: int, required: bool = False) -> str:
    """One line of text: names and addresses go into e-mail headers, where a line break is an
    injection, and NUL cannot be stored in PostgreSQL."""
    text = (value or "").strip()
    if _CONTROL.search(text):
        raise RuleError(
            "control_characters",
            "write this on one line, without line breaks, tabs or other control characters",
            field,
        )
    if required and not text:
        raise RuleError("required", "this field is required", field)
    if len(text) > max_length:
        raise RuleError("too_long", f"at most {max_length} characters", field)
    return text


def _email(value: str | None, field: str = "email", *, required: bool = True) -> str:
    text = _line(value, field, max_length=_max_length("email", 254), required=required)
    if text:
        try:
            EmailValidator()(text)
        except ValidationError:
            raise RuleError(
                "invalid_email", "not an e-mail address, e.g. name@example.com", field
            ) from None
    return text


def _username(value: str | None, field: str = "username") -> str:
    text = _line(value, field, max_length=_max_length("username", 150), required=True)
    try:
        UnicodeUsernameValidator()(text)
    except ValidationError:
        raise RuleError(
            "invalid_username",
            "use letters, digits and @ . + - _ only (no spaces)",
            field,
        ) from None
    return text


def _username_unavailable() -> Conflict:
    return Conflict(
        "username_unavailable", "this user name is not available: choose another", "username"
    )


def hr_invite(
    *,
    actor: Actor,
    employer: Employer,
    email: str,
    first_name: str = "",
    last_name: str = "",
    language: str = "",
    site: str = "",
) -> HrInvitation:
    """Invite a new person to act as HR for ``employer`` (agency staff, or its signed-in HR).

    Nothing is looked up by name or address, so the answer is the same whoever the address
    belongs to. The e-mail with the link (``site`` + the acceptance page) leaves after commit; the
    token is in that e-mail only."""
    if not may_invite_hr(actor, employer):
        raise Forbidden(
            "forbidden", "only agency staff or this employer's HR (signed in) invite HR users", ""
        )
    address = _email(email)
    first = _line(first_name, "first_name", max_length=_max_length("first_name", 150))
    last = _line(last_name, "last_name", max_length=_max_length("last_name", 150))
    lang = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    lang = "zh-hans" if lang.startswith("zh") else lang
    if lang not in dict(settings.LANGUAGES):
        raise RuleError("invalid_language", "language must be en or zh-hans", "language")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = HrInvitation.objects.create(
            employer=employer,
            email=address,
            first_name=first,
            last_name=last,
            language=lang,
            digest=_digest(token),
            invited_by_id=actor.user_id,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        audit_record(
            actor=actor,
            action="employer.hr_invite",
            object_type="employer",
            object_id=employer.pk,
            detail={"invitation": invitation.pk},
        )
        transaction.on_commit(
            lambda: _send_invitation(invitation, token, site=site, inviter=actor.label)
        )
    return invitation


def _send_invitation(invitation: HrInvitation, token: str, *, site: str, inviter: str) -> None:
    from django.urls import reverse

    with translation.override(invitation.language):
        link = site.rstrip("/") + reverse("hr_invitation", args=[token])
        employer = invitation.employer.name
        subject = _("HR access to %(employer)s in expatsi") % {"employer": employer}
        body = _(
            "%(inviter)s invites you to act as HR for %(employer)s in expatsi, the social "
            "insurance system for foreigners working in China.\n\n"
            "Open this link to choose your user name and password (it works once, until "
            "%(expires)s):\n%(link)s\n\n"
            "If you did not expect this e-mail, ignore it: nothing happens without you."
        ) % {
            "inviter": inviter,
            "employer": employer,
            "expires": invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            "link": link,
        }
    try:
        send_mail(
            _CONTROL.sub(" ", subject)[:200],
            body,
            settings.DEFAULT_FROM_EMAIL,
            [invitation.email],
        )
    except (OSError, ValueError):  # SMTP down, or a header Django refuses: the invitation stands
        log.exception("the invitation e-mail %s could not be sent", invitation.pk)


def hr_invitation_open(token: str) -> HrInvitation | None:
    """The invitation this token opens, if it is still open (not used, not expired)."""
    if not token or len(token) > 100:
        return None
    return (
        HrInvitation.objects.select_related("employer")
        .filter(digest=_digest(token), accepted_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


def hr_invitation_accept(
    *, token: str, username: str, password: str, ip: str = ""
) -> AbstractBaseUser:
    """Make the invitee's NEW account with the user name and password they chose, HR of the
    inviting employer. The link works once."""
    from django.contrib.auth.password_validation import validate_password

    name = _username(username)
    user_model = get_user_model()
    with transaction.atomic():
        invitation = hr_invitation_open(token)
        if invitation is None:
            raise NotFound("not_found", "this invitation is used, expired or unknown", "token")
        invitation = HrInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise NotFound("not_found", "this invitation is used, expired or unknown", "token")
        if user_model.objects.filter(username__iexact=name).exists():
            raise _username_unavailable()
        user = user_model(
            username=name,
            email=invitation.email,
            first_name=invitation.first_name,
            last_name=invitation.last_name,
        )
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise RuleError("weak_password", " ".join(exc.messages), "password1") from None
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise _username_unavailable() from None
        HrMembership.objects.create(user=user, employer=invitation.employer)
        invitation.accepted_at = timezone.now()
        invitation.user = user
        invitation.save(update_fields=["accepted_at", "user"])
        audit_record(
            actor=actor_for_user(user, ip=ip),
            action="employer.hr_add",
            object_type="employer",
            object_id=invitation.employer_id,
            detail={"user": name, "invitation": invitation.pk},
        )
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, actor: Actor, employer_id: int, name: str) -> tuple[ApiToken, str]:
    """A new token for one employer. The secret is returned once and stored only as a digest."""
    employer = employer_get(actor=actor, employer_id=employer_id)
    if not may_create_api_token(actor, employer):
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
    if token is None or not may_manage_api_tokens(actor, token.employer):
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


# --- administration -------------------------------------------------------------------------------


def hr_access_revoke(*, actor: Actor, membership_id: int) -> HrMembership:
    """Take HR access to an employer away from a user (an administrator of its region). The
    account stays (it may be HR elsewhere, or an employee); revoking twice changes nothing."""
    with transaction.atomic():
        membership = (
            HrMembership.objects.select_for_update()
            .select_related("employer", "user")
            .filter(pk=membership_id)
            .first()
        )
        if membership is None or not may_manage_hr_access(actor, membership.employer):
            raise NotFound("not_found", f"no HR access {membership_id} that you may manage", "")
        if membership.active:
            membership.active = False
            membership.save(update_fields=["active"])
            audit_record(
                actor=actor,
                action="employer.hr_revoke",
                object_type="employer",
                object_id=membership.employer_id,
                detail={"user": membership.user.get_username()},
            )
    return membership


def staff_regions_set(*, actor: Actor, staff_id: int, region_codes: list[str]) -> AgencyStaff:
    """Say which regions an agency officer works in; none chosen means every region. Each code
    must be a known region; the change is audited with the regions before and after."""
    if not may_set_staff_regions(actor):
        raise Forbidden("forbidden", "only administrators of every region set staff regions", "")
    known = regions()
    codes = sorted({c.strip() for c in region_codes if c.strip()})
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise RuleError("invalid_region", f"unknown region {unknown[0]}", "regions")
    with transaction.atomic():
        staff = (
            AgencyStaff.objects.select_for_update()
            .select_related("user")
            .filter(pk=staff_id)
            .first()
        )
        if staff is None:
            raise NotFound("not_found", f"no agency staff {staff_id}", "")
        before = staff.regions
        after = ",".join(codes)
        if before != after:
            staff.regions = after
            staff.save(update_fields=["regions"])
            audit_record(
                actor=actor,
                action="access.staff_regions",
                object_type="agency_staff",
                object_id=staff.pk,
                detail={
                    "user": staff.user.get_username(),
                    "before": before or "*",
                    "after": after or "*",
                },
            )
    return staff
