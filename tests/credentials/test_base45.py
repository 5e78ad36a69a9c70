"""Base45 (RFC 9285): the ``base45`` package encodes, our NumPy decoder decodes (measured faster,
see bench/run.py); the two must agree on every input, and bad text is one clear error."""

from __future__ import annotations

import base45 as package
import pytest
from hypothesis import given
from hypothesis import strategies as st

from expatsi.credentials import base45

RFC_9285 = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("data", "text"), RFC_9285)
def test_the_examples_of_rfc_9285(data: bytes, text: str) -> None:
    assert base45.encode(data) == text
    assert base45.decode(text) == data


@given(st.binary(max_size=600))
def test_our_decoder_reads_what_the_package_writes(data: bytes) -> None:
    text = base45.encode(data)
    assert set(text) <= set(base45.ALPHABET)
    assert base45.decode(text) == data == package.b45decode(text)


@pytest.mark.parametrize(
    "text",
    [
        "GGW",  # 65536: more than two bytes (RFC 9285, section 6)
        "ZZZ",
        "ZZ",  # more than one byte
        "A",  # a length of 3n + 1
        "BB8\n",  # the package lets a trailing newline through; a code never has one
        "bb8",
        "BB8é",
    ],
)
def test_bad_text_is_refused(text: str) -> None:
    with pytest.raises(base45.Base45Error):
        base45.decode(text)
