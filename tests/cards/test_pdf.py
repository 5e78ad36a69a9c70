"""The card PDF in English and Chinese: a CJK font is embedded and Chinese glyphs really render.

Without a CJK font WeasyPrint prints Chinese as empty boxes ("tofu"), silently. We rasterise the
page with poppler's pdftoppm, cut the Chinese title line into glyphs at empty columns and check
they differ from each other: tofu is the same box for every character.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from expatsi.cards import pdf

from .helpers import active_card

pytestmark = pytest.mark.django_db

TITLE_ZH = "外国人工作许可证 · 社会保障卡（证卡融合）"
DPI = 100


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: apt-get install poppler-utils", pytrace=False)
    return path


def _raster(document: bytes, tmp_path: Path, name: str) -> Image.Image:
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(document)
    subprocess.run(
        [_tool("pdftoppm"), "-r", str(DPI), "-png", "-singlefile", str(src), str(tmp_path / name)],
        check=True,
    )
    return Image.open(tmp_path / f"{name}.png").convert("L")


def _ink(pixels: np.ndarray) -> int:
    return int((pixels < 128).sum())


def test_pdf_embeds_a_cjk_font_and_renders_chinese(employer, person, tmp_path) -> None:
    card = active_card(employer, person)
    document = pdf.card_pdf(card, card.tokens.get().text)
    assert document.startswith(b"%PDF")
    fonts = subprocess.run(
        [_tool("pdffonts"), "-"], input=document, capture_output=True, check=True
    ).stdout.decode()
    cjk = [line for line in fonts.splitlines() if "CJK" in line or "WenQuanYi" in line]
    assert cjk, fonts
    assert all(" yes " in line for line in cjk), fonts  # embedded
    text = subprocess.run(
        [_tool("pdftotext"), "-", "-"], input=document, capture_output=True, check=True
    ).stdout.decode()
    assert "社会保障号码" in text and "Social security number" in text
    assert card.permit_number in text and person.ssn in text

    page = _raster(document, tmp_path, "card")
    out = Path("/tmp/shots")  # keep the raster for people to look at
    out.mkdir(parents=True, exist_ok=True)
    page.save(out / "card-pdf.png")
    pixels = np.asarray(page)
    mm = DPI / 25.4
    band = pixels[int(22 * mm) : int(30 * mm)]  # the Chinese title line, just below the top margin
    assert _ink(band) > 500, "no ink where the Chinese title should be"
    glyphs = _glyphs(band)
    assert len(glyphs) >= 8, "the Chinese title did not render as separate glyphs"
    # Tofu is the same empty box for every character; real glyphs all differ from each other.
    distinct = {g.tobytes() for g in glyphs[:8]}
    assert len(distinct) >= 7, "the Chinese title renders as identical boxes (tofu)"


def _glyphs(band: np.ndarray) -> list[np.ndarray]:
    """Split a line of text into glyph images at empty columns, each cropped to its ink."""
    ink_cols = (band < 128).any(axis=0)
    glyphs: list[np.ndarray] = []
    x = 0
    while x < len(ink_cols):
        if not ink_cols[x]:
            x += 1
            continue
        end = x
        while end < len(ink_cols) and ink_cols[end]:
            end += 1
        piece = band[:, x:end] < 128
        rows = np.flatnonzero(piece.any(axis=1))
        glyphs.append(piece[rows[0] : rows[-1] + 1])
        x = end
    return glyphs


def test_pdf_with_control_characters_in_stored_names(employer, person) -> None:
    """Old rows may hold control characters (PostgreSQL text cannot hold NUL itself)."""
    from django.db import connection

    from expatsi.people.models import Person

    card = active_card(employer, person)
    nul = "\x00" if connection.vendor == "sqlite" else ""
    Person.objects.filter(pk=person.pk).update(family_name=f"Mül{nul}\x01ler\x1b")
    type(employer).objects.filter(pk=employer.pk).update(name=f"=Bad{nul}\x0bCo")
    card.refresh_from_db()
    card.person.refresh_from_db()
    card.employer.refresh_from_db()
    document = pdf.card_pdf(card, card.tokens.get().text)
    assert document.startswith(b"%PDF")
