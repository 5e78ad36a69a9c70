"""The API's error answers, documented once for every operation of the OpenAPI document.

Every error the API gives is ``{code, message, field}`` (a 422 also carries pydantic's ``errors``
list), produced centrally by the exception handlers in ``expatsi/api.py``. Declaring those statuses
by hand on some sixty operations would drift from what the handlers do, so the document is
post-processed instead (:func:`document_errors`): each operation gets the statuses it can answer,
judged from what it takes (parameters, a body) and whether it needs credentials. An operation may
still declare an error status itself (``response={429: ErrorOut}``, or a richer body such as an
import's row errors); its own schema is then kept alongside the standard one.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from expatsi.access import idempotency

REF = "#/components/schemas/{model}"


class ErrorOut(Schema):
    """Every 4xx of the API."""

    code: str = Field(description="stable, machine-readable, e.g. `not_found`, `csrf_failed`")
    message: str = Field(description="what is wrong and what is accepted, in English")
    field: str = Field(description="the input at fault (`person.birth_date`), or empty")


class ValidationItemOut(Schema):
    """One problem found by request validation (pydantic's error, without the rejected input)."""

    model_config = ConfigDict(extra="allow")

    type: str
    loc: list[str | int]
    msg: str


class ValidationErrorOut(ErrorOut):
    """422: ``code``/``message``/``field`` name the first problem, ``errors`` lists them all."""

    errors: list[ValidationItemOut]


# status → (description, schema); which operations get which is decided in _statuses.
ERRORS: dict[int, tuple[str, type[Schema]]] = {
    400: ("Bad request: a rule refused the input, or the body is not valid JSON", ErrorOut),
    401: ("No valid credentials: sign in, or send `Authorization: Bearer <token>`", ErrorOut),
    403: ("Not allowed for this caller, or the CSRF check failed (session only)", ErrorOut),
    404: ("Not found, or not visible to this caller", ErrorOut),
    409: (
        "Conflicts with the current state (a duplicate, the wrong state, a reused key)",
        ErrorOut,
    ),
    413: ("The request body or an uploaded file or image is too large", ErrorOut),
    422: ("Request validation failed", ValidationErrorOut),
    429: ("Too many requests from this client: try again in a minute", ErrorOut),
}


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": idempotency.MAX_KEY_LENGTH},
    "description": "Retrying with the same key answers the first response again instead of "
    "repeating the request (2xx answers are kept); the same key with a different request is 422.",
}


def _statuses(method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses the central handlers can give this operation."""
    secured = bool(operation.get("security"))
    params = operation.get("parameters") or []
    has_body = "requestBody" in operation
    has_path = any(p.get("in") == "path" for p in params)
    statuses: set[int] = set()
    if secured:
        # Services raise NotFound for anything out of the caller's scope, Forbidden for actions
        # not theirs, Conflict for writes against the current state, whatever the input.
        statuses |= {400, 401, 403, 404}
        if method != "get":
            statuses.add(409)
    if params or has_body:
        statuses |= {400, 422}
    if has_path:
        statuses.add(404)
    if has_body:
        statuses.add(413)
    return sorted(statuses)


def _schemas_of(response: dict[str, Any]) -> list[dict[str, Any]]:
    content = response.get("content", {}).get("application/json", {})
    return [content["schema"]] if "schema" in content else []


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the standard error responses (and their schemas) to every operation of ``schema``."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for error_model in (ErrorOut, ValidationErrorOut):
        definition = error_model.model_json_schema(ref_template=REF)
        components.update(definition.pop("$defs", {}))
        components[error_model.__name__] = definition
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if operation.pop(idempotency.OPENAPI_MARK, False):
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if str(code).isdigit()}
            for status in sorted({*_statuses(method, operation), *(declared & ERRORS.keys())}):
                description, model = ERRORS[status]
                ref = {"$ref": REF.format(model=model.__name__)}
                existing = responses.get(status) or responses.get(str(status))
                own = [s for s in _schemas_of(existing or {}) if s != ref]
                responses.pop(str(status), None)
                responses[status] = {
                    "description": description,
                    "content": {
                        "application/json": {"schema": {"anyOf": [*own, ref]} if own else ref}
                    },
                }
    return schema
