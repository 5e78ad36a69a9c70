"""The REST API: one django-ninja instance assembled from each app's router.

Errors always come back as ``{"code", "message", "field"}`` with a 4xx status: domain errors
(:class:`RuleError`) as 400, request validation as 422.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError

from expatsi.billing.api import router as billing_router
from expatsi.cards.api import router as cards_router
from expatsi.cards.api import verify_router
from expatsi.employers.api import router as employers_router
from expatsi.insurance.api import employments_router, registrations_router
from expatsi.people.api import entry_exit_router
from expatsi.people.api import router as employees_router
from expatsi.rules.errors import RuleError
from expatsi.rules_api import router as rules_router

api = NinjaAPI(
    title="expatsi API",
    version="1",
    description="Social insurance and the Integrated Card for foreigners working in China.",
    urls_namespace="api-v1",
)


def error_body(code: str, message: str, field: str = "") -> dict[str, str]:
    return {"code": code, "message": message, "field": field}


@api.exception_handler(RuleError)
def rule_error(request: HttpRequest, exc: RuleError) -> HttpResponse:
    response = api.create_response(
        request, error_body(exc.code, exc.message, exc.field), status=exc.status
    )
    retry_after = getattr(exc, "retry_after", None)
    if exc.status == 429 and isinstance(retry_after, int):
        response["Retry-After"] = str(retry_after)
    return response


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first: dict[str, Any] = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", []) if p not in ("body", "query", "path", "payload")]
    body = error_body("invalid_input", str(first.get("msg", "invalid input")), ".".join(loc))
    body["errors"] = exc.errors  # type: ignore[assignment]
    return api.create_response(request, body, status=422)


@api.get("/health", tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


api.add_router("/rules", rules_router)
api.add_router("/employers", employers_router)
api.add_router("/employees", employees_router)
api.add_router("/employments", employments_router)
api.add_router("/registrations", registrations_router)
api.add_router("/entry-exit", entry_exit_router)
api.add_router("/cards", cards_router)
api.add_router("/verify", verify_router)
api.add_router("/billing", billing_router)
