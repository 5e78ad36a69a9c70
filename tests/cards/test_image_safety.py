"""Uploaded images are checked before they are decoded: a decompression bomb (a small file that
expands to gigabytes of pixels) and a broken file get a clear 4xx — never a 500 or a gigabyte of
memory — on the public verification API and page, the holder's photo (API and portal) and the
offline ``expatsi card verify`` command.

"Not decoded" is asserted by watching Pillow's decoder (``ImageFile.load``) and zxing-cpp: neither
may run for a refused image. The bombs are built with zlib row by row, so a 30000×30000 PNG costs
the test a fraction of a second and no memory.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
import zxingcpp
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, ImageFile

from expatsi.cards.models import Card
from expatsi.cli import main
from expatsi.credentials import qr
from tests.api.conftest import World

from .helpers import active_card

pytestmark = pytest.mark.django_db

# Production does not turn warnings into errors: without this, Pillow's own warning (an exception
# under pytest) would hide that the original code went on to decode the bomb.
production_warnings = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A valid, all-black 1-bit PNG of ``width``×``height``: a few hundred KB at most."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def _encoded(fmt: str, size: tuple[int, int] = (300, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 160, 200)).save(out, format=fmt)
    return out.getvalue()


def _idat_overrun() -> bytes:
    """A PNG whose image data runs past its chunk: Pillow raises SyntaxError while decoding."""
    good = _encoded("PNG")
    length = int.from_bytes(good[33:37])
    data = good[41 : 41 + length]
    return good[:33] + _chunk(b"IDAT", data[:500]) + data[500:]


PNG = _encoded("PNG")
JPEG = _encoded("JPEG")
BROKEN = {
    "png_cut_in_half": PNG[: len(PNG) // 2],
    "jpeg_cut_in_half": JPEG[: len(JPEG) // 2],
    "jpeg_bad_header": JPEG[:2] + b"\x00" * 20 + JPEG[22:],
    "png_data_overrun": _idat_overrun(),
    "text_named_png": b"hello, this is not an image\n" * 10,
}


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to decode pixels (Pillow or zxing-cpp); the attempt itself fails fast."""
    calls: list[str] = []

    def refuse_load(self: ImageFile.ImageFile) -> None:
        calls.append(f"load {self.size}")
        raise OSError("decoding refused by the test")

    def refuse_zxing(*args: object, **kwargs: object) -> list[object]:
        calls.append("zxing")
        return []

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_load)
    monkeypatch.setattr(zxingcpp, "read_barcodes", refuse_zxing)
    return calls


@pytest.fixture
def after_a_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a server that has rendered a PDF: importing WeasyPrint makes Pillow decode truncated
    files silently, process-wide (the order of tests must not decide what these tests see)."""
    import weasyprint.images  # noqa: F401 - the import is what sets the flag

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)


def _upload(data: bytes, name: str = "code.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


# --- the public verification API and page ----------------------------------------------------


@production_warnings
@pytest.mark.parametrize("side", [5000, 13000, 30000])
def test_verify_api_refuses_a_bomb_without_decoding_it(decodes: list[str], side: int) -> None:
    data = bomb_png(side, side)
    assert len(data) < 500_000
    r = Client().post("/api/v1/verify", {"image": _upload(data)})
    assert r.status_code == 413, r.content
    assert r.json()["code"] == "image_too_large" and r.json()["field"] == "image"
    assert "megapixels" in r.json()["message"]
    assert decodes == []


def test_verify_api_still_reads_a_real_code(decodes: list[str]) -> None:
    """The spy is honest: an acceptable image does reach the decoder."""
    r = Client().post("/api/v1/verify", {"image": _upload(qr.png("EXP1:" + "NOPE" * 20))})
    assert r.status_code == 400 and r.json()["code"] == "unreadable_image"
    assert decodes and decodes[0].startswith("load")


@pytest.mark.parametrize("kind", sorted(BROKEN))
@pytest.mark.usefixtures("after_a_pdf")
def test_verify_api_broken_images_are_a_clear_400(kind: str) -> None:
    r = Client().post("/api/v1/verify", {"image": _upload(BROKEN[kind])})
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "unreadable_image" and r.json()["field"] == "image"


@production_warnings
def test_verify_page_refuses_a_bomb_next_to_the_field_in_chinese(decodes: list[str]) -> None:
    r = Client().post("/zh-hans/cards/verify/", {"image": _upload(bomb_png(13000, 13000))})
    assert r.status_code == 413
    assert 'id="id_image_error"' in r.text and "像素" in r.text
    assert decodes == []


# --- the holder's photo ------------------------------------------------------------------------


@production_warnings
@pytest.mark.parametrize("side", [5000, 13000, 30000])
def test_photo_api_refuses_a_bomb_without_decoding_it(
    world: World, decodes: list[str], side: int
) -> None:
    card = active_card(world.a, world.pa)
    r = world.client("token_a").post(
        f"/api/v1/cards/{card.pk}/photo", {"photo": _upload(bomb_png(side, side), "me.png")}
    )
    assert r.status_code == 413, r.content
    assert r.json()["code"] == "photo_too_large" and r.json()["field"] == "photo"
    assert decodes == []
    assert not Card.objects.get(pk=card.pk).photo


@pytest.mark.parametrize("kind", sorted(BROKEN))
@pytest.mark.usefixtures("after_a_pdf")
def test_photo_api_broken_images_are_a_clear_400(world: World, kind: str) -> None:
    card = active_card(world.a, world.pa)
    r = world.client("token_a").post(
        f"/api/v1/cards/{card.pk}/photo", {"photo": _upload(BROKEN[kind], "me.png")}
    )
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "invalid_photo" and r.json()["field"] == "photo"
    assert not Card.objects.get(pk=card.pk).photo


@production_warnings
def test_photo_page_refuses_a_bomb_next_to_the_field_in_both_languages(
    world: World, decodes: list[str]
) -> None:
    card = active_card(world.a, world.pa)
    hr = world.client("hr_a")
    bomb = bomb_png(30000, 30000)
    r = hr.post(f"/cards/{card.pk}/photo.jpg", {"photo": _upload(bomb, "me.png")})
    assert r.status_code == 413
    assert 'id="photo-error"' in r.text and "megapixels" in r.text
    r = hr.post(f"/zh-hans/cards/{card.pk}/photo.jpg", {"photo": _upload(bomb, "me.png")})
    assert r.status_code == 413
    assert 'id="photo-error"' in r.text and "像素" in r.text
    assert decodes == []


def test_photo_page_broken_image_is_a_field_error(world: World) -> None:
    card = active_card(world.a, world.pa)
    r = world.client("hr_a").post(
        f"/zh-hans/cards/{card.pk}/photo.jpg",
        {"photo": _upload(BROKEN["png_data_overrun"], "me.png")},
    )
    assert r.status_code == 400
    assert 'id="photo-error"' in r.text and "JPEG" in r.text


def test_a_large_but_sane_jpeg_photo_is_accepted_and_shrunk(world: World) -> None:
    card = active_card(world.a, world.pa)
    big = _encoded("JPEG", (4000, 3000))  # a 12-megapixel camera photo
    r = world.client("token_a").post(
        f"/api/v1/cards/{card.pk}/photo",
        {"photo": SimpleUploadedFile("me.jpg", big, content_type="image/jpeg")},
    )
    assert r.status_code == 200, r.content
    with Image.open(io.BytesIO(bytes(Card.objects.get(pk=card.pk).photo))) as stored:
        assert max(stored.size) == 600


# --- the offline command ---------------------------------------------------------------------


@production_warnings
def test_offline_cli_refuses_a_bomb_with_exit_2(
    decodes: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lists = tmp_path / "verifier"
    assert main(["card", "export-lists", "--lists", str(lists)]) == 0
    capsys.readouterr()
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png(13000, 13000))
    assert main(["card", "verify", str(bomb), "--lists", str(lists)]) == 2
    err = capsys.readouterr().err
    assert "megapixels" in err and len(err.strip().splitlines()) == 1
    assert decodes == []


@pytest.mark.parametrize("kind", sorted(BROKEN))
@pytest.mark.usefixtures("after_a_pdf")
def test_offline_cli_broken_images_exit_2(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lists = tmp_path / "verifier"
    assert main(["card", "export-lists", "--lists", str(lists)]) == 0
    path = tmp_path / "code.png"
    path.write_bytes(BROKEN[kind])
    assert main(["card", "verify", str(path), "--lists", str(lists)]) == 2
    assert "code.png" in capsys.readouterr().err


def test_pillow_refuses_bombs_everywhere_in_the_process() -> None:
    """One process-wide limit, set where images are opened, well below Pillow's default."""
    import expatsi.images  # noqa: F401 - importing it sets the limit

    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS <= 64_000_000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb_png(13000, 13000)))
