"""Issue 12, finding 6: a share link served the provider's original byte for byte, so metadata
embedded in it (a prompt in a PNG text chunk, EXIF, XMP) leaked even with "show the prompt" off.
Share links now serve a stored copy without it, pixels untouched; members keep the original."""

from __future__ import annotations

import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image, PngImagePlugin

from gallery import metadata
from gallery.services import renditions
from gallery.services.sharing import share_create
from gallery.services.trash import trash_purge
from generations.models import OutputImage, SharedRendition
from tests.factories import make_image

pytestmark = pytest.mark.django_db

PROMPT = "a secret harbour at dawn, brand Acme, client Zenith"
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    f'22-rdf-syntax-ns#"><rdf:Description><dc:description>{PROMPT}</dc:description>'
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def picture(mode: str = "RGB", size: tuple[int, int] = (40, 30)) -> Image.Image:
    """Not a flat colour: every pixel differs from its neighbours."""
    image = Image.new(mode, size)
    bands = len(mode)
    image.putdata(
        [
            tuple((x * 7 + y * 13 + band * 50) % 256 for band in range(bands))
            if bands > 1
            else (x * 7 + y * 13) % 256
            for y in range(size[1])
            for x in range(size[0])
        ]
    )
    return image


def exif_with_prompt(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010E] = PROMPT  # ImageDescription
    exif[0x0131] = "WaveSpeed renderer 1.0"  # Software
    if orientation is not None:
        exif[0x0112] = orientation
    return exif


def png_with_metadata() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", PROMPT)  # tEXt, as Stable Diffusion tools write it
    info.add_text("prompt", PROMPT, zip=True)  # zTXt
    info.add_itxt("XML:com.adobe.xmp", XMP)  # iTXt
    out = io.BytesIO()
    picture("RGBA").save(out, "PNG", pnginfo=info, exif=exif_with_prompt())  # and eXIf
    data = out.getvalue()
    assert PROMPT.encode() in data
    return data


def jpeg_with_metadata(orientation: int | None = None) -> bytes:
    out = io.BytesIO()
    picture().save(
        out, "JPEG", quality=90, exif=exif_with_prompt(orientation), comment=PROMPT.encode()
    )
    data = out.getvalue()
    # XMP (APP1) and IPTC (APP13) segments, as editing tools add them after SOI.
    xmp = b"http://ns.adobe.com/xap/1.0/\x00" + XMP.encode()
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + struct.pack(">I", 60) + PROMPT.encode()
    segments = b"".join(
        marker + struct.pack(">H", len(payload) + 2) + payload
        for marker, payload in ((b"\xff\xe1", xmp), (b"\xff\xed", iptc))
    )
    return data[:2] + segments + data[2:]


def webp_with_metadata() -> bytes:
    out = io.BytesIO()
    picture().save(out, "WEBP", lossless=True, exif=exif_with_prompt(), xmp=XMP.encode())
    data = out.getvalue()
    assert b"EXIF" in data and b"XMP " in data
    return data


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


def leaks(data: bytes) -> list[str]:
    """Where the prompt is still to be found: in the bytes, or in zlib-compressed chunks."""
    found = []
    if PROMPT.encode() in data or b"Exif" in data or b"xap/1.0" in data:
        found.append("plain")
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if any(PROMPT in str(value) for value in image.info.values()):
            found.append("info")
        if dict(image.getexif()):
            found.append("exif")
    return found


def shared_image(owner, data: bytes, image_format: str) -> OutputImage:
    image = make_image(owner, prompt=PROMPT)
    extension = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}[image_format]
    name = default_storage.save(f"originals/test/original.{extension}", ContentFile(data))
    OutputImage.objects.filter(pk=image.pk).update(
        file=name, format=image_format, content_type=f"image/{extension.replace('jpg', 'jpeg')}"
    )
    image.refresh_from_db()
    return image


def served(client, image: OutputImage) -> bytes:
    link = share_create(user=image.owner, image=image, expires_in_days=None, show_prompt=False)
    response = client.get(reverse("gallery:shared_image_file", args=[link.token]))
    assert response.status_code == 200
    assert response["Content-Type"] == image.content_type
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("image_format", "make"),
    [("PNG", png_with_metadata), ("JPEG", jpeg_with_metadata), ("WEBP", webp_with_metadata)],
)
def test_a_share_link_serves_the_image_without_its_metadata(
    client, user, image_format, make
) -> None:
    original = make()
    assert leaks(original)
    image = shared_image(user, original, image_format)

    body = served(client, image)

    assert leaks(body) == []
    assert pixels(body) == pixels(original)  # not re-encoded: the very same pixels
    # The original is untouched, and members still download it byte for byte.
    with default_storage.open(image.file.name) as stored:
        assert stored.read() == original
    client.force_login(user)
    member = client.get(reverse("gallery:image_original", args=[image.uuid]))
    assert b"".join(member.streaming_content) == original


def test_the_png_keeps_what_shows_its_pixels_and_drops_every_text_chunk(user) -> None:
    stripped = metadata.strip_metadata(png_with_metadata(), "PNG")
    kinds = []
    pos = 8
    while pos < len(stripped):
        length, kind = struct.unpack(">I4s", stripped[pos : pos + 8])
        assert (
            zlib.crc32(stripped[pos + 4 : pos + 8 + length])
            == struct.unpack(">I", stripped[pos + 8 + length : pos + 12 + length])[0]
        )
        kinds.append(kind)
        pos += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert not {b"tEXt", b"zTXt", b"iTXt", b"eXIf"} & set(kinds)


def test_a_jpegs_orientation_is_kept_and_nothing_else(user) -> None:
    original = jpeg_with_metadata(orientation=6)
    stripped = metadata.strip_metadata(original, "JPEG")
    with Image.open(io.BytesIO(stripped)) as image:
        assert dict(image.getexif()) == {0x0112: 6}  # shown turned, as the original is
    assert PROMPT.encode() not in stripped
    assert pixels(stripped) == pixels(original)


def test_the_rendition_is_made_once_and_kept(client, user) -> None:
    image = shared_image(user, png_with_metadata(), "PNG")
    first = served(client, image)
    second = served(client, image)
    assert first == second
    rendition = SharedRendition.objects.get()
    assert rendition.image == image and rendition.bytes == len(first)
    assert rendition.file.name.startswith("shared/")
    _, files = default_storage.listdir(rendition.file.name.rsplit("/", 1)[0])
    assert len(files) == 1


def test_two_first_visits_at_once_keep_one_rendition(user, monkeypatch) -> None:
    """The visit that loses the race deletes its own file and serves the winner's."""
    image = shared_image(user, png_with_metadata(), "PNG")
    strip = metadata.strip_metadata

    def strip_while_another_visit_wins(data: bytes, image_format: str) -> bytes:
        stripped = strip(data, image_format)
        monkeypatch.setattr(renditions, "strip_metadata", strip)
        renditions.shared_rendition_get(image=image)  # the other visit, finishing first
        return stripped

    monkeypatch.setattr(renditions, "strip_metadata", strip_while_another_visit_wins)
    got = renditions.shared_rendition_get(image=image)

    winner = SharedRendition.objects.get()
    assert got == winner
    folders, _ = default_storage.listdir("shared")
    files = [name for folder in folders for name in default_storage.listdir(f"shared/{folder}")[1]]
    assert files == [winner.file.name.rsplit("/", 1)[1]]


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_visits_make_one_row(django_user_model) -> None:
    owner = django_user_model.objects.create_user("racer", password="pw-racer-1234")
    image = shared_image(owner, jpeg_with_metadata(), "JPEG")
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: renditions.shared_rendition_get(image=image).pk, range(4)))
    assert len(set(got)) == 1
    assert SharedRendition.objects.count() == 1


def test_a_broken_file_is_never_served_as_it_is(client, user) -> None:
    image = shared_image(user, b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "PNG")
    link = share_create(user=user, image=image, expires_in_days=None, show_prompt=False)
    response = client.get(reverse("gallery:shared_image_file", args=[link.token]))
    assert response.status_code == 404
    assert not SharedRendition.objects.exists()


def test_purging_the_image_removes_its_rendition_file(
    client, user, settings, django_capture_on_commit_callbacks
) -> None:
    image = shared_image(user, png_with_metadata(), "PNG")
    served(client, image)
    name = SharedRendition.objects.get().file.name
    OutputImage.objects.filter(pk=image.pk).update(
        deleted_at=timezone.now() - timedelta(days=settings.DARKROOM_TRASH_DAYS + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert trash_purge() == 1
    assert not SharedRendition.objects.exists()
    assert not default_storage.exists(name)
