"""REST API of the Integrated Card: applications, decisions, the card and its QR code, the signed
trust and revocation lists for offline verifiers, and public online verification.

Thin: every operation calls one service or selector; RuleError becomes ``{code, message, field}``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from expatsi.access.actors import client_ip
from expatsi.access.auth import Pagination, api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.openapi import ErrorOut
from expatsi.access.validation import Day, Text
from expatsi.cards import (
    documents,
    keys,
    permissions,
    picker,
    selectors,
    services,
    verification,
)
from expatsi.cards.models import ApplicationDocument, Card, CardApplication, CardEvent
from expatsi.credentials import qr
from expatsi.employers.selectors import employer_get
from expatsi.insurance.selectors import person_get
from expatsi.people.models import Person
from expatsi.rules.errors import Forbidden, NotFound, RuleError

router = Router(tags=["cards"], auth=api_auth)
verify_router = Router(tags=["verify"])

COSE = "application/cose"
LIST_MAX_AGE = keys.REVOCATION_LIST_MAX_AGE


# --- schemas ------------------------------------------------------------------------------------


class EventOut(Schema):
    at: datetime
    action: str
    from_status: str
    to_status: str
    actor_label: str
    detail: dict[str, Any]


class ApplicationOut(Schema):
    id: int
    card_id: int
    kind: str
    status: str
    filed_as: str
    filed_at: datetime
    request: dict[str, Any]  # a new passport number whole or ``****1234`` (people/permissions.py)
    event_date: date | None
    deadline: date | None
    late: bool
    decided_at: datetime | None
    reason: str

    @staticmethod
    def resolve_request(obj: CardApplication, context: dict[str, Any]) -> dict[str, Any]:
        return selectors.application_request_for(request_actor(context["request"]), obj)


class CardSummaryOut(Schema):
    id: int
    card_number: str | None
    permit_number: str
    person_id: int
    name: str
    employer_id: int
    employer: str
    category: str
    status: str
    valid_from: date | None
    valid_to: date | None
    legacy: bool

    @staticmethod
    def resolve_name(obj: Card) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_employer(obj: Card) -> str:
        return obj.employer.name


class CardOut(CardSummaryOut):
    ssn: str | None
    nationality: str
    position: str
    notice_issued_on: date | None
    notice_valid_to: date | None
    entry_date: date | None
    residence_permit_due: date | None
    deregistered_on: date | None
    deregistration_reason: str
    qr_text: str | None
    history: list[EventOut]
    applications: list[ApplicationOut]

    @staticmethod
    def resolve_ssn(obj: Card) -> str | None:
        return obj.person.ssn

    @staticmethod
    def resolve_nationality(obj: Card) -> str:
        return obj.person.nationality

    @staticmethod
    def resolve_qr_text(obj: Card) -> str | None:
        tok = selectors.card_current_token(obj)
        return tok.text if tok else None

    @staticmethod
    def resolve_history(obj: Card) -> QuerySet[CardEvent]:
        return selectors.card_history(obj)

    @staticmethod
    def resolve_applications(obj: Card) -> QuerySet[CardApplication]:
        return selectors.card_applications(obj)


class ApplyIn(Schema):
    employer_id: int
    person_id: int
    category: str
    position: Annotated[str, Text(200)]
    valid_to: Day


class EntryIn(Schema):
    entry_date: Day


class ExtensionIn(Schema):
    new_valid_to: Day


class ChangeIn(Schema):
    changes: dict[str, Annotated[str, Text(200)]]
    change_date: Day


class DeregistrationIn(Schema):
    reason: Annotated[str, Text(30)]
    end_date: Day


class DecisionIn(Schema):
    approve: bool
    reason: Annotated[str, Text(300, multiline=True)] = ""


class VerifyIn(Schema):
    text: str


class VerifyOut(Schema):
    result: str
    label: str
    message: str
    card: dict[str, str] | None
    kid: str
    # The holder's photo for a valid code (a link that expires; empty without a photo).
    photo_url: str = ""


# --- the card -----------------------------------------------------------------------------------


def _card(request: HttpRequest, card_id: int) -> Card:
    return selectors.card_get(actor=request_actor(request), card_id=card_id)


@router.get("", response=list[CardSummaryOut])
@paginate(Pagination)
def card_list(request: HttpRequest, status: str = "", q: str = "") -> QuerySet[Card]:
    return selectors.card_list(actor=request_actor(request), status=status, query=q)


@router.post("", response={201: ApplicationOut})
@idempotent()
def card_apply(request: HttpRequest, payload: ApplyIn) -> Status[CardApplication]:
    """First application for a foreigner new to China (the work permit notice and the card)."""
    actor = request_actor(request)
    employer = employer_get(actor=actor, employer_id=payload.employer_id)
    person = person_get(actor=actor, person_id=payload.person_id, audit=False)
    app = services.card_apply(
        actor=actor,
        employer=employer,
        person=person,
        category=payload.category,
        position=payload.position,
        valid_to=payload.valid_to,
    )
    return Status(201, app)


@router.get("/applications", response=list[ApplicationOut])
@paginate(Pagination)
def application_list(request: HttpRequest, status: str = "submitted") -> QuerySet[CardApplication]:
    """Applications the caller may see; for agency staff the default is the decision queue."""
    return selectors.application_list(actor=request_actor(request), status=status)


@router.post("/applications/{application_id}/decision", response=ApplicationOut)
@idempotent()
def application_decide(
    request: HttpRequest, application_id: int, payload: DecisionIn
) -> CardApplication:
    return services.application_decide(
        actor=request_actor(request),
        application_id=application_id,
        approve=payload.approve,
        reason=payload.reason,
    )


@router.get("/trust-list", auth=None)
def trust_list(request: HttpRequest) -> HttpResponse:
    """The signed list of every public key that signs card codes (COSE_Sign1 over CBOR)."""
    response = HttpResponse(keys.trust_list_document(), content_type=COSE)
    response["Cache-Control"] = "public, max-age=3600"
    response["Content-Disposition"] = 'attachment; filename="trust-list.cose"'
    return response


@router.get("/revocations", auth=None)
def revocations(request: HttpRequest) -> HttpResponse:
    """The signed list of truncated hashes of revoked codes, with the time it was issued."""
    issued_at = keys.revocation_list().issued_at
    response = HttpResponse(keys.revocation_list_document(), content_type=COSE)
    response["Cache-Control"] = f"public, max-age={LIST_MAX_AGE}"
    issued = datetime.fromtimestamp(issued_at, tz=UTC)
    response["Last-Modified"] = format_datetime(issued, usegmt=True)
    response["X-Revocation-List-Issued-At"] = issued.isoformat()
    response["Content-Disposition"] = 'attachment; filename="revocations.cose"'
    return response


@router.get("/anchor.pem", auth=None)
def anchor_public_key(request: HttpRequest) -> HttpResponse:
    """The trust anchor's public key, which verifiers pin (compare it out of band)."""
    from cryptography.hazmat.primitives import serialization

    pem = (
        keys.keyring()
        .anchor.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@router.get("/{card_id}", response=CardOut)
def card_detail(request: HttpRequest, card_id: int) -> Card:
    return _card(request, card_id)


@router.get("/{card_id}/qr.png")
def card_qr_png(request: HttpRequest, card_id: int) -> HttpResponse:
    tok = selectors.card_current_token(_card(request, card_id))
    if tok is None:
        raise RuleError("no_code", "this card has no code in force", "card_id")
    response = HttpResponse(qr.png(tok.text), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@router.post("/{card_id}/entry", response=CardOut)
@idempotent()
def card_record_entry(request: HttpRequest, card_id: int, payload: EntryIn) -> Card:
    return services.card_record_entry(
        actor=request_actor(request), card_id=card_id, entry_date=payload.entry_date
    )


@router.post(
    "/{card_id}/photo",
    response=CardOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"photo": {"type": "string", "format": "binary"}},
                        "required": ["photo"],
                    }
                }
            }
        }
    },
)
@idempotent()
def card_photo(request: HttpRequest, card_id: int) -> Card:
    """Attach the holder's photo (JPEG or PNG, multipart ``photo``); an active card's QR code is
    re-issued because it carries the photo's fingerprint. Over 2 MB or 16 megapixels: 413
    ``photo_too_large`` (pixels are counted from the header, before decoding)."""
    _card(request, card_id)
    upload = request.FILES.get("photo")
    data = upload.read(services.PHOTO_MAX_BYTES + 1) if upload else b""
    return services.card_photo_set(actor=request_actor(request), card_id=card_id, photo=data)


@router.post("/{card_id}/extension", response={201: ApplicationOut})
@idempotent()
def card_extend(
    request: HttpRequest, card_id: int, payload: ExtensionIn
) -> Status[CardApplication]:
    _card(request, card_id)
    app = services.card_extend_request(
        actor=request_actor(request), card_id=card_id, new_valid_to=payload.new_valid_to
    )
    return Status(201, app)


@router.post("/{card_id}/change", response={201: ApplicationOut})
@idempotent()
def card_change(request: HttpRequest, card_id: int, payload: ChangeIn) -> Status[CardApplication]:
    _card(request, card_id)
    app = services.card_change_request(
        actor=request_actor(request),
        card_id=card_id,
        changes=payload.changes,
        change_date=payload.change_date,
    )
    return Status(201, app)


@router.post("/{card_id}/deregistration", response={201: ApplicationOut})
@idempotent()
def card_deregister(
    request: HttpRequest, card_id: int, payload: DeregistrationIn
) -> Status[CardApplication]:
    _card(request, card_id)
    app = services.card_deregister_request(
        actor=request_actor(request),
        card_id=card_id,
        reason=payload.reason,
        end_date=payload.end_date,
    )
    return Status(201, app)


# --- public verification ------------------------------------------------------------------------

VERIFY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "format": "binary"},
                        "text": {"type": "string"},
                    },
                }
            },
        },
    }
}


@verify_router.post("", response={200: VerifyOut, 429: ErrorOut}, openapi_extra=VERIFY_BODY)
def verify(request: HttpRequest) -> HttpResponse:
    """Check a card's code: ``{"text": "EXP1:…"}`` as JSON, or a photo as multipart ``image``.

    Public and rate limited per client address (429 ``rate_limited``); every check is logged.
    An image of more than 16 megapixels is refused from its header, before decoding (413
    ``image_too_large``); a damaged or cut-short image is 400 ``unreadable_image``.
    """
    text = ""
    image: bytes | None = None
    if (request.content_type or "").startswith("multipart/"):
        upload = request.FILES.get("image")
        text = str(request.POST.get("text", ""))
        if upload is not None:
            image = upload.read(verification.MAX_IMAGE_BYTES + 1)
    else:
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):  # deep nesting is a RecursionError
            raise RuleError(
                "invalid_json", 'the body must be JSON: {"text": "EXP1:…"}', "text"
            ) from None
        raw = body.get("text") if isinstance(body, dict) else None
        if not isinstance(raw, str):
            raise RuleError("required", 'send the code as {"text": "EXP1:…"}', "text")
        text = raw
    answer = verification.verify_online(ip=client_ip(request), via="api", text=text, image=image)
    # Already the documented shape (VerifyOut): sent as is, without a second validation per check.
    return JsonResponse(answer.as_dict())


# --- an application's documents (cards/documents.py) --------------------------------------------


class ApplicationDocumentOut(Schema):
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "kind": {
                            "type": "string",
                            "enum": [
                                "passport_scan",
                                "labour_contract",
                                "degree",
                                "medical_report",
                            ],
                        },
                        "file": {"type": "string", "format": "binary"},
                    },
                    "required": ["kind", "file"],
                }
            }
        },
    }
}


@router.post(
    "/applications/{application_id}/documents",
    response={201: ApplicationDocumentOut, 413: ErrorOut},
    openapi_extra=DOCUMENT_BODY,
)
@idempotent()
def application_document_upload(
    request: HttpRequest, application_id: int
) -> Status[ApplicationDocument]:
    """Attach one document to an application awaiting a decision (multipart ``kind`` and
    ``file``); a second upload of the same kind replaces the first. PDF, JPEG or PNG as the bytes
    show, whatever the name says (400 ``document_type``); over the cap 413
    ``document_too_large``."""
    upload = request.FILES.get("file")
    data = upload.read(documents.document_max_bytes() + 1) if upload else b""
    doc = documents.document_attach(
        actor=request_actor(request),
        application_id=application_id,
        kind=str(request.POST.get("kind", "")),
        data=data,
        filename=(upload.name or "") if upload else "",
    )
    return Status(201, doc)


@router.get("/applications/{application_id}/documents", response=list[ApplicationDocumentOut])
def application_document_list(
    request: HttpRequest, application_id: int
) -> QuerySet[ApplicationDocument]:
    """The application's documents (without their bytes)."""
    actor = request_actor(request)
    app = selectors.application_get(actor=actor, application_id=application_id)
    if not permissions.may_see_card_documents(actor, app.card):
        raise NotFound("not_found", f"no application {application_id}", "application_id")
    return documents.application_documents(app)


@router.get("/applications/{application_id}/documents/{document_id}")
def application_document_download(
    request: HttpRequest, application_id: int, document_id: int
) -> HttpResponse:
    """The document's bytes; every read is audited."""
    doc = documents.document_read(
        actor=request_actor(request), application_id=application_id, document_id=document_id
    )
    response = HttpResponse(doc.data, content_type=doc.content_type)
    response["Content-Disposition"] = f'attachment; filename="{doc.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the application form's person picker, for HR systems (cards/picker.py) ---------------------


class ApplicationCandidateOut(Schema):
    """A person one may file a first card application for: employed (now or from a later date)
    by the employer, with no card in progress or in force."""

    id: int
    family_name: str
    given_names: str
    chinese_name: str
    ssn: str | None


@router.get("/applications/candidates", response=list[ApplicationCandidateOut])
def application_candidates(
    request: HttpRequest, q: str = "", employer_id: int | None = None
) -> list[Person]:
    """At most 20 people a first application may be filed for, in the caller's scope, whose
    family, given or Chinese name, social security number or document number starts with ``q``
    (or whose passport number is ``q``): the portal's picker as data. Each search that finds
    someone is audited."""
    actor = request_actor(request)
    if not permissions.may_open_application_form(actor):
        raise Forbidden("forbidden", "only an employer's HR and agency staff apply for cards", "")
    if employer_id is not None:
        employer_id = picker.applicable_employer(actor, employer_id)
    shown, _searched, _more = picker.people_search(actor=actor, query=q, employer_id=employer_id)
    return shown
