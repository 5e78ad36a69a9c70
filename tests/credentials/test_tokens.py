"""Issue → QR → verify round trips, and every way a code can be wrong."""

from datetime import UTC, date, datetime

import pytest

from expatsi.credentials import base45, qr, token, trust
from expatsi.credentials.keys import FileKeyStore, LocalSigner, key_id

CLAIMS = token.CardClaims(
    card_number="1101202500001234",
    permit_number="110000202500012345",
    ssn="911276198005170018",
    name="MUELLER, Hans Peter",
    nationality="DEU",
    category="A",
    employer="Example Technology (Beijing) Co., Ltd.",
    valid_from=date(2025, 1, 10),
    valid_to=date(2027, 1, 9),
    photo_hash="ab" * 16,
)
NOW = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp())


@pytest.fixture(scope="module")
def world():
    anchor = LocalSigner.generate()
    signer = LocalSigner.generate()
    tl = trust.load_trust_list(
        trust.sign_trust_list([(signer.public_key(), 0, None)], anchor), anchor.public_key()
    )
    empty = trust.load_revocation_list(
        trust.sign_revocation_list([], anchor, issued_at=NOW - 3600), anchor.public_key()
    )
    return anchor, signer, tl, empty


def test_round_trip_through_a_png_image(world):
    _, signer, tl, rl = world
    text, _ = token.issue(CLAIMS, signer)
    assert text.startswith("EXP1:")
    assert all(c in base45.ALPHABET for c in text)
    assert qr.make(text).version <= 10
    decoded = qr.read_image(qr.png(text))
    assert decoded == [text]
    result = token.verify(decoded[0], tl, rl, now=NOW)
    assert result.result == "valid"
    assert result.claims == CLAIMS
    assert result.revocation_list_age_seconds == 3600


def test_a_long_chinese_employer_still_fits_version_10(world):
    _, signer, _, _ = world
    claims = token.CardClaims(
        "1101202500001234",
        "110000202500012345",
        "91127619800517001X",
        "穆勒 汉斯·彼得",
        "DEU",
        "B",
        "北京某某国际科技有限公司上海分公司",
        date(2025, 1, 10),
        date(2027, 1, 9),
        "cd" * 16,
    )
    text, _ = token.issue(claims, signer)
    assert qr.make(text).version <= 10
    assert token.CardClaims.from_cbor(token.CardClaims.to_cbor(claims)) == claims


def test_a_flipped_character_is_tampered(world):
    _, signer, tl, rl = world
    text, _ = token.issue(CLAIMS, signer)
    for position in (len(text) // 2, len(text) - 10, 12):
        c = text[position]
        flipped = text[:position] + ("A" if c != "A" else "B") + text[position + 1 :]
        assert token.verify(flipped, tl, rl, now=NOW).result in ("tampered", "unknown_key")
    assert token.verify(text[:-3], tl, rl, now=NOW).result == "tampered"


def test_a_payload_resigned_with_a_foreign_key_is_rejected(world):
    _, _, tl, rl = world
    stranger = LocalSigner.generate()
    text, _ = token.issue(CLAIMS, stranger)
    result = token.verify(text, tl, rl, now=NOW)
    assert result.result == "unknown_key"
    assert result.claims is None  # nothing is shown from an untrusted code


def test_expired_and_not_yet_valid(world):
    _, signer, tl, rl = world
    text, _ = token.issue(CLAIMS, signer)
    # Validity dates are calendar days in China (UTC+8).
    after = int(datetime(2027, 1, 9, 16, 0, tzinfo=UTC).timestamp())  # 00:00 on 10 Jan in Beijing
    last_day = int(
        datetime(2027, 1, 9, 15, 59, tzinfo=UTC).timestamp()
    )  # 23:59 on 9 Jan in Beijing
    before = int(datetime(2025, 1, 9, 15, 59, tzinfo=UTC).timestamp())
    first_day = int(datetime(2025, 1, 9, 16, 0, tzinfo=UTC).timestamp())
    assert token.verify(text, tl, rl, now=after).result == "expired"
    assert token.verify(text, tl, rl, now=last_day).result == "valid"
    assert token.verify(text, tl, rl, now=before).result == "not_yet_valid"
    assert token.verify(text, tl, rl, now=first_day).result == "valid"


def test_revoked(world):
    anchor, signer, tl, _ = world
    text, signature = token.issue(CLAIMS, signer)
    other, _ = token.issue(CLAIMS, signer, issued_at=1)
    rl = trust.load_revocation_list(
        trust.sign_revocation_list([trust.revocation_hash(signature)], anchor), anchor.public_key()
    )
    assert token.verify(text, tl, rl, now=NOW).result == "revoked"
    assert token.verify(other, tl, rl, now=NOW).result == "valid"


def test_key_rotation_old_key_keeps_verifying(world):
    anchor, old, _, rl = world
    new = LocalSigner.generate()
    tl = trust.load_trust_list(
        trust.sign_trust_list([(old.public_key(), 0, None), (new.public_key(), 0, None)], anchor),
        anchor.public_key(),
    )
    old_text, _ = token.issue(CLAIMS, old)
    new_text, _ = token.issue(CLAIMS, new)
    assert token.verify(old_text, tl, rl, now=NOW).result == "valid"
    assert token.verify(new_text, tl, rl, now=NOW).result == "valid"
    assert token.verify(new_text, tl, rl, now=NOW).kid == key_id(new.public_key()).hex()


def test_a_forged_trust_list_is_refused(world):
    anchor, signer, _, _ = world
    impostor = LocalSigner.generate()
    forged = trust.sign_trust_list([(signer.public_key(), 0, None)], impostor)
    with pytest.raises(trust.TrustError):
        trust.load_trust_list(forged, anchor.public_key())
    with pytest.raises(trust.TrustError):
        trust.load_revocation_list(trust.sign_revocation_list([], impostor), anchor.public_key())


@pytest.mark.parametrize(
    "text", ["", "hello", "EXP1:", "EXP1:!!!!", "EXP1:" + "A" * 5000, "HC1:ABC"]
)
def test_garbage_never_raises(world, text):
    _, _, tl, rl = world
    assert token.verify(text, tl, rl, now=NOW).result in ("malformed", "tampered")


def test_file_key_store_never_overwrites_and_round_trips(tmp_path):
    store = FileKeyStore(tmp_path / "keys", password=b"pw")
    k = store.create("2026-01")
    assert store.load("2026-01").kid == k.kid
    assert (tmp_path / "keys" / "2026-01.pem").stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        store.create("2026-01")
    assert b"ENCRYPTED" in (tmp_path / "keys" / "2026-01.pem").read_bytes()


def test_short_text_is_a_full_qr_code_not_micro() -> None:
    """segno chooses a Micro QR for short texts unless told not to; readers skip those."""
    from expatsi.credentials import qr

    code = qr.make("EXP1:A")
    assert not code.is_micro
    assert qr.read_image(qr.png("EXP1:A")) == ["EXP1:A"]
