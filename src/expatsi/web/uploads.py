"""One way to take an uploaded table: read it under one size cap, preview it, then apply it.

Every bulk import — base declarations and bank statements (billing pages and API), hires (portal),
older physical permits (cards) — reads its file through :func:`upload_read`, capped by the one
setting ``EXPATSI_MAX_UPLOAD_BYTES`` and never reading more than one byte past it, so an oversized
file is refused before it is parsed. A page then checks the file with a dry run
(:func:`upload_check`) and shows the report; when every row is good, :class:`PendingUpload` keeps
what the dry run checked in the user's session under a one-time token, and the page's Import
button posts that token back to apply exactly what was previewed — not a file the browser might
send again, changed. The API has no second step: the caller sends ``dry_run`` with the file.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.utils.translation import gettext as _

from expatsi.rules.errors import RuleError
from expatsi.web.errors import rule_message


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def max_upload_bytes() -> int:
    return int(settings.EXPATSI_MAX_UPLOAD_BYTES)


def _size_text(size: int) -> str:
    """``10 MB`` for whole megabytes (of 1,048,576 bytes, as the cap is set), else ``1000 bytes``."""
    mb, rest = divmod(size, 1024 * 1024)
    return f"{mb} MB" if mb and not rest else f"{size} bytes"


def upload_read(
    file: UploadedFile[Any], *, field: str = "file", default_name: str = "upload.csv"
) -> Upload:
    """The name and bytes of a form's or the API's uploaded file; past the cap a RuleError
    ``too_large`` naming ``field``."""
    limit = max_upload_bytes()
    data = file.read(limit + 1)
    if len(data) > limit:
        size = _size_text(limit)
        raise RuleError("too_large", f"the file is larger than {size}", field, {"size": size})
    return Upload(file.name or default_name, data)


def upload_error_text(exc: RuleError) -> str:
    return rule_message(exc.code, exc.message, exc.params)


def upload_check[R](
    form: forms.Form,
    check: Callable[[Upload], R],
    *,
    field: str = "file",
    message: Callable[[RuleError], str] = upload_error_text,
) -> tuple[Upload, R] | None:
    """Read the valid ``form``'s file and check it (a dry run, or for a page without a second
    step the import itself); a RuleError from either becomes the file field's error, and None."""
    try:
        upload = upload_read(form.cleaned_data[field], field=field)
        return upload, check(upload)
    except RuleError as exc:
        form.add_error(field, message(exc))
        return None


class PendingUpload:
    """A checked upload waiting in the session for the user to confirm it, one per kind."""

    def __init__(self, session_key: str) -> None:
        self.session_key = session_key

    def keep(self, request: HttpRequest, **payload: Any) -> str:
        """Keep what the dry run checked (JSON-serialisable); returns the token to confirm it by."""
        token = secrets.token_urlsafe(16)
        request.session[self.session_key] = {"token": token, **payload}
        return token

    def take(self, request: HttpRequest) -> dict[str, Any] | None:
        """The kept upload the POSTed token confirms; else a message to upload again, and None
        (another tab's upload replaced it, the session ended, or it was applied already)."""
        pending = request.session.get(self.session_key)
        sent = request.POST.get("token", "")
        if not pending or not secrets.compare_digest(
            str(pending.get("token", "")).encode(), sent.encode()
        ):
            messages.error(request, _("That import is no longer pending: upload the file again."))
            return None
        return dict(pending)

    def done(self, request: HttpRequest) -> None:
        request.session.pop(self.session_key, None)
