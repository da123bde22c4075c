"""Images saved before the 1024 px rendition existed: pages list only the sizes they have (no
address that would 404), and `manage.py backfill_thumbnails` makes the missing ones."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from generations.models import Renditions, Thumbnail
from tests.factories import make_pictured_image

pytestmark = pytest.mark.django_db


def srcset_sizes(html: str, uuid: str) -> set[int]:
    return {int(s) for s in re.findall(rf"/images/{uuid}/thumbnail/(\d+)/", html)}


def test_an_image_without_the_1024_rendition_lists_only_what_it_has_until_backfilled(
    client, user
) -> None:
    image = make_pictured_image(user, size=(1360, 768), seed=1)
    old = Thumbnail.objects.get(image=image, size=1024)
    old.file.delete(save=False)
    old.delete()

    client.force_login(user)
    html = client.get("/gallery/").content.decode()
    assert srcset_sizes(html, str(image.uuid)) == {256, 512}
    for size in srcset_sizes(html, str(image.uuid)):
        assert client.get(f"/images/{image.uuid}/thumbnail/{size}/").status_code == 200

    out = StringIO()
    call_command("backfill_thumbnails", stdout=out)
    assert "1 thumbnails made for 1 images; 0 skipped" in out.getvalue()
    made = Thumbnail.objects.get(image=image, size=1024)
    assert (made.width, made.height) == (1024, 578)
    assert default_storage.exists(made.file.name)
    html = client.get("/gallery/").content.decode()
    assert srcset_sizes(html, str(image.uuid)) == {256, 512, 1024}
    response = client.get(f"/images/{image.uuid}/thumbnail/1024/")
    assert response.status_code == 200

    # A rerun has nothing left to do.
    out = StringIO()
    call_command("backfill_thumbnails", stdout=out)
    assert "0 thumbnails made for 0 images" in out.getvalue()
    assert Thumbnail.objects.filter(image=image).count() == 3


def test_an_unreadable_original_is_reported_and_left(user) -> None:
    image = make_pictured_image(user, size=(1024, 1024), seed=2)
    Thumbnail.objects.filter(image=image, size=1024).delete()
    with default_storage.open(image.file.name, "wb") as fp:
        fp.write(b"not an image")
    err = StringIO()
    call_command("backfill_thumbnails", stdout=StringIO(), stderr=err)
    assert str(image.uuid) in err.getvalue()
    assert not Thumbnail.objects.filter(image=image, size=1024).exists()
    # Marked failed by the thumbnails step, keeping the sizes it had for its pages.
    image.refresh_from_db()
    assert image.renditions == Renditions.FAILED
    assert set(Thumbnail.objects.filter(image=image).values_list("size", flat=True)) == {256, 512}
