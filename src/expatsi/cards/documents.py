"""The documents of a card application: passport scan, labour contract, degree, medical report.

A document is taken as what its bytes are, never as what its name or the browser's content type
claim: a PDF must start with ``%PDF-`` and end with its ``%%EOF`` marker (a file cut short is
refused), a JPEG or PNG must decode completely (through :mod:`expatsi.images`, which refuses a
decompression bomb from its header). Anything else is refused, whatever it is called.

Each document is capped at :data:`DOCUMENT_MAX_BYTES`, or at ``EXPATSI_MAX_UPLOAD_BYTES`` when
that setting is lower. The bytes are read only through :func:`document_read`, which writes an
audit event: passport scans and medical reports are personal data of the most sensitive kind.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.cards import permissions, services
from expatsi.cards.models import (
    ApplicationDocument,
    ApplicationStatus,
    CardApplication,
    DocumentKind,
)
from expatsi.employers.models import Employer
from expatsi.images import decode
from expatsi.people.models import Person
from expatsi.rules.errors import Conflict, NotFound, RuleError

# A scanned multi-page contract at 300 dpi fits; larger files are usually unreduced photos.
DOCUMENT_MAX_BYTES = 5 * 1024 * 1024

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}


class DocumentTooLarge(RuleError):
    status = 413


def document_max_bytes() -> int:
    """The cap on one document: 5 MB, or the site's upload cap when that is lower."""
    return min(DOCUMENT_MAX_BYTES, int(settings.EXPATSI_MAX_UPLOAD_BYTES))


def max_size_text() -> str:
    size = document_max_bytes()
    mb, rest = divmod(size, 1024 * 1024)
    return f"{mb} MB" if mb and not rest else f"{size} bytes"


def _refused(field: str) -> RuleError:
    return RuleError(
        "document_type", "the document must be a complete PDF, JPEG or PNG file", field
    )


def sniff(data: bytes, *, field: str = "file") -> str:
    """The content type the bytes really are (PDF, JPEG, PNG), or a RuleError on ``field``:
    ``document_required`` (empty), ``document_too_large`` (413) or ``document_type``."""
    if not data:
        raise RuleError("document_required", "upload the document", field)
    if len(data) > document_max_bytes():
        size = max_size_text()
        raise DocumentTooLarge(
            "document_too_large", f"the document is larger than {size}", field, {"size": size}
        )
    if data.startswith(b"%PDF-"):
        # Writers may add a line break or a few bytes after the marker; a truncated file has none.
        if b"%%EOF" not in data[-1024:]:
            raise _refused(field)
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        kind, formats = JPEG, ("JPEG",)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind, formats = PNG, ("PNG",)
    else:
        raise _refused(field)
    try:
        decode(data, field=field, formats=formats, what="the document")
    except RuleError as exc:
        if exc.code == "image_too_large":
            raise DocumentTooLarge(
                "document_too_many_pixels", "the image has more than 16 megapixels", field
            ) from None
        raise _refused(field) from None
    return kind


def _safe_name(filename: str, content_type: str, kind: str) -> str:
    """A name to offer on download: the uploader's stem (printable, short) with the extension of
    what the bytes are, so a ``.exe`` that is a PDF downloads as ``.pdf``."""
    stem = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    stem = "".join(c for c in stem if c.isalnum() or c in "-_ ").strip()[:80] or kind
    return f"{stem}.{EXTENSIONS[content_type]}"


# --- writes -----------------------------------------------------------------------------------


def document_attach(
    *, actor: Actor, application_id: int, kind: str, data: bytes, filename: str = ""
) -> ApplicationDocument:
    """Attach (or replace) one document of an application awaiting a decision: the employer's HR
    or agency staff of its region. Checked before anything is written."""
    if kind not in DocumentKind.values:
        raise RuleError("invalid_document_kind", "choose which document this is", "kind")
    content_type = sniff(data)
    with transaction.atomic():
        app = (
            CardApplication.objects.select_for_update()
            .select_related("card", "card__employer")
            .filter(pk=application_id)
            .first()
        )
        if app is None or not permissions.may_see_card_documents(actor, app.card):
            raise NotFound("not_found", f"no application {application_id}", "application_id")
        permissions.require_attach_documents(actor, app.card)
        if app.status != ApplicationStatus.SUBMITTED:
            raise Conflict("already_decided", f"the application is already {app.status}", "status")
        digest = hashlib.sha256(data).hexdigest()
        doc, _created = ApplicationDocument.objects.update_or_create(
            application=app,
            kind=kind,
            defaults={
                "filename": _safe_name(filename, content_type, kind),
                "content_type": content_type,
                "size": len(data),
                "sha256": digest,
                "data": data,
                "uploaded_by_id": actor.user_id,
            },
        )
        audit_record(
            actor=actor,
            action="card.document_attach",
            object_type="card",
            object_id=app.card_id,
            person_id=app.card.person_id,
            detail={"application": app.pk, "kind": kind, "size": len(data)},
        )
    return doc


def documents_attach(
    *, actor: Actor, application_id: int, files: dict[str, tuple[str, bytes]]
) -> list[ApplicationDocument]:
    """Several documents at once (the application form), all or none."""
    with transaction.atomic():
        return [
            document_attach(
                actor=actor, application_id=application_id, kind=kind, data=data, filename=name
            )
            for kind, (name, data) in files.items()
        ]


def card_apply_with_documents(
    *,
    actor: Actor,
    employer: Employer,
    person: Person,
    category: str,
    position: str,
    valid_to: date,
    files: dict[str, tuple[str, bytes]],
) -> CardApplication:
    """The first application and its documents in one transaction: if a document is refused,
    nothing is filed (no card left half applied for)."""
    with transaction.atomic():
        app = services.card_apply(
            actor=actor,
            employer=employer,
            person=person,
            category=category,
            position=position,
            valid_to=valid_to,
        )
        documents_attach(actor=actor, application_id=app.pk, files=files)
    return app


# --- reads ------------------------------------------------------------------------------------


def application_documents(app: CardApplication) -> QuerySet[ApplicationDocument]:
    """The application's documents without their bytes (a list needs no megabytes)."""
    return app.documents.defer("data").order_by("kind")


@dataclass(frozen=True)
class DocumentFile:
    filename: str
    content_type: str
    data: bytes


def document_read(*, actor: Actor, application_id: int, document_id: int) -> DocumentFile:
    """The bytes of one document, for the employer's HR and agency staff of its region; every
    read is audited."""
    doc = (
        ApplicationDocument.objects.select_related(
            "application__card__employer", "application__card"
        )
        .filter(pk=document_id, application_id=application_id)
        .first()
    )
    if doc is None or not permissions.may_see_card_documents(actor, doc.application.card):
        raise NotFound("not_found", f"no document {document_id}", "document_id")
    card = doc.application.card
    audit_record(
        actor=actor,
        action="card.document_read",
        object_type="card",
        object_id=card.pk,
        person_id=card.person_id,
        detail={"application": application_id, "kind": doc.kind},
    )
    return DocumentFile(doc.filename, doc.content_type, bytes(doc.data))
