"""Verify an image, read its real format and size, and make its thumbnails: one decode.

Pure functions over file objects, no Django, so they are easy to test and to bench
(`bench/saving.py`).

Decisions, with the figures from docs/measured.md behind them:

- Only PNG, JPEG and WebP are opened (`Image.open(..., formats=...)`), whatever the file is
  called; anything else, or a file that fails to decode to the end, raises `NotAnImage`.
- The pixel count is checked from the header, before any decoding; Pillow's own
  `DecompressionBombWarning` is turned into an error too.
- `width` and `height` are the file's stored size: originals are kept byte for byte, so
  they describe those bytes. The thumbnails are turned upright by the EXIF orientation
  (browsers honour it on the original, and the thumbnails carry no metadata), so a
  thumbnail's own `width`/`height` may be swapped relative to the original's.
- Thumbnails are made from a single decode: JPEG decodes straight at 1/2, 1/4 or 1/8 scale
  (`draft`), to the smallest scale still at least twice the largest thumbnail; then an
  integer box `reduce()` down to about twice the target (Pillow's `reducing_gap=2`), then
  BICUBIC to the largest thumbnail. Each smaller one is made from the one before it with
  LANCZOS (512 from 1024, 256 from 512). By bench/image_work.py (PSNR of the resized pixels
  against LANCZOS from the full decode): BICUBIC for that first step saves 20-30 ms per 2k
  or 4k image for 41-43 dB and 8 % less edge contrast on the 1024 px, invisible at 3x zoom;
  in the cascade it would save only 3-9 ms but soften the 512 and 256 px that gallery pages
  show most (41 dB against 50-52, 10 % less edge contrast), so the cascade stays LANCZOS.
  Reducing straight to the target (`reducing_gap=1`) is cheaper still but drops to 36-38 dB.
- WebP quality 80. Method 2 for the 256 and 512 px thumbnails: ~12 ms less per image than
  libwebp's default method 4 for ~3 % more bytes (bench/saving.py). Method 0 for the 1024 px
  one, fetched only by wide tiles and 2-3x screens: 22 ms to encode instead of 36, the same
  PSNR, 13-21 % more bytes for that size (bench/image_work.py). 14 ms per image is ~1.4 s of
  wall time for 200 generations on a two-core worker (issue 13 asks for ≤ 14 s in all).
- The BlurHash placeholder comes from a 32 px copy of the upright 256 px thumbnail (about a
  millisecond; imaging/placeholders.py), not from another decode.
- libvips (pyvips + pyvips-binary) does the same work 15-35 % faster still, and sharper on
  the 1024 px (bench/image_work.py); not adopted yet: a second set of decoders for untrusted
  uploads, 18 MB of bundled libraries, and libvips used in Celery's forked children is
  untested here. docs/measured.md has the figures.
"""

from __future__ import annotations

import hashlib
import struct
import warnings
import zlib
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO

from PIL import Image

from .placeholders import placeholder_from_image

THUMBNAIL_SIZES: tuple[int, ...] = (256, 512, 1024)  # longest side in px, WebP
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")

WEBP_QUALITY = 80
WEBP_METHOD = 2
WEBP_METHOD_LARGEST = 0  # the 1024 px thumbnail: see the module's docstring
REDUCING_GAP = 2.0
FIRST_RESAMPLING = Image.Resampling.BICUBIC  # decode (reduced) -> largest thumbnail
CASCADE_RESAMPLING = Image.Resampling.LANCZOS  # each thumbnail -> the next smaller one

_ORIENTATION_TAG = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# What a broken or hostile file can make Pillow raise while opening or decoding it.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)


class NotAnImage(ValueError):
    """The bytes are not an image we accept; the message can be shown to the user."""


class ImageTooLarge(NotAnImage):
    """The image has more pixels than we are willing to decode."""


@dataclass(frozen=True)
class Thumbnail:
    size: int  # the longest side it was made for, one of THUMBNAIL_SIZES
    width: int
    height: int
    data: bytes  # encoded WebP


@dataclass(frozen=True)
class VerifiedImage:
    format: str  # "PNG", "JPEG" or "WEBP", from the bytes
    content_type: str
    width: int  # as stored in the file (before EXIF orientation)
    height: int


@dataclass(frozen=True)
class ProcessedImage(VerifiedImage):
    thumbnails: tuple[Thumbnail, ...]  # in THUMBNAIL_SIZES order
    placeholder: str = ""  # a BlurHash of the upright image (imaging/placeholders.py)


def sha256_file(fp: BinaryIO) -> str:
    """Hex SHA-256 of the whole file, read in chunks from the start."""
    fp.seek(0)
    # typeshed asks for readinto(), which the file objects passed here (Django's files) have.
    return hashlib.file_digest(fp, "sha256").hexdigest()  # type: ignore[arg-type]


def fit_within(width: int, height: int, size: int) -> tuple[int, int]:
    """The size of `width` x `height` scaled down so its longest side is `size`; never up."""
    longest = max(width, height)
    if longest <= size:
        return width, height
    scale = size / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def process_image(fp: BinaryIO, *, max_pixels: int = 40_000_000) -> ProcessedImage:
    """Decode `fp` once (from the start), check it, and make its WebP thumbnails.

    Raises `NotAnImage` for anything that is not a complete PNG, JPEG or WebP image, and
    `ImageTooLarge` (a `NotAnImage`) when it has more than `max_pixels` pixels.
    """
    fp.seek(0)
    with open_image(fp, max_pixels=max_pixels) as im:
        image_format = im.format
        if image_format is None:  # open_image opens only the formats it names
            raise NotAnImage(_not_an_image_message())
        width, height = im.size
        largest = max(THUMBNAIL_SIZES)
        target = fit_within(width, height, largest)
        # JPEG only (a no-op for the others): decode at a reduced DCT scale. `box` maps
        # the original's coordinates onto the drafted image, whose size is rounded up.
        drafted = im.draft(None, (int(target[0] * REDUCING_GAP), int(target[1] * REDUCING_GAP)))
        box = drafted[1] if drafted else None
        try:
            im.load()
        except DECODE_ERRORS as exc:
            raise NotAnImage("The image file is damaged or incomplete.") from exc
        orientation = _orientation(im)
        source = _for_resizing(im)
        icc_profile = _rgb_profile(im) if source.mode in ("RGB", "RGBA") else None
        resized = source.resize(target, FIRST_RESAMPLING, box, REDUCING_GAP)
        del source

    thumbnails = []
    for size in sorted(THUMBNAIL_SIZES, reverse=True):
        thumb_size = fit_within(width, height, size)
        if resized.size != thumb_size:
            resized = resized.resize(thumb_size, CASCADE_RESAMPLING)
        upright = resized
        if orientation in _TRANSPOSE_FOR_ORIENTATION:
            upright = resized.transpose(_TRANSPOSE_FOR_ORIENTATION[orientation])
        if size == min(THUMBNAIL_SIZES):
            # From the smallest thumbnail, already upright: about a millisecond.
            placeholder = placeholder_from_image(upright)
        thumbnails.append(
            Thumbnail(
                size=size,
                width=upright.width,
                height=upright.height,
                data=_encode_webp(
                    upright,
                    icc_profile=icc_profile,
                    method=WEBP_METHOD_LARGEST if size == largest else WEBP_METHOD,
                ),
            )
        )
    thumbnails.sort(key=lambda t: THUMBNAIL_SIZES.index(t.size))
    return ProcessedImage(
        format=image_format,
        content_type=Image.MIME[image_format],
        width=width,
        height=height,
        thumbnails=tuple(thumbnails),
        placeholder=placeholder,
    )


def verify_image(fp: BinaryIO, *, max_pixels: int = 40_000_000) -> VerifiedImage:
    """Check `fp` (from the start) is a whole PNG, JPEG or WebP image without decoding its
    pixels: what a save needs before it shows the original; `process_image` decodes it later.

    The header gives format and size and is held to `max_pixels`; then Pillow's `verify()`:
    for a PNG it reads every chunk and checks its CRC up to IEND (a truncated or corrupted file
    fails): 0.5 ms for a 1k PNG and 8 ms for a 4k one, against 76 and 374 ms for the decode and
    thumbnails (bench/verify_cost.py). For JPEG and WebP Pillow's verify reads nothing more: a
    file damaged past its header passes here and fails in `process_image`, which marks the
    image's thumbnails as impossible (its original is still served as the provider sent it).
    Raises `NotAnImage` (or `ImageTooLarge`) like `process_image`.
    """
    fp.seek(0)
    with open_image(fp, max_pixels=max_pixels) as im:
        image_format = im.format
        if image_format is None:
            raise NotAnImage(_not_an_image_message())
        width, height = im.size
        try:
            im.verify()
        except DECODE_ERRORS as exc:
            raise NotAnImage("The image file is damaged or incomplete.") from exc
    return VerifiedImage(
        format=image_format,
        content_type=Image.MIME[image_format],
        width=width,
        height=height,
    )


def _not_an_image_message() -> str:
    names = [{"WEBP": "WebP"}.get(name, name) for name in ALLOWED_FORMATS]
    return f"The file is not a {', '.join(names[:-1])} or {names[-1]} image."


def open_image(
    fp: BinaryIO, *, max_pixels: int, formats: tuple[str, ...] = ALLOWED_FORMATS
) -> Image.Image:
    """Open (parse the header only) and refuse images over `max_pixels` before decoding.

    Raises `ImageTooLarge`, or `NotAnImage` for anything not in one of `formats`. The pixel cap
    is checked here against the header rather than by lowering Pillow's global
    MAX_IMAGE_PIXELS, which other threads share."""
    try:
        # catch_warnings is process-wide state. Under threads a race can only keep the filter
        # on longer, or let one warning through as a log line: the max_pixels check below
        # still refuses the image.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(fp, formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(_too_large_message(max_pixels)) from exc
    except DECODE_ERRORS as exc:
        raise NotAnImage(_not_an_image_message()) from exc
    if im.width * im.height > max_pixels:
        im.close()
        raise ImageTooLarge(_too_large_message(max_pixels))
    return im


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (1 = upright); a broken EXIF block counts as upright.

    Call after `load()`: PNG may keep EXIF in an eXIf chunk after the pixels.
    """
    try:
        orientation = im.getexif().get(_ORIENTATION_TAG, 1)
    except DECODE_ERRORS:
        return 1
    return orientation if isinstance(orientation, int) else 1


def _rgb_profile(im: Image.Image) -> bytes | None:
    """The embedded ICC profile if it describes RGB (a CMYK or grey one would not fit)."""
    profile = im.info.get("icc_profile")
    if isinstance(profile, bytes) and profile[16:20] == b"RGB ":
        return profile
    return None


def _too_large_message(max_pixels: int) -> str:
    return f"The image is too large: at most {max_pixels / 1_000_000:g} megapixels are allowed."


def _for_resizing(im: Image.Image) -> Image.Image:
    """`im` in a mode that resizes well and that WebP can take, keeping any transparency.

    L and LA stay as they are (a third of the work of RGB); WebP's encoder turns them
    into RGB(A) on the small image.
    """
    if im.mode in ("RGB", "RGBA", "L", "LA") and "transparency" not in im.info:
        return im
    if im.mode.startswith("I"):
        return grey_to_eight_bit(im)
    if im.mode == "1":
        return im.convert("L")
    # P, PA, CMYK, YCbCr, and RGB/L with a transparent colour key (tRNS).
    return im.convert("RGBA" if im.has_transparency_data else "RGB")


def grey_to_eight_bit(im: Image.Image) -> Image.Image:
    """A 16-bit (or 32-bit integer) greyscale image, scaled rather than clipped, as 8-bit L."""
    return im.convert("I").point(lambda v: v / 257).convert("L")


def _encode_webp(im: Image.Image, *, icc_profile: bytes | None, method: int) -> bytes:
    out = BytesIO()
    # An RGB colour profile (e.g. Display P3) is kept so that colours match the original;
    # no other metadata is carried over.
    im.save(
        out,
        "WEBP",
        quality=WEBP_QUALITY,
        method=method,
        icc_profile=icc_profile or None,
    )
    return out.getvalue()
