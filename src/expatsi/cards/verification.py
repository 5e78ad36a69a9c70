"""Online verification of a card's QR code: the public page and ``POST /api/v1/verify`` share it.

The answer is one of valid / expired / not_yet_valid / revoked / unknown_key / tampered / malformed,
with a sentence in the reader's language, and the card's data only where the code carries it — never
more than the card itself shows. Online checks also ask the database whether the token has been
revoked (the signed revocation list a server hands out may be up to a minute old) — through the
process's revocation set (cards/revocations.py: a revocation made elsewhere counts within 5 s),
not a query per check. Every check is logged without the code's text, in batches
(cards/verification_log.py); each client address gets a limited number of checks per minute.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from expatsi import images
from expatsi.access.crypto import masked
from expatsi.access.throttle import fixed_window
from expatsi.cards import keys, revocations, verification_log
from expatsi.cards.models import Card
from expatsi.credentials import qr
from expatsi.credentials import token as qr_token
from expatsi.credentials.trust import revocation_hash
from expatsi.rules.errors import RuleError

RATE_PER_MINUTE = 30
MAX_IMAGE_BYTES = 8 * 1024 * 1024
RESULTS = ("valid", "expired", "not_yet_valid", "revoked", "unknown_key", "tampered", "malformed")


class RateLimitedError(RuleError):
    status = 429
    retry_after = 60  # seconds until the next minute's budget (the Retry-After header)


def rate_per_minute() -> int:
    return int(getattr(settings, "EXPATSI_VERIFY_RATE_PER_MINUTE", RATE_PER_MINUTE))


def rate_limit(ip: str) -> None:
    """A counter per client address and minute in Django's cache (shared by all app servers when the
    cache is)."""
    count, retry_after = fixed_window(f"expatsi:verify-rate:{ip}", 60)
    if count > rate_per_minute():
        error = RateLimitedError(
            "rate_limited",
            _("Too many checks from your address: wait a minute and try again."),
            "",
        )
        error.retry_after = retry_after
        raise error


def result_label(result: str) -> str:
    # One gettext per check, not one per possible result.
    if result == "valid":
        return _("Valid")
    if result == "expired":
        return _("Expired")
    if result == "not_yet_valid":
        return _("Not yet valid")
    if result == "revoked":
        return _("Revoked")
    if result == "unknown_key":
        return _("Unknown key")
    if result == "tampered":
        return _("Tampered")
    if result == "malformed":
        return _("Not a card code")
    return result


def result_message(v: qr_token.Verification) -> str:
    claims = v.claims
    if v.result == "valid" and claims:
        return _("This card code is genuine and in force until %(date)s.") % {
            "date": date_format(claims.valid_to, "DATE_FORMAT")
        }
    if v.result == "expired" and claims:
        return _("The signature is genuine, but the card expired on %(date)s.") % {
            "date": date_format(claims.valid_to, "DATE_FORMAT")
        }
    if v.result == "not_yet_valid" and claims:
        return _("The signature is genuine, but the card is valid only from %(date)s.") % {
            "date": date_format(claims.valid_from, "DATE_FORMAT")
        }
    if v.result == "revoked":
        return _(
            "This code has been revoked: the card was changed, extended or cancelled. Ask the "
            "holder to show the current code."
        )
    if v.result == "unknown_key":
        return _("The code was not signed by a key on the agency's trust list: do not rely on it.")
    if v.result == "tampered":
        return _("The code is damaged or has been altered: do not rely on it.")
    return _("This is not an Integrated Card code (it must start with %(prefix)s).") % {
        "prefix": qr_token.PREFIX
    }


@dataclass(frozen=True)
class Answer:
    result: str
    label: str
    message: str
    card: dict[str, str] | None
    kid: str
    photo_url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "label": self.label,
            "message": self.message,
            "card": self.card,
            "kid": self.kid,
            "photo_url": self.photo_url,
        }


# --- the holder's photo for whoever checks a valid code ------------------------------------------
#
# The checker compares the photo with the person in front of them. It is served only by a
# reference this server signs after it has verified a genuine, unrevoked, valid code carrying the
# photo's hash (the QR code itself is signed by the agency's key): without a valid code in hand
# nobody can name a photo, and references expire, so the route lists nothing and cannot be walked.

PHOTO_SALT = "expatsi.cards.verify-photo"
PHOTO_REFERENCE_MAX_AGE = 15 * 60  # seconds: long enough to look, short enough not to be shared


def photo_reference(photo_hash: str) -> str:
    return signing.dumps(photo_hash, salt=PHOTO_SALT)


def photo_by_reference(reference: str) -> bytes | None:
    """The photo a reference from :func:`photo_reference` names, or None (bad, expired, gone)."""
    try:
        photo_hash = signing.loads(reference, salt=PHOTO_SALT, max_age=PHOTO_REFERENCE_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if not isinstance(photo_hash, str) or not photo_hash:
        return None
    photo = (
        Card.objects.filter(photo_hash=photo_hash, photo__isnull=False)
        .order_by("-pk")
        .values_list("photo", flat=True)
        .first()
    )
    return bytes(photo) if photo else None


# Whether a photo with a given hash is on file, remembered per process for a minute (at most
# PHOTO_SEEN_MAX hashes): it only decides whether the answer carries a link. The link's target
# (photo_by_reference) reads the database again, so a photo removed meanwhile is never served.
PHOTO_SEEN_SECONDS = 60.0
PHOTO_SEEN_MAX = 10_000
_photo_seen: dict[str, tuple[float, bool]] = {}
_photo_lock = threading.Lock()


def _photo_on_file(photo_hash: str) -> bool:
    now = time.monotonic()
    hit = _photo_seen.get(photo_hash)
    if hit is not None and now - hit[0] < PHOTO_SEEN_SECONDS:
        return hit[1]
    found = Card.objects.filter(photo_hash=photo_hash, photo__isnull=False).exists()
    with _photo_lock:
        if len(_photo_seen) >= PHOTO_SEEN_MAX:
            _photo_seen.clear()
        _photo_seen[photo_hash] = (now, found)
    return found


def forget_photos() -> None:
    """Forget which photos were seen (tests; a restore of the database)."""
    with _photo_lock:
        _photo_seen.clear()


def _photo_url(v: qr_token.Verification) -> str:
    photo_hash = v.claims.photo_hash if v.claims is not None else ""
    if v.result != "valid" or not photo_hash:
        return ""
    if not _photo_on_file(photo_hash):
        return ""
    return reverse("cards:verify_photo", args=[photo_reference(photo_hash)])


def _revoked_now(v: qr_token.Verification) -> bool:
    """Whether the verified code's revocation handle is revoked now (the signed list may lag a
    minute; the process's revocation set at most a few seconds: cards/revocations.py)."""
    return bool(v.signature) and revocations.is_revoked(revocation_hash(v.signature).hex())


def text_from_image(data: bytes) -> str:
    """The QR code's text in a photo or screenshot; a bad image is a RuleError on ``image``.

    Too many pixels (a decompression bomb) is refused from the image's header, before decoding.
    """
    if not data:
        raise RuleError("empty_image", _("The image is empty."), "image")
    if len(data) > MAX_IMAGE_BYTES:
        raise images.ImageTooLarge(
            "image_too_large", _("The image is too large (at most 8 MB)."), "image"
        )
    try:
        found = qr.read_image(data, field="image")
    except images.ImageTooLarge:
        raise images.ImageTooLarge(
            "image_too_large",
            _(
                "The image has too many pixels (at most %(megapixels)s megapixels): send a "
                "smaller photo of the code."
            )
            % {"megapixels": images.UPLOAD_MAX_PIXELS // 1_000_000},
            "image",
        ) from None
    except Exception:  # a corrupt or truncated image (RuleError), or anything Pillow raises
        raise RuleError(
            "unreadable_image", _("This file is not an image we can read (PNG or JPEG)."), "image"
        ) from None
    if not found:
        raise RuleError(
            "no_code_found",
            _("No QR code was found in the image: take a sharper photo of the whole code."),
            "image",
        )
    return found[0]


def verify_text(text: str, *, online: bool = True) -> Answer:
    v = qr_token.verify(text, keys.trust_list(), keys.revocation_list())
    if online and v.result in ("valid", "expired", "not_yet_valid") and _revoked_now(v):
        v = qr_token.Verification("revoked", v.claims, v.kid, "revoked", signature=v.signature)
    shown = v.claims.as_dict() if v.claims and v.result != "malformed" else None
    if shown and shown.get("ssn"):
        # A check says whether the card is genuine; the holder's number is theirs to give, so
        # anyone checking sees its tail only (the name and permit number identify the card).
        shown["ssn"] = masked(str(shown["ssn"]))
    return Answer(v.result, result_label(v.result), result_message(v), shown, v.kid, _photo_url(v))


def verify_online(*, ip: str, via: str, text: str = "", image: bytes | None = None) -> Answer:
    """Rate limit, read the code (text or image), verify, log. Bad input raises RuleError."""
    rate_limit(ip)
    if image is not None and not text.strip():
        text = text_from_image(image)
    if not text.strip():
        raise RuleError("required", _("Paste the code's text or upload a photo of it."), "text")
    answer = verify_text(text)
    verification_log.record(
        ip=ip,
        result=answer.result,
        kid=answer.kid,
        card_number=(answer.card or {}).get("card_number", ""),
        via=via,
    )
    return answer
