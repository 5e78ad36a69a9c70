"""The holder's photo: uploaded by the employer, normalised, fingerprinted in the QR code."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from expatsi.cards import keys
from expatsi.credentials import token as qr_token
from tests.api.conftest import World

from .helpers import active_card

pytestmark = pytest.mark.django_db


def jpeg(size=(300, 400), fmt="JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 160, 200)).save(out, format=fmt)
    return out.getvalue()


def verify(text: str) -> qr_token.Verification:
    return qr_token.verify(text, keys.trust_list(), keys.revocation_list(fresh=True))


def test_hr_uploads_a_photo_and_the_code_is_reissued_with_its_fingerprint(world: World) -> None:
    card = active_card(world.a, world.pa)
    old = card.tokens.get()
    r = world.client("hr_a").post(
        f"/cards/{card.pk}/photo.jpg",
        {"photo": SimpleUploadedFile("me.png", jpeg(fmt="PNG"), content_type="image/png")},
    )
    assert r.status_code == 302
    card.refresh_from_db()
    stored = bytes(card.photo)
    assert stored[:3] == b"\xff\xd8\xff"  # re-encoded as JPEG
    assert card.photo_hash == hashlib.sha256(stored).hexdigest()[:32]
    assert verify(old.text).result == "revoked"
    current = card.tokens.filter(revoked_at__isnull=True).get()
    result = verify(current.text)
    assert result.result == "valid"
    assert result.claims is not None and result.claims.photo_hash == card.photo_hash
    # The holder sees it; another employer's HR does not.
    assert world.client("self").get(f"/cards/{card.pk}/photo.jpg").content == stored
    assert world.client("hr_b").get(f"/cards/{card.pk}/photo.jpg").status_code == 404
    assert 'id="card-photo"' in world.client("self").get(f"/cards/{card.pk}/").content.decode()


@pytest.mark.parametrize("payload", [b"", b"not an image", jpeg(size=(50, 50)), jpeg(fmt="GIF")])
def test_bad_photos_are_refused_and_nothing_changes(world: World, payload: bytes) -> None:
    card = active_card(world.a, world.pa)
    r = world.client("token_a").post(
        f"/api/v1/cards/{card.pk}/photo",
        {"photo": SimpleUploadedFile("x.jpg", payload, content_type="image/jpeg")}
        if payload
        else {},
    )
    assert r.status_code == 400
    assert r.json()["field"] == "photo"
    card.refresh_from_db()
    assert not card.photo
    assert card.tokens.filter(revoked_at__isnull=True).count() == 1


def test_the_holder_cannot_replace_the_photo(world: World) -> None:
    card = active_card(world.a, world.pa)
    r = world.client("self").post(
        f"/api/v1/cards/{card.pk}/photo",
        {"photo": SimpleUploadedFile("me.jpg", jpeg(), content_type="image/jpeg")},
    )
    assert r.status_code == 403
    assert r.json()["code"] == "employer_files"


def test_the_pdf_carries_the_photo(world: World) -> None:
    card = active_card(world.a, world.pa)
    without = world.client("self").get(f"/cards/{card.pk}/card.pdf").content
    world.client("hr_a").post(
        f"/cards/{card.pk}/photo.jpg",
        {"photo": SimpleUploadedFile("me.jpg", jpeg(), content_type="image/jpeg")},
    )
    with_photo = world.client("self").get(f"/cards/{card.pk}/card.pdf").content
    assert with_photo.startswith(b"%PDF")
    assert with_photo.count(b"/Subtype /Image") > without.count(b"/Subtype /Image")
