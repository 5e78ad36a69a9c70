"""The card API: who sees and files what, the public lists, online verification and its limit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from expatsi.access import throttle
from expatsi.cards import keys
from expatsi.cards.models import CardApplication, CardToken, VerificationLog
from expatsi.credentials import trust
from tests.api.conftest import API, World

from .helpers import active_card, expired_code, flip_byte, revoke, today, wrong_key_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(world: World):
    return active_card(world.a, world.pa)


def _verify(client, text):
    return client.post(f"{API}/verify", {"text": text}, content_type="application/json")


def test_holder_reads_own_card_with_history_and_code(world: World, card) -> None:
    r = world.client("self").get(f"{API}/cards/{card.pk}")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["permit_number"] == card.permit_number
    assert body["ssn"] == world.pa.ssn
    assert body["qr_text"].startswith("EXP1:")
    assert [e["action"] for e in body["history"]] == ["apply", "approve_first_entry", "enter"]
    assert body["applications"][0]["kind"] == "first_entry"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("agency", 200),
        ("agency_sh", 404),
        ("hr_a", 200),
        ("token_a", 200),
        ("hr_b", 404),
        ("other", 404),
        ("anon", 401),
    ],
)
def test_who_may_read_a_card(world: World, card, role: str, status: int) -> None:
    assert world.client(role).get(f"{API}/cards/{card.pk}").status_code == status


def test_lists_show_only_visible_cards(world: World, card) -> None:
    active_card(world.b, world.pb)
    ids_a = [c["id"] for c in world.client("hr_a").get(f"{API}/cards").json()["items"]]
    ids_b = [c["person_id"] for c in world.client("hr_b").get(f"{API}/cards").json()["items"]]
    assert ids_a == [card.pk]
    assert ids_b == [world.pb.pk]
    assert world.client("agency").get(f"{API}/cards").json()["count"] == 2


def test_hr_applies_agency_decides_hr_records_entry(world: World) -> None:
    hr = world.client("hr_a")
    body = {
        "employer_id": world.a.pk,
        "person_id": world.pa2.pk,
        "category": "A",
        "position": "Chief engineer",
        "valid_to": (today() + timedelta(days=700)).isoformat(),
    }
    assert (
        world.client("hr_b").post(f"{API}/cards", body, content_type="application/json").status_code
        == 404
    )
    r = hr.post(f"{API}/cards", body, content_type="application/json")
    assert r.status_code == 201, r.content
    app = r.json()
    queue = world.client("agency").get(f"{API}/cards/applications").json()["items"]
    assert [a["id"] for a in queue] == [app["id"]]
    assert world.client("agency_sh").get(f"{API}/cards/applications").json()["items"] == []
    path = f"{API}/cards/applications/{app['id']}/decision"
    assert hr.post(path, {"approve": True}, content_type="application/json").status_code == 403
    r = world.client("agency").post(path, {"approve": True}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    again = world.client("agency").post(path, {"approve": True}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    r = hr.post(
        f"{API}/cards/{app['card_id']}/entry",
        {"entry_date": today().isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert r.json()["qr_text"].startswith("EXP1:")


def test_filing_refusals_are_errors_with_a_field(world: World, card) -> None:
    hr = world.client("hr_a")
    r = hr.post(
        f"{API}/cards/{card.pk}/extension",
        {"new_valid_to": (card.valid_to + timedelta(days=365)).isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 400
    assert r.json() | {"message": ""} == {
        "code": "extension_window_not_open",
        "message": "",
        "field": "new_valid_to",
    }
    assert (
        world.client("hr_b")
        .post(
            f"{API}/cards/{card.pk}/deregistration",
            {"reason": "contract_ended", "end_date": today().isoformat()},
            content_type="application/json",
        )
        .status_code
        == 404
    )
    assert (
        world.client("self")
        .post(
            f"{API}/cards/{card.pk}/deregistration",
            {"reason": "contract_ended", "end_date": today().isoformat()},
            content_type="application/json",
        )
        .status_code
        == 403
    )
    r = hr.post(
        f"{API}/cards/{card.pk}/change",
        {"changes": {"position": "Lead engineer"}, "change_date": today().isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["kind"] == "change"
    r = hr.post(
        f"{API}/cards/{card.pk}/deregistration",
        {"reason": "contract_ended", "end_date": today().isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 409 and r.json()["code"] == "application_open"
    assert CardApplication.objects.filter(card=card, status="submitted").count() == 1


def test_public_lists_are_signed_cacheable_and_say_their_age(world: World, card) -> None:
    anon = world.client("anon")
    anchor = keys.keyring().anchor.public_key()
    r = anon.get(f"{API}/cards/trust-list")
    assert r.status_code == 200 and r["Content-Type"] == "application/cose"
    assert "max-age" in r["Cache-Control"]
    assert keys.keyring().current.kid in trust.load_trust_list(r.content, anchor).entries
    revoke(card)
    r = anon.get(f"{API}/cards/revocations")
    assert r.status_code == 200 and r["Content-Type"] == "application/cose"
    assert r["Last-Modified"] and r["X-Revocation-List-Issued-At"]
    revoked = trust.load_revocation_list(r.content, anchor)
    assert bytes.fromhex(card.tokens.get().revocation_hash) in revoked.hashes
    assert b"PUBLIC KEY" in anon.get(f"{API}/cards/anchor.pem").content


def test_public_verifies_and_sees_no_more_than_the_card(world: World, card) -> None:
    text = card.tokens.get().text
    r = _verify(world.client("anon"), text)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["result"] == "valid"
    assert set(body["card"]) == {
        "card_number",
        "permit_number",
        "ssn",
        "name",
        "nationality",
        "category",
        "employer",
        "valid_from",
        "valid_to",
        "photo_hash",
    }
    assert body["card"]["permit_number"] == card.permit_number
    log = VerificationLog.objects.get()
    assert (log.result, log.via, log.card_number) == ("valid", "api", card.card_number)
    assert text not in json.dumps(list(VerificationLog.objects.values()), default=str)


@pytest.mark.parametrize(
    ("make", "result"),
    [
        (lambda c: flip_byte(c.tokens.get().text), "tampered"),
        (lambda c: wrong_key_code(), "unknown_key"),
        (lambda c: expired_code(), "expired"),
        (lambda c: "hello", "malformed"),
    ],
)
def test_verify_answers(world: World, card, make, result) -> None:
    r = _verify(world.client("anon"), make(card))
    assert r.status_code == 200 and r.json()["result"] == result


def test_revocation_shows_online_at_once(world: World, card) -> None:
    text = card.tokens.get().text
    keys.revocation_list_document(fresh=True)  # the cached list does not know yet
    CardToken.objects.filter(card=card).update(revoked_at="2026-01-01T00:00:00Z")
    assert _verify(world.client("anon"), text).json()["result"] == "revoked"


def test_bad_verify_input(world: World) -> None:
    anon = world.client("anon")
    assert (
        anon.post(f"{API}/verify", "nope", content_type="application/json").json()["code"]
        == "invalid_json"
    )
    assert anon.post(f"{API}/verify", {}, content_type="application/json").json()["field"] == "text"
    r = anon.post(f"{API}/verify", {"image": _file(b"not an image")})
    assert r.status_code == 400 and r.json()["code"] == "unreadable_image"


def _file(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("code.png", data, content_type="image/png")


def test_rate_limited_per_client_address(world: World, card, settings, monkeypatch) -> None:
    settings.EXPATSI_VERIFY_RATE_PER_MINUTE = 3
    monkeypatch.setattr(throttle, "_now", lambda: 1_800_000_000.0)
    text = card.tokens.get().text
    anon = world.client("anon")
    assert [_verify(anon, text).status_code for _ in range(3)] == [200, 200, 200]
    r = _verify(anon, text)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    other = world.client("anon", REMOTE_ADDR="10.0.0.9")
    assert _verify(other, text).status_code == 200
    assert VerificationLog.objects.count() == 4


def test_public_check_masks_the_social_security_number(world: World) -> None:
    """A check answers whether a card is genuine; it does not hand anyone the holder's number
    (issue 13: the public verification page showed it whole)."""
    code = expired_code()  # signed claims carrying a full social security number
    r = _verify(world.client("anon"), code)
    assert r.status_code == 200 and r.json()["result"] == "expired"
    assert r.json()["card"]["ssn"] == "****0018"
    page = world.client("anon").post("/cards/verify/", {"text": code})
    assert page.status_code == 200
    assert "911276198005170018" not in page.content.decode()
    assert "****0018" in page.content.decode()
