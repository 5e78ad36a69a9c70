"""Encryption at rest (access/crypto.py) as the functions themselves promise it: a value comes back
as it went in, a damaged value or a missing key is a clear error, a rotated key keeps old values
readable and rotation brings them to the newest key, and a masked number gives away little.

The table-level story (nothing readable in the database, re-encryption of every column, the CLI,
key files) is in tests/security/test_data_encryption.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expatsi.access import crypto


@pytest.fixture
def own_keys(tmp_path: Path, settings: Any) -> Iterator[Path]:
    """A key directory of this test's own (rotation must not touch the suite's keys)."""
    directory = tmp_path / "keys"
    settings.EXPATSI_KEY_DIR = str(directory)
    crypto.reset_caches()
    crypto.keys_init()
    yield directory
    crypto.reset_caches()


@given(st.text(max_size=60))
def test_what_is_encrypted_decrypts_to_the_same_text(value: str) -> None:
    token = crypto.encrypt(value)
    assert token.isascii()  # fits any text column
    assert crypto.decrypt(token) == value


def test_a_damaged_value_is_a_clear_error_naming_where_it_is_stored() -> None:
    token = crypto.encrypt("C01X00T47")
    damaged = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(crypto.DataKeyError, match=r"people\.Passport\.number \(row 7\)"):
        crypto.decrypt(damaged, where="people.Passport.number (row 7)")
    with pytest.raises(crypto.DataKeyError, match="restore the keys"):
        crypto.decrypt("not a token at all")


def test_after_a_rotation_old_values_still_decrypt_and_rotate_to_the_newest_key(
    own_keys: Path,
) -> None:
    old = crypto.encrypt("C01X00T47")
    assert crypto.is_current(old)
    crypto.data_key_rotate()
    assert len(crypto.keys_listing()["data_keys"]) == 2
    assert not crypto.is_current(old)
    assert crypto.decrypt(old) == "C01X00T47"  # readable before re-encryption
    fresh = crypto.rotate_token(old)
    assert crypto.is_current(fresh) and crypto.decrypt(fresh) == "C01X00T47"
    assert crypto.is_current(crypto.encrypt("new value"))  # new values: the newest key


def test_the_listing_marks_the_newest_key_of_each_kind_as_current(own_keys: Path) -> None:
    crypto.search_key_rotate()
    listing = crypto.keys_listing()
    assert listing["key_dir"] == str(own_keys)
    assert [k["current"] for k in listing["data_keys"]] == [True]
    assert [k["current"] for k in listing["search_keys"]] == [False, True]
    names = [k["name"] for k in listing["search_keys"]]
    assert names == sorted(names)  # oldest first: the last one hashes


def test_lookups_keep_finding_values_hashed_before_a_search_key_rotation(own_keys: Path) -> None:
    before = crypto.search_hash("C01X00T47")
    crypto.search_key_rotate()
    after = crypto.search_hashes("c01x 00t47")
    assert before in after and len(after) == 2
    assert crypto.search_hash("C01X00T47") == after[0] != before  # new values: the newest key


@given(st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", max_size=30))
def test_a_masked_number_shows_at_most_four_characters_never_half_and_never_its_length(
    number: str,
) -> None:
    shown = crypto.masked(number)
    assert shown.startswith("****")
    tail = shown[4:]
    assert number.endswith(tail)
    assert len(tail) <= 4 and len(tail) * 2 <= len(number)
    if len(number) >= 8:
        assert shown == "****" + number[-4:]  # the same shape for every long number
