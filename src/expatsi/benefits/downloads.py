"""Files served from benefits: the signed termination form, as a download that a browser never
renders in place or guesses the type of."""

from __future__ import annotations

from django.http import HttpResponse

from expatsi.benefits.selectors import SignedForm

# The stored type was sniffed from the file's first bytes when it was uploaded; anything else
# (an older row, a hand-edited one) is served as opaque bytes.
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def signed_form_response(form: SignedForm) -> HttpResponse:
    kind = form.content_type if form.content_type in EXTENSIONS else "application/octet-stream"
    extension = EXTENSIONS.get(kind, "bin")
    response = HttpResponse(form.data, content_type=kind)
    response["Content-Disposition"] = (
        f'attachment; filename="termination-{form.termination_id}-signed-form.{extension}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
