"""Decode an uploaded image only once its header says it is small enough: pure Python, no Django.

A PNG of a few hundred KB can declare 30000×30000 pixels and expand to gigabytes when decoded (a
decompression bomb), so the pixel count is read from the header first and refused above
``UPLOAD_MAX_PIXELS`` — before a single pixel is decoded. Pillow's own bomb check
(``Image.MAX_IMAGE_PIXELS``) is lowered here, once, as a backstop for every decode in the process.

Pillow also decodes a truncated file silently when ``ImageFile.LOAD_TRUNCATED_IMAGES`` is set, and
WeasyPrint sets it process-wide when it is first imported: uploads are decoded strictly regardless,
so a file cut in half is refused instead of being stored half grey.

Every failure is a :class:`RuleError` naming the caller's field: ``image_too_large`` (413) or
``unreadable_image`` (400). Messages are English; the web layers translate by code.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from PIL import Image, ImageFile

from expatsi.rules.errors import RuleError

# A 12-megapixel phone photo (4000×3000) must pass; a bomb of 25 megapixels or more must not.
UPLOAD_MAX_PIXELS = 16_000_000
# Pillow warns above this and refuses above twice this, whoever decodes (default ~89 megapixels).
MAX_IMAGE_PIXELS = 2 * UPLOAD_MAX_PIXELS

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


class ImageTooLarge(RuleError):
    status = 413


def _too_large(
    field: str, what: str, size: tuple[int, int] | None, max_pixels: int
) -> ImageTooLarge:
    got = f" ({size[0]}×{size[1]})" if size else ""
    return ImageTooLarge(
        "image_too_large",
        f"{what} has too many pixels{got}: at most {max_pixels / 1_000_000:g} megapixels",
        field,
    )


def _unreadable(field: str, what: str, formats: Iterable[str]) -> RuleError:
    return RuleError(
        "unreadable_image",
        f"{what} is not an image that can be read, or is damaged or cut short "
        f"(accepted: {', '.join(formats)})",
        field,
    )


def decode(
    data: bytes,
    *,
    field: str,
    formats: tuple[str, ...],
    max_pixels: int = UPLOAD_MAX_PIXELS,
    draft: tuple[str | None, tuple[int, int] | None] | None = None,
    what: str = "the image",
) -> Image.Image:
    """The decoded image, or a RuleError on ``field``.

    ``formats`` limits which Pillow decoders may even look at the bytes. ``draft`` lets a JPEG be
    decoded at a reduced scale and in the given mode (e.g. grey for a QR code), which saves most
    of the memory for a large camera photo.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # the warning is an exception only where warnings are errors; otherwise the check below
        raise _too_large(field, what, None, max_pixels) from None
    except Exception:  # Pillow raises many kinds for a file that is not an image
        raise _unreadable(field, what, formats) from None
    width, height = image.size
    if width * height > max_pixels:
        raise _too_large(field, what, (width, height), max_pixels)
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # see the module docstring: WeasyPrint sets it
    try:
        if draft is not None:
            image.draft(*draft)
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(field, what, (width, height), max_pixels) from None
    except Exception:  # truncated or corrupt data: OSError, SyntaxError, ValueError…
        raise _unreadable(field, what, formats) from None
    return image
