"""Reference images: check one uploaded file, and keep it as it will be sent to the provider.

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from PIL import Image, ImageCms, ImageOps
from pillow_heif import register_heif_opener

from wavespeed.uploads import provider_url_for

from .images import DECODE_ERRORS, ImageTooLarge, NotAnImage, grey_to_eight_bit, open_image
from .models import Generation, GenerationReference, OutputImage, ReferenceImage
from .selectors import visible_to

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
        return ImageCms.profileToProfile(im, source, _SRGB, outputMode=im.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im  # a broken profile: the pixels as they are


def _uses_transparency(im: Image.Image) -> bool:
    if im.mode not in ("RGBA", "LA"):
        return False
    low, _high = im.getchannel("A").getextrema()
    return low < 255


# --- Storing ----------------------------------------------------------------------------------
def reference_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    file: BinaryIO | None = None,
    data: bytes | None = None,
    source_image: OutputImage | None = None,
) -> ReferenceImage:
    """Check, normalise and keep one reference for `owner` (from `file` or `data`).

    The same picture kept twice by one person is one row: the existing one is returned.
    Raises `ReferenceRejected` with a message for the person.
    """
    fp = file if file is not None else io.BytesIO(data or b"")
    image = normalise(fp, name=name)
    return reference_store(owner=owner, image=image, name=name, source_image=source_image)


def references_from_uploads(
    *, owner: AbstractBaseUser, files: Sequence[UploadedFile], room: int
) -> tuple[list[ReferenceImage], list[str]]:
    """Keep the first `room` of `files` as `owner`'s references; the rest are not even decoded.
    Returns the references and one message per file refused or left over, for the person."""
    references, errors = [], []
    for position, upload in enumerate(files):
        name = (upload.name or "unnamed file")[:100]
        if position >= room:
            errors.append(
                f"“{name}” was not added: a generation takes at most {MAX_REFERENCES} references."
            )
            continue
        try:
            references.append(reference_create(owner=owner, file=upload, name=name))
        except ReferenceRejected as exc:
            errors.append(str(exc))
    return references, errors


def reference_store(
    *,
    owner: AbstractBaseUser,
    image: NormalisedImage,
    name: str,
    source_image: OutputImage | None = None,
) -> ReferenceImage:
    """Keep an image `normalise` already made as `owner`'s reference (or return the same
    picture kept before)."""
    existing = ReferenceImage.objects.filter(owner=owner, sha256=image.sha256).first()
    if existing is not None:
        return existing
    reference = ReferenceImage(
        owner=owner,
        source_image=source_image,
        original_name=name[:200],
        width=image.width,
        height=image.height,
        bytes=len(image.data),
        format=image.format,
        content_type=image.content_type,
        sha256=image.sha256,
    )
    reference.file.save(f"reference.{image.extension}", ContentFile(image.data), save=False)
    if image.preview is not None:
        reference.preview.save("preview.webp", ContentFile(image.preview), save=False)
    try:
        with transaction.atomic():
            reference.save()
    except IntegrityError:
        # The same picture arrived twice at once: keep the first, drop our copy of the files.
        default_storage.delete(reference.file.name)
        if reference.preview:
            default_storage.delete(reference.preview.name)
        return ReferenceImage.objects.get(owner=owner, sha256=image.sha256)
    return reference


# --- Reading ----------------------------------------------------------------------------------
def references_visible_to(user: AbstractBaseUser) -> QuerySet[ReferenceImage]:
    """The references `user` may see: their own, and those used by a generation they may see."""
    used_in_visible = GenerationReference.objects.filter(
        generation__in=Generation.objects.filter(visible_to(user))
    ).values("reference_id")
    return ReferenceImage.objects.filter(Q(owner=user) | Q(pk__in=used_in_visible))


def reference_for_viewer(*, user: AbstractBaseUser, uuid: str) -> ReferenceImage:
    """A reference its owner may see, and anyone who may see a generation that uses it; else 404."""
    return get_object_or_404(references_visible_to(user), uuid=uuid)


def reference_provider_url(*, reference: ReferenceImage) -> str:
    """The provider's URL for `reference`'s bytes, through the upload cache (uploaded only
    when no fresh upload of the same bytes is known).

    Raises `WaveSpeedError` (with `permanent`) when the upload fails, and `OSError` when the
    stored file cannot be read.
    """

    def read() -> bytes:
        with default_storage.open(reference.file.name, "rb") as fp:
            return fp.read()

    extension = "jpg" if reference.format == "JPEG" else reference.format.lower()
    return provider_url_for(
        sha256=reference.sha256, extension=extension, content_type=reference.content_type, read=read
    )
