"""Who is calling the REST API: a portal session or an employer's API token → ``request.actor``.

Two schemes, tried in this order:

* ``Authorization: Bearer exp_…`` — an employer's API token (acts as HR of that one employer).
  When the header is present it is the only credential considered: a bad or revoked token is a
  401, never a silent fall-back to a session cookie sent alongside it.
* the Django session cookie of the portal, with CSRF enforced on unsafe methods (a cookie is sent
  by the browser on its own, so a cross-site form must not be able to use it).

Failures answer in the API's one error shape ``{code, message, field}``: 401 without valid
credentials, 403 when the CSRF check fails or when a session still lacks its second step
(``second_factor_required``: signed in with the password only, see ``expatsi.access.twofactor``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.pagination import LimitOffsetPagination
from ninja.schema import Field, Schema
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from expatsi.access.actors import Actor, actor_for_token, actor_for_user, client_ip
from expatsi.access.twofactor import verification_missing
from expatsi.rules.errors import Forbidden, RuleError

PAGE_DEFAULT = 50
PAGE_MAX = 500
OFFSET_MAX = 1_000_000_000  # no list here has a billion rows; beyond is a typo or a probe


class UnauthenticatedError(RuleError):
    """No credentials, or credentials that do not identify anyone (missing, bad or revoked)."""

    status = 401


def request_actor(request: HttpRequest) -> Actor:
    """The actor the authentication set on this request (API views run only after it)."""
    actor = getattr(request, "actor", None)
    if not isinstance(actor, Actor):  # pragma: no cover - every router requires authentication
        raise UnauthenticatedError("unauthenticated", "sign in or send an API token", "")
    return actor


# Tokens belong to employers, a layer above this one: the employers app hands its lookup in at
# start (EmployersConfig.ready) instead of this module importing upwards.
_token_lookup: Callable[[str], Any | None] | None = None


def register_token_lookup(lookup: Callable[[str], Any | None]) -> None:
    """Set the function that finds the live API token for a secret (None when there is none)."""
    global _token_lookup
    _token_lookup = lookup


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <secret>`` with an employer API token."""

    def __call__(self, request: HttpRequest) -> Any | None:
        value = request.headers.get(self.header)
        if not value:
            return None  # no header: let the session scheme answer
        scheme, _, secret = value.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise UnauthenticatedError(
                "invalid_token", "use 'Authorization: Bearer <token>'", "Authorization"
            )
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Actor:
        if _token_lookup is None:  # pragma: no cover - the employers app registers it at start
            raise UnauthenticatedError(
                "invalid_token", "API tokens are not enabled", "Authorization"
            )
        found = _token_lookup(token)
        if found is None:
            raise UnauthenticatedError(
                "invalid_token", "the API token is unknown or revoked", "Authorization"
            )
        actor = actor_for_token(found, ip=client_ip(request))
        request.actor = actor  # type: ignore[attr-defined]
        return actor


class SessionActorAuth(APIKeyCookie):
    """The portal's Django session; CSRF is checked for unsafe methods."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, after we know a session is in use

    def __call__(self, request: HttpRequest) -> Actor:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            raise UnauthenticatedError("unauthenticated", "sign in or send an API token", "")
        if verification_missing(user):
            raise Forbidden(
                "second_factor_required",
                "this session has not completed the two-step sign-in: enter the code from your "
                "authenticator app in the portal (or set one up there), then try again",
                "",
            )
        if (
            request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
            and check_csrf(request) is not None
        ):
            raise Forbidden(
                "csrf_failed",
                "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value",
                "X-CSRFToken",
            )
        return self.authenticate(request, None)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor:
        actor = actor_for_user(request.user, ip=client_ip(request), via="api")
        request.actor = actor  # type: ignore[attr-defined]
        return actor


api_auth = [TokenAuth(), SessionActorAuth()]


def authenticate(request: HttpRequest) -> Actor:
    """Run the API's authentication outside a ninja operation (raises a RuleError on failure)."""
    for scheme in api_auth:
        if scheme(request):
            return request_actor(request)
    raise UnauthenticatedError("unauthenticated", "sign in or send an API token", "")


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=`` on every list, with a ceiling so one call cannot ask for everything."""

    class Input(Schema):
        limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX, description="items per page")
        offset: int = Field(0, ge=0, le=OFFSET_MAX, description="items to skip")
