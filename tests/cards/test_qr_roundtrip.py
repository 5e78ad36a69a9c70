"""Issue → render PNG → decode with zxing-cpp → verify, online (API upload) and offline (CLI with
exported or fetched lists): valid, a flipped byte, a wrong key, an expired card, a revoked card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from expatsi.cards import keys
from expatsi.cli import main
from expatsi.credentials import qr

from .helpers import (
    active_card,
    expired_code,
    flip_byte,
    not_yet_valid_code,
    revoke,
    wrong_key_code,
)

CASES = ("valid", "tampered", "unknown_key", "expired", "not_yet_valid", "revoked")


@pytest.fixture
def codes(employer, person, other_employer):
    from datetime import date

    from expatsi.people.models import Person

    card = active_card(employer, person)
    valid = card.tokens.get().text
    other = Person.objects.create(
        family_name="Sato",
        given_names="Yuki",
        sex="female",
        birth_date=date(1991, 2, 3),
        nationality="JPN",
    )
    revoked_card = active_card(other_employer, other)
    revoked = revoked_card.tokens.get().text
    revoke(revoked_card)
    return {
        "valid": valid,
        "tampered": flip_byte(valid),
        "unknown_key": wrong_key_code(),
        "expired": expired_code(),
        "not_yet_valid": not_yet_valid_code(),
        "revoked": revoked,
    }


def _png(text: str, tmp_path: Path, name: str) -> Path:
    data = qr.png(text)
    assert qr.read_image(data) == [text]  # zxing-cpp reads back exactly what was rendered
    path = tmp_path / f"{name}.png"
    path.write_bytes(data)
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_online_photo_upload(codes, case, tmp_path) -> None:
    png = _png(codes[case], tmp_path, case).read_bytes()
    r = Client().post("/api/v1/verify", {"image": SimpleUploadedFile("c.png", png, "image/png")})
    assert r.status_code == 200, r.content
    assert r.json()["result"] == case
    assert (r.json()["card"] is None) == (case in ("tampered", "unknown_key"))


@pytest.mark.django_db
def test_offline_cli_with_exported_lists(codes, tmp_path, capsys) -> None:
    lists = tmp_path / "verifier"
    assert main(["card", "export-lists", "--lists", str(lists), "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["revoked"] == 1
    assert {p.name for p in lists.iterdir()} == {
        "anchor.pem",
        "trust-list.cose",
        "revocations.cose",
    }
    for case in CASES:
        png = _png(codes[case], tmp_path, case)
        code = main(["card", "verify", str(png), "--lists", str(lists), "--json"])
        out = json.loads(capsys.readouterr().out)
        assert out["result"] == case, case
        assert code == (0 if case == "valid" else 1)
        assert out["revocation_list_age_seconds"] >= 0 and not out["revocation_list_stale"]
    # the text works as well as the image, and the plain rendering says how old the list is
    assert main(["card", "verify", codes["valid"], "--lists", str(lists)]) == 0
    plain = capsys.readouterr().out
    assert plain.startswith("VALID") and "revocation list issued" in plain and "old" in plain


@pytest.mark.django_db
def test_offline_cli_bad_input_exits_2(codes, tmp_path, capsys) -> None:
    lists = tmp_path / "verifier"
    main(["card", "export-lists", "--lists", str(lists)])
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    assert main(["card", "verify", str(junk), "--lists", str(lists)]) == 2
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (200, 200), "white").save(blank)
    assert main(["card", "verify", str(blank), "--lists", str(lists)]) == 2
    assert main(["card", "verify", str(tmp_path / "missing.png"), "--lists", str(lists)]) == 2
    assert main(["card", "verify", codes["valid"], "--lists", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "unreadable" in err or "not an image" in err
    assert "fetch-lists" in err


@pytest.mark.django_db
def test_tampered_list_is_refused(codes, tmp_path, capsys) -> None:
    lists = tmp_path / "verifier"
    main(["card", "export-lists", "--lists", str(lists)])
    doc = bytearray((lists / "revocations.cose").read_bytes())
    doc[-1] ^= 1
    (lists / "revocations.cose").write_bytes(bytes(doc))
    assert main(["card", "verify", codes["valid"], "--lists", str(lists)]) == 2
    assert "signature" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)
def test_fetch_lists_from_a_server_then_verify_offline(
    codes, live_server, tmp_path, capsys
) -> None:
    lists = tmp_path / "fetched"
    assert (
        main(["card", "fetch-lists", "--url", live_server.url, "--lists", str(lists), "--json"])
        == 0
    )
    fetched = json.loads(capsys.readouterr().out)
    assert fetched["revoked"] == 1 and keys.keyring().current.kid.hex() in fetched["keys"]
    assert main(["card", "verify", codes["valid"], "--lists", str(lists)]) == 0
    assert main(["card", "verify", codes["revoked"], "--lists", str(lists)]) == 1
    # the anchor is pinned: a server answering with lists signed by another anchor is refused
    (lists / "anchor.pem").write_bytes(_other_anchor_pem())
    capsys.readouterr()
    assert main(["card", "fetch-lists", "--url", live_server.url, "--lists", str(lists)]) == 2
    assert "anchor" in capsys.readouterr().err


def _other_anchor_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization

    from expatsi.credentials.keys import LocalSigner

    return (
        LocalSigner.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.mark.django_db
def test_keys_cli_init_rotate_list(capsys) -> None:
    assert main(["card", "keys", "list", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert main(["card", "keys", "rotate", "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert len(after["keys"]) == len(before["keys"]) + 1
    assert after["current"] != before["current"] and after["anchor"] == before["anchor"]
    assert [k["current"] for k in after["keys"]].count(True) == 1
    assert main(["card", "keys", "init"]) == 0
    assert "trust anchor" in capsys.readouterr().out
