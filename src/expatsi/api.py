"""The REST API: one django-ninja instance assembled from each app's router.

Errors always come back as ``{"code", "message", "field"}`` with a 4xx status: domain errors
(:class:`RuleError`) as 400, request validation as 422, a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` as 413, and a number the database cannot hold as 422.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import DataError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.parser import Parser

from expatsi.access.openapi import document_errors
from expatsi.access.validation import INT64_MAX
from expatsi.benefits.api import router as benefits_router
from expatsi.billing.api import router as billing_router
from expatsi.cards.api import router as cards_router
from expatsi.cards.api import verify_router
from expatsi.cases.api import router as cases_router
from expatsi.cases.api_reports import reports_router
from expatsi.employers.api import router as employers_router
from expatsi.insurance.api import employments_router, registrations_router
from expatsi.insurance.employees_api import entry_exit_router
from expatsi.insurance.employees_api import router as employees_router
from expatsi.rules.errors import RuleError
from expatsi.rules_api import router as rules_router


class NoNulParser(Parser):
    """The JSON and query parser, refusing NUL anywhere (a 422 naming the field): PostgreSQL cannot
    store it, and no field of this API has a use for it. Other control characters are judged per
    field by the schemas (access/validation.py)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        _refuse_nul(data, ("body",))
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        _refuse_nul(parsed, ("query",))
        return parsed


def _refuse_nul(value: Any, loc: tuple[str | int, ...]) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(
            [{"type": "control_characters", "loc": loc, "msg": "must not contain NUL characters"}]
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, (*loc, str(key)))
            _refuse_nul(item, (*loc, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_nul(item, (*loc, i))


class ExpatsiAPI(NinjaAPI):
    """The OpenAPI document also lists every operation's error answers (access/openapi.py)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_errors(schema)
        return schema

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """``<module>_<function>`` as ninja names it, where an app's API package (``billing/api/``)
        stands for its modules: splitting an API into modules renames no operation for clients
        generated from the document."""
        module = operation.view_func.__module__
        package, _, _module = module.rpartition(".")
        if package.endswith(".api"):
            module = package
        return f"{module}_{operation.view_func.__name__}".replace(".", "_")


api = ExpatsiAPI(
    title="expatsi API",
    version="1",
    description="Social insurance and the Integrated Card for foreigners working in China.",
    urls_namespace="api-v1",
    parser=NoNulParser(),
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


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja's own errors in the API's error shape. A body that does not parse is ninja's 400
    "Cannot parse request body"; a NUL found while parsing (NoNulParser) is a 422 like any other
    validation error."""
    if isinstance(exc.__cause__, ValidationError):
        return validation_error(request, exc.__cause__)
    if exc.status_code == 400 and "parse request body" in exc.message:
        body = error_body("invalid_json", "the request body is not valid JSON", "body")
    else:
        body = error_body(f"http_{exc.status_code}", exc.message)
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def request_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    """Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE (files are not counted)."""
    return api.create_response(
        request,
        error_body("request_too_large", "the request body is too large", "body"),
        status=413,
    )


@api.exception_handler(MultiPartParserError)
@api.exception_handler(TooManyFieldsSent)
@api.exception_handler(TooManyFilesSent)
def unreadable_body(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A form body Django cannot parse (no or a bad multipart boundary, too many parts): a 400 in
    the API's shape, not Django's HTML error page. The boundary is not echoed back."""
    return api.create_response(
        request,
        error_body("invalid_body", "the request body cannot be read as a form", "body"),
        status=400,
    )


@api.exception_handler(RawPostDataException)
def body_read_as_form(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    """A multipart body sent to a JSON operation with a session: the CSRF check has read it as a
    form, so it cannot be read again as JSON (Django refuses; this was a 500)."""
    return api.create_response(
        request,
        error_body(
            "invalid_content_type",
            "this operation takes a JSON body: send it with Content-Type: application/json",
            "Content-Type",
        ),
        status=400,
    )


log = logging.getLogger(__name__)


def _out_of_range_field(request: HttpRequest) -> str:
    """The query or path parameter holding an integer beyond 64 bits, if one does."""
    match = getattr(request, "resolver_match", None)
    params = [*request.GET.items(), *((match.kwargs if match else {}).items())]
    for name, value in params:
        text = str(value).strip().lstrip("+-")
        if text.isascii() and text.isdigit() and int(text) > INT64_MAX:
            return str(name)
    return ""


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A value the database cannot hold (an id beyond 64 bits on SQLite, a PostgreSQL DataError).

    Schemas refuse what they can name; this is the net under all of them, so such a request is a
    422 rather than a 500 whichever endpoint it reaches.
    """
    log.warning("out-of-range value on %s: %s", request.path, exc)
    field = _out_of_range_field(request)
    message = "this number is too large" if field else "a value is out of range or too long"
    body: dict[str, Any] = error_body("out_of_range", message, field)
    body["errors"] = [{"type": "out_of_range", "loc": [field] if field else [], "msg": message}]
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
api.add_router("/benefits", benefits_router)
api.add_router("/cases", cases_router)
api.add_router("/reports", reports_router)
