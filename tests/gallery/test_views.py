"""The gallery and the image page as a person uses them, and what an outsider gets: nothing.
(`done_generation` is tests/conftest.py's: a generation run through the simulator.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_gallery_shows_my_images_newest_first(client, user, done_generation) -> None:
    client.force_login(user)
    html = client.get(reverse("gallery:gallery")).content.decode()
    images = list(done_generation.images.order_by("-created_at", "-id"))
    positions = [html.index(str(image.uuid)) for image in images]
    assert positions == sorted(positions)


def test_the_image_page_shows_everything_about_it(client, user, done_generation) -> None:
    client.force_login(user)
    image = done_generation.images.first()
    html = client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
    assert "a quiet forest" in html
    assert done_generation.provider_id in html
    assert "$0.0560" in html
    assert f"{image.width} × {image.height} px" in html
    assert f"?again={done_generation.uuid}" in html


def test_the_download_is_the_original_file(client, user, done_generation) -> None:
    from django.core.files.storage import default_storage

    client.force_login(user)
    image = done_generation.images.first()
    response = client.get(reverse("gallery:image_original", args=[image.uuid]), {"download": "1"})
    body = b"".join(response.streaming_content)
    with default_storage.open(image.file.name) as fp:
        assert body == fp.read()
    assert response["Content-Type"] == "image/png"
    assert "attachment" in response["Content-Disposition"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("view", ["image_detail", "image_original", "image_thumbnail"])
def test_an_outsider_gets_not_found(client, outsider, done_generation, view: str) -> None:
    client.force_login(outsider)
    image = done_generation.images.first()
    args = [image.uuid, 256] if view == "image_thumbnail" else [image.uuid]
    assert client.get(reverse(f"gallery:{view}", args=args)).status_code == 404


def test_signed_out_media_requests_are_refused(client, done_generation) -> None:
    image = done_generation.images.first()
    response = client.get(reverse("gallery:image_original", args=[image.uuid]))
    assert response.status_code == 302
