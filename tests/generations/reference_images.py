"""Image files for the reference tests, made with Pillow (and pillow-heif for HEIC)."""

from __future__ import annotations

import io
import os

from PIL import ExifTags, Image

GPS_IFD = ExifTags.IFD.GPSInfo
ORIENTATION = 0x0112


def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def gradient(size: tuple[int, int] = (640, 480), mode: str = "RGB") -> Image.Image:
    """Not a flat colour: a re-encode changes it, and a rotation shows."""
    base = Image.linear_gradient("L").resize(size)
    if mode == "L":
        return base
    return Image.merge("RGB", (base, base.rotate(90).resize(size), Image.new("L", size, 90)))


def png(size: tuple[int, int] = (640, 480), color: str = "teal") -> bytes:
    return encoded(Image.new("RGB", size, color), "PNG")


def photo_with_gps_and_orientation(size: tuple[int, int] = (600, 400)) -> bytes:
    """A JPEG stored `size` wide, whose EXIF says "rotate 90° clockwise" (6), with a GPS fix."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (52.0, 22.0, 30.5)
    gps[3] = "E"
    gps[4] = (4.0, 53.0, 10.0)
    # Left half black, right half white: once upright, black is on top.
    image = Image.new("RGB", size, "white")
    image.paste((0, 0, 0), (0, 0, size[0] // 2, size[1]))
    return encoded(image, "JPEG", exif=exif.tobytes(), quality=90)


def noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Incompressible pixels, for files that must be large."""
    channels = len(mode)
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * channels))


def decompression_bomb() -> bytes:
    """A few kilobytes that claim 100 megapixels (a 1-bit PNG of zeros)."""
    return encoded(Image.new("1", (10_000, 10_000)), "PNG")


def heic(size: tuple[int, int] = (640, 480)) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return encoded(gradient(size), "HEIF", quality=80)
