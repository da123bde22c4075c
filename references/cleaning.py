"""Checking one uploaded file, and making it what will be sent to the provider.

A file is decoded for real (its name and MIME type are never trusted), turned upright by its EXIF
orientation and encoded again, so nothing but pixels leaves the server: no EXIF, no GPS, no XMP,
no comments. Colours in another RGB space (Display P3 from a phone) are converted to sRGB first,
since the colour profile is dropped with the rest.

The limits marked [inferred] come from Kling's own documentation, not WaveSpeed's
(docs/wavespeed.md); they are kept here, together, so they are easy to change.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps
from pillow_heif import register_heif_opener

from imaging.images import DECODE_ERRORS, ImageTooLarge, NotAnImage, grey_to_eight_bit, open_image

register_heif_opener()

# --- Limits -----------------------------------------------------------------------------------
MAX_REFERENCES = 10  # [doc] `images`: at most 10
MAX_REFERENCES_PLUS_ELEMENTS = 10  # [inferred] Kling counts both against one limit
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # [doc] WaveSpeed's media upload limit
MAX_REFERENCE_BYTES = 10 * 1024 * 1024  # [inferred] Kling: each reference at most 10 MB
MIN_SHORT_SIDE = 300  # [inferred] Kling: at least 300 px
MAX_ASPECT = 2.5  # [inferred] Kling: between 1:2.5 and 2.5:1
# Our own cap against decompression bombs: a 40 MP image is about 160 MB decoded.
MAX_PIXELS = 40_000_000

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# The file inputs' `accept`, to match (browsers offer only these files).
ACCEPT_TYPES = "image/jpeg,image/png,image/webp,image/heic,image/heif"
JPEG_QUALITY = 92
# The tile shown in the form and on the generation page: a small WebP, not the 10 MB reference.
PREVIEW_SIZE = 256
PREVIEW_QUALITY = 80
# What leaves the server: Kling's docs list JPEG and PNG [inferred], so a WebP or HEIC is sent as
# JPEG, or as PNG when it really uses transparency.
_SRGB = ImageCms.createProfile("sRGB")


class ReferenceRejected(ValueError):
    """The file cannot be a reference; the message names it and says why, for the person."""


def printable_name(name: str) -> str:
    """A file's name without the characters that are not printable (a NUL, a line break, a
    direction override), as Django's multipart parser leaves the name of a page's upload."""
    return "".join(char for char in name if char.isprintable())


@dataclass(frozen=True)
class NormalisedImage:
    data: bytes
    format: str  # "JPEG" or "PNG"
    content_type: str
    width: int
    height: int
    sha256: str
    preview: bytes | None = None  # a WebP of at most PREVIEW_SIZE px, from the same decode

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "JPEG" else "png"


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def normalise(fp: BinaryIO, *, name: str) -> NormalisedImage:
    """Check and re-encode one file. Raises `ReferenceRejected` naming `name` and the reason."""
    fp.seek(0, io.SEEK_END)
    size = fp.tell()
    fp.seek(0)
    if size > MAX_UPLOAD_BYTES:
        raise ReferenceRejected(
            f"“{name}” is {_megabytes(size)}; a reference may be at most "
            f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB."
        )
    with _open(fp, name=name) as im:
        _check_shape(im.width, im.height, name=name)
        try:
            im.load()
            upright = ImageOps.exif_transpose(im)
        except DECODE_ERRORS as exc:
            raise ReferenceRejected(f"“{name}” is damaged or incomplete.") from exc
        data, image_format, clean = _encode(upright)
        preview = _preview(clean)
    if len(data) > MAX_REFERENCE_BYTES:
        raise ReferenceRejected(
            f"“{name}” is still {_megabytes(len(data))} once prepared; Kling takes at most "
            f"{MAX_REFERENCE_BYTES // 1024 // 1024} MB per reference. Try a smaller image."
        )
    return NormalisedImage(
        data=data,
        format=image_format,
        content_type=Image.MIME[image_format],
        width=upright.width,
        height=upright.height,
        sha256=hashlib.sha256(data).hexdigest(),
        preview=preview,
    )


def _open(fp: BinaryIO, *, name: str) -> Image.Image:
    """Parse the header only; refuse other formats and too many pixels before decoding."""
    try:
        return open_image(fp, max_pixels=MAX_PIXELS, formats=ACCEPTED_FORMATS)
    except ImageTooLarge as exc:
        raise ReferenceRejected(
            f"“{name}” has too many pixels: at most {MAX_PIXELS // 1_000_000} megapixels."
        ) from exc
    except NotAnImage as exc:
        raise ReferenceRejected(
            f"“{name}” is not a JPEG, PNG, WebP or HEIC image (whatever its name says)."
        ) from exc


def _check_shape(width: int, height: int, *, name: str) -> None:
    if min(width, height) < MIN_SHORT_SIDE:
        raise ReferenceRejected(
            f"“{name}” is {width} × {height} px; Kling needs at least {MIN_SHORT_SIDE} px on "
            "each side."
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ReferenceRejected(
            f"“{name}” is {width} × {height} px, too long and narrow; Kling takes shapes from "
            f"1:{MAX_ASPECT:g} to {MAX_ASPECT:g}:1."
        )


def _encode(im: Image.Image) -> tuple[bytes, str, Image.Image]:
    """Encode only the pixels (as sRGB): JPEG, or PNG when transparency is really used.
    Returns the bytes, their format and the clean image they were encoded from."""
    pixels = _to_srgb(_eight_bit(im))
    transparent = _uses_transparency(pixels)
    image_format = "PNG" if transparent else "JPEG"
    pixels = pixels.convert("RGBA" if transparent else ("L" if pixels.mode == "L" else "RGB"))
    # A fresh image holds no info, EXIF or profile: nothing but pixels can reach the encoder.
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    if image_format == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        clean.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue(), image_format, clean


def _preview(clean: Image.Image) -> bytes:
    """A WebP tile of at most PREVIEW_SIZE px from the already clean sRGB pixels."""
    small = clean.copy()
    small.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "WEBP", quality=PREVIEW_QUALITY)
    return out.getvalue()


def _eight_bit(im: Image.Image) -> Image.Image:
    if im.mode.startswith("I"):
        return grey_to_eight_bit(im)
    if im.mode in ("1", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "F"):
        has_alpha = im.mode in ("P", "PA") and im.has_transparency_data
        return im.convert("RGBA" if has_alpha else "RGB")
    if im.mode in ("L", "RGB") and "transparency" in im.info:
        return im.convert("RGBA")
    return im


def _to_srgb(im: Image.Image) -> Image.Image:
    profile = im.info.get("icc_profile")
    if not isinstance(profile, bytes) or im.mode not in ("RGB", "RGBA"):
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        converted = ImageCms.profileToProfile(im, source, _SRGB, outputMode=im.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im  # a broken profile: the pixels as they are
    return converted or im  # None only when converting in place, which this does not ask


def _uses_transparency(im: Image.Image) -> bool:
    if im.mode not in ("RGBA", "LA"):
        return False
    low, _high = im.getchannel("A").getextrema()  # one band: (lowest, highest)
    return isinstance(low, int | float) and low < 255
