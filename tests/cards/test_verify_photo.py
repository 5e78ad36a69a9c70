"""The public card check shows the holder's photo (issue #13): whoever checks a valid code sees
who should be holding the card. The photo is served only by a reference this server signs after
checking a valid code that carries the photo's hash, and that reference expires: the route can be
neither guessed nor walked, and a revoked code shows no photo."""

from __future__ import annotations

import pytest
from django.core import signing
from django.test import Client

from expatsi.access.actors import SYSTEM
from expatsi.cards import services, verification
from tests.api.conftest import World

from .helpers import active_card
from .test_photo import jpeg

pytestmark = pytest.mark.django_db

API_VERIFY = "/api/v1/verify"


@pytest.fixture
def card(world: World):
    card = active_card(world.a, world.pa)
    return services.card_photo_set(actor=SYSTEM, card_id=card.pk, photo=jpeg())


def _code(card) -> str:
    return card.tokens.filter(revoked_at__isnull=True).get().text


def test_the_check_page_shows_the_holders_photo_with_the_name_and_masked_number(card) -> None:
    client = Client()
    page = client.post("/cards/verify/", {"text": _code(card)})
    assert page.status_code == 200
    answer = page.context["answer"]
    assert answer.result == "valid" and answer.photo_url.startswith("/cards/verify/photo/")
    body = page.content.decode()
    assert f'<img class="verify-photo" src="{answer.photo_url}"' in body
    assert card.person.full_name in body
    assert card.person.ssn is None or card.person.ssn not in body  # the number is masked
    photo = client.get(answer.photo_url)
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert photo.content == bytes(card.photo)
    assert photo["Cache-Control"] == "private, no-store"


def test_the_verify_api_gives_the_photo_link(card) -> None:
    r = Client().post(API_VERIFY, {"text": _code(card)}, content_type="application/json")
    assert r.status_code == 200, r.content
    url = r.json()["photo_url"]
    assert Client().get(url).content == bytes(card.photo)


def test_no_photo_link_for_a_revoked_code_or_a_card_without_a_photo(world: World, card) -> None:
    old = _code(card)
    services.card_photo_set(actor=SYSTEM, card_id=card.pk, photo=jpeg(size=(320, 400)))
    answer = verification.verify_text(old)
    assert answer.result == "revoked" and answer.photo_url == ""
    bare = active_card(world.b, world.pb)
    assert verification.verify_text(_code(bare)).photo_url == ""


def test_a_photo_cannot_be_named_without_a_fresh_signed_reference(card, monkeypatch) -> None:
    client = Client()
    # the hash itself, a reference signed with another salt, a made-up one: nothing
    forged = signing.dumps(card.photo_hash, salt="something-else")
    for reference in (card.photo_hash, forged, "x" * 40):
        assert client.get(f"/cards/verify/photo/{reference}/").status_code == 404
    # a genuine reference for a hash no card has: nothing either
    unknown = verification.photo_reference("0" * 32)
    assert client.get(f"/cards/verify/photo/{unknown}/").status_code == 404
    # a genuine reference that has expired
    url = verification.verify_text(_code(card)).photo_url
    monkeypatch.setattr(verification, "PHOTO_REFERENCE_MAX_AGE", -1)
    assert client.get(url).status_code == 404
