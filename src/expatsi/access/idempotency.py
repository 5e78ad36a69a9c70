"""``Idempotency-Key`` for POSTs that create something: a retried request is answered, not redone.

Same principal + same key + same request (method, path, body) → the stored answer is replayed with
``Idempotent-Replayed: true`` and nothing is created again. The same key with a different request →
422 ``idempotency_key_reused``. Only successful (2xx) answers are stored: a request that failed
wrote nothing and may be retried with the same key once corrected.

The record is inserted before the work and completed after it, all in one transaction: a
concurrent duplicate blocks on the unique (principal, key) row and then replays the first answer;
if the first fails and rolls back, the duplicate proceeds on its own.

Fields listed in ``redact`` are removed from the stored answer (an API token's secret is shown
once and never stored in clear, not even here); a replay answers without them.

Use it under the route decorator::

    @router.post("/things", response={201: ThingOut})
    @idempotent()
    def thing_create(request, payload: ThingIn): ...
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from ninja.decorators import decorate_view
from ninja.operation import Operation
from ninja.utils import contribute_operation_callback

from expatsi.access.auth import authenticate
from expatsi.access.models import IdempotencyRecord
from expatsi.rules.errors import RuleError

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 200
OPENAPI_MARK = "x-idempotent"

F = TypeVar("F", bound=Callable[..., Any])


def _error(code: str, message: str, status: int) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message, "field": HEADER}
    if status == 422:  # every 422 of the API lists its problems, like a validation error
        body["errors"] = [{"type": code, "loc": ["header", HEADER], "msg": message}]
    return JsonResponse(body, status=status)


def principal_of(request: HttpRequest) -> str | None:
    """Who is asking, from the credentials as sent (the same precedence as the authentication):
    ``token:<digest>`` for a bearer token, ``user:<id>`` for a session, None for nobody."""
    header = request.headers.get("Authorization", "")
    if header:
        secret = header.partition(" ")[2].strip()
        return "token:" + hashlib.sha256(secret.encode()).hexdigest() if secret else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def request_digest(request: HttpRequest) -> str:
    """SHA-256 over the request's content: the raw body, or for multipart the fields and files
    (a multipart boundary differs on every send, so the raw body cannot be compared)."""
    h = hashlib.sha256()
    h.update(f"{request.method} {request.path}\n".encode())
    if (request.content_type or "").startswith("multipart/"):
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                h.update(f"field {name}={value}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                file_hash = hashlib.sha256()
                for chunk in upload.chunks():
                    file_hash.update(chunk)
                upload.seek(0)
                h.update(f"file {name}={file_hash.hexdigest()}\n".encode())
    else:
        h.update(request.body)
    return h.hexdigest()


def _replay(record: IdempotencyRecord, request: HttpRequest, digest: str) -> HttpResponse:
    if (
        record.request_digest != digest
        or record.method != request.method
        or record.path != request.path
    ):
        return _error(
            "idempotency_key_reused",
            "this Idempotency-Key was already used for a different "
            "request; use a new key for a new request",
            422,
        )
    if not record.status_code:
        return _error(
            "idempotency_key_in_progress",
            "a request with this Idempotency-Key is still being processed; retry shortly",
            409,
        )
    response = HttpResponse(
        record.response_body, status=record.status_code, content_type="application/json"
    )
    response[REPLAY_HEADER] = "true"
    return response


def _redacted(content: bytes, redact: tuple[str, ...]) -> str:
    text = content.decode()
    if not redact:
        return text
    data = json.loads(text)
    if isinstance(data, dict):
        for name in redact:
            if name in data:
                data[name] = None
    return json.dumps(data, ensure_ascii=False)


def _idempotent_run(
    run: Callable[..., HttpResponseBase], redact: tuple[str, ...]
) -> Callable[..., HttpResponseBase]:
    @functools.wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = request.headers.get(HEADER, "").strip()
        principal = principal_of(request)
        if not key or principal is None:  # no key, or no credentials (the run answers 401)
            return run(request, *args, **kwargs)
        try:  # credentials first: a revoked token or a removed user gets no replay either
            authenticate(request)
        except RuleError as exc:
            return JsonResponse(
                {"code": exc.code, "message": exc.message, "field": exc.field}, status=exc.status
            )
        if len(key) > MAX_KEY_LENGTH:
            return _error("invalid_idempotency_key", f"at most {MAX_KEY_LENGTH} characters", 400)
        digest = request_digest(request)
        with transaction.atomic():
            existing = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
            if existing is not None:
                return _replay(existing, request, digest)
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        key=key,
                        principal=principal,
                        method=request.method or "POST",
                        path=request.path[:300],
                        request_digest=digest,
                        status_code=0,
                        response_body="",
                    )
            except IntegrityError:  # a concurrent request with the same key committed first
                return _replay(
                    IdempotencyRecord.objects.get(principal=principal, key=key), request, digest
                )
            response = run(request, *args, **kwargs)
            if 200 <= response.status_code < 300 and isinstance(response, HttpResponse):
                record.status_code = response.status_code
                record.response_body = _redacted(response.content, redact)
                record.save(update_fields=["status_code", "response_body"])
            else:
                transaction.set_rollback(True)  # failed: nothing written, the key stays free
            return response

    return wrapper


def _mark(operation: Operation) -> None:
    """Flag the operation for the OpenAPI document, which lists the header (access/openapi.py)."""
    operation.openapi_extra = {**(operation.openapi_extra or {}), OPENAPI_MARK: True}


def idempotent(*, redact: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Honour ``Idempotency-Key`` on this operation (see the module docstring)."""

    def decorator(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        return _idempotent_run(run, redact)

    def apply(view: F) -> F:
        contribute_operation_callback(view, _mark)
        return decorate_view(decorator)(view)

    return apply
