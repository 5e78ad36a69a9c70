"""Render a token as a QR code (SVG or PNG) and read one back from a photo or screenshot."""

from __future__ import annotations

import io

import segno

MAX_VERSION = 10


def make(text: str) -> segno.QRCode:
    """Error correction M where the code stays at version ≤ 10; otherwise L (still scannable on a
    screen), so that the code fits a phone screen and a printed card. Never a Micro QR: segno
    picks one for very short texts, and phone readers and zxing-cpp's default decoder skip them."""
    code = segno.make(text, error="m", boost_error=False, micro=False)
    if int(code.version) > MAX_VERSION:
        code = segno.make(text, error="l", boost_error=False, micro=False)
    return code


def png(text: str, scale: int = 6) -> bytes:
    buf = io.BytesIO()
    make(text).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def svg(text: str, scale: int = 4) -> str:
    buf = io.BytesIO()
    make(text).save(buf, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True, title="QR")
    return buf.getvalue().decode()


# What a photo or screenshot of a code may be; Pillow's other decoders never see the bytes.
READ_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")


def read_image(data: bytes, field: str = "image") -> list[str]:
    """Every QR code's text in an image (PNG, JPEG…), using zxing-cpp.

    The image is refused before decoding when its header declares too many pixels (a
    decompression bomb) and when it is corrupt or truncated: a RuleError on ``field``.
    """
    import zxingcpp

    from expatsi import images

    image = images.decode(
        data, field=field, formats=READ_FORMATS, draft=("L", None), what="the file"
    )
    results = zxingcpp.read_barcodes(image.convert("L"))
    return [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
