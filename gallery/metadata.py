"""Removing the metadata embedded in an image file, without touching its pixels.

A provider's original may carry text beside the picture: PNG text chunks (a prompt, the
software), EXIF and XMP (in JPEG APP1 segments, PNG eXIf/iTXt chunks, WebP EXIF/XMP chunks),
IPTC (JPEG APP13), comments. Share links serve `strip_metadata`'s copy instead (see
services/renditions.py). The compressed picture data is copied byte for byte, so the pixels are
exactly the original's; what describes how to show them stays (colour profile, gamma,
transparency, animation, and the EXIF orientation, re-written as a minimal EXIF block holding
nothing else).

Each format keeps an allow-list of chunks or segments: anything not known to be needed for the
picture goes, including private chunks nobody here knows (C2PA, vendor tags).
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

ORIENTATION_TAG = 0x0112


class NotStrippable(ValueError):
    """The file is not a well-formed PNG, JPEG or WebP; it is not served stripped."""


def strip_metadata(data: bytes, image_format: str) -> bytes:
    """`data` (a PNG, JPEG or WebP, as `OutputImage.format` names it) without its metadata."""
    orientation = _orientation(data)
    if image_format == "PNG":
        return _strip_png(data, orientation)
    if image_format == "JPEG":
        return _strip_jpeg(data, orientation)
    if image_format == "WEBP":
        return _strip_webp(data, orientation)
    raise NotStrippable(f"No metadata stripping for {image_format} files.")


def _orientation(data: bytes) -> int:
    """The EXIF orientation (1 to 8) the viewer's browser applies; 1 when there is none."""
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the headers only
            value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block orients nothing
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _minimal_exif(orientation: int) -> bytes:
    """A big-endian TIFF block with one entry, the orientation: what EXIF chunks contain."""
    return (
        b"MM\x00\x2a"
        + struct.pack(">I", 8)  # the first IFD follows the header
        + struct.pack(">H", 1)  # one entry
        + struct.pack(">HHIHH", ORIENTATION_TAG, 3, 1, orientation, 0)  # SHORT, left-justified
        + struct.pack(">I", 0)  # no next IFD
    )


# --- PNG ----------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What a decoder needs, and what changes how the pixels are shown (colour, transparency,
# physical size, animation). Text (tEXt, zTXt, iTXt), eXIf, tIME and every other chunk go.
PNG_KEEP = {
    b"IHDR",
    b"PLTE",
    b"IDAT",
    b"IEND",
    b"tRNS",
    b"cHRM",
    b"gAMA",
    b"iCCP",
    b"sBIT",
    b"sRGB",
    b"cICP",
    b"mDCV",
    b"cLLI",
    b"bKGD",
    b"pHYs",
    b"acTL",
    b"fcTL",
    b"fdAT",
}


def _strip_png(data: bytes, orientation: int) -> bytes:
    if not data.startswith(PNG_SIGNATURE):
        raise NotStrippable("Not a PNG file.")
    view = memoryview(data)
    out = [view[:8]]
    pos = 8
    while True:
        if pos + 12 > len(data):
            raise NotStrippable("The PNG file ends before its IEND chunk.")
        length, kind = struct.unpack(">I4s", view[pos : pos + 8])
        end = pos + 12 + length  # length, type, data, CRC
        if end > len(data):
            raise NotStrippable("A PNG chunk runs past the end of the file.")
        if kind in PNG_KEEP:
            out.append(view[pos:end])
        if kind == b"IHDR" and orientation != 1:
            out.append(_png_chunk(b"eXIf", _minimal_exif(orientation)))
        pos = end
        if kind == b"IEND":
            return b"".join(out)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


# --- JPEG ---------------------------------------------------------------------------------------

SOI, EOI, SOS, COM = 0xD8, 0xD9, 0xDA, 0xFE
APP0, APP2, APP14, APP15 = 0xE0, 0xE2, 0xEE, 0xEF
STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and the restart markers carry no length


def _keep_jpeg_segment(code: int, payload: memoryview) -> bool:
    """Everything that is not an application segment or a comment is picture data (tables,
    frame and scan headers); of the application segments only JFIF, the ICC colour profile and
    Adobe's colour-transform flag say how to show it. EXIF and XMP (APP1), IPTC (APP13) and
    comments go."""
    if code == COM:
        return False
    if not APP0 <= code <= APP15:
        return True
    head = bytes(payload[:12])
    if code == APP0:
        return head.startswith((b"JFIF\x00", b"JFXX\x00"))
    if code == APP2:
        return head.startswith(b"ICC_PROFILE\x00")
    if code == APP14:
        return head.startswith(b"Adobe")
    return False


def _strip_jpeg(data: bytes, orientation: int) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise NotStrippable("Not a JPEG file.")
    view = memoryview(data)
    out = [view[:2]]
    if orientation != 1:
        tiff = b"Exif\x00\x00" + _minimal_exif(orientation)
        out.append(b"\xff\xe1" + struct.pack(">H", len(tiff) + 2) + tiff)
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise NotStrippable("A JPEG segment does not start with a marker.")
        while pos + 1 < len(data) and data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
        if pos + 1 >= len(data):
            break
        code = data[pos + 1]
        if code == EOI:
            out.append(view[pos : pos + 2])
            return b"".join(out)
        if code in STANDALONE:
            out.append(view[pos : pos + 2])
            pos += 2
            continue
        if pos + 4 > len(data):
            raise NotStrippable("The JPEG file ends inside a segment header.")
        end = pos + 2 + int.from_bytes(view[pos + 2 : pos + 4], "big")
        if end > len(data):
            raise NotStrippable("A JPEG segment runs past the end of the file.")
        if _keep_jpeg_segment(code, view[pos + 4 : end]):
            out.append(view[pos:end])
        pos = end
        if code == SOS:  # the entropy-coded scan runs to the next real marker
            scan_end = _scan_end(data, pos)
            out.append(view[pos:scan_end])
            pos = scan_end
    raise NotStrippable("The JPEG file ends before its EOI marker.")


def _scan_end(data: bytes, pos: int) -> int:
    """Where the scan data starting at `pos` ends: the first 0xFF that begins a marker (not a
    stuffed 0xFF00, a restart marker or a fill byte)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos


# --- WebP ---------------------------------------------------------------------------------------

# VP8X flags (the byte after the chunk header): which optional chunks the file has.
VP8X_EXIF = 0x08
VP8X_XMP = 0x04
WEBP_DROP = {b"EXIF", b"XMP "}
WEBP_KNOWN = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"}


def _strip_webp(data: bytes, orientation: int) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise NotStrippable("Not a WebP file.")
    view = memoryview(data)
    end_of_riff = min(len(data), 8 + int.from_bytes(view[4:8], "little"))
    chunks: list[bytes | memoryview] = []
    pos = 12
    while pos + 8 <= end_of_riff:
        kind = bytes(view[pos : pos + 4])
        size = int.from_bytes(view[pos + 4 : pos + 8], "little")
        end = pos + 8 + size + (size & 1)  # chunks are padded to an even length
        if end > end_of_riff:
            raise NotStrippable("A WebP chunk runs past the end of the file.")
        if kind == b"VP8X":
            flags = view[pos + 8] & ~(VP8X_EXIF | VP8X_XMP)
            if orientation != 1:
                flags |= VP8X_EXIF
            chunks.append(bytes(view[pos : pos + 8]) + bytes([flags]) + bytes(view[pos + 9 : end]))
        elif kind in WEBP_KNOWN:
            chunks.append(view[pos:end])
        pos = end
    if orientation != 1 and any(bytes(c[:4]) == b"VP8X" for c in chunks):
        exif = _minimal_exif(orientation)
        chunks.append(b"EXIF" + struct.pack("<I", len(exif)) + exif)
    body = b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body
