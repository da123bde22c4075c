"""Downloading a selection as a streamed ZIP: the originals byte for byte, and their metadata."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts.models import Profile
from gallery.services.bulk import MAX_SELECTION
from generations.models import Generation, OutputImage, ResultType
from projects.models import Role
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db

ZIP_URL = reverse("gallery:bulk_zip")


def post_zip(client, images: list[OutputImage], **extra: object):
    return client.post(ZIP_URL, {"images": [str(i.uuid) for i in images], **extra})


def read_zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def stored_bytes(image: OutputImage) -> bytes:
    with default_storage.open(image.file.name, "rb") as file:
        return file.read()


def set_cost(image: OutputImage, cost: str, **fields: object) -> None:
    Generation.objects.filter(pk=image.generation_id).update(cost=Decimal(cost), **fields)
    image.generation.refresh_from_db()


@pytest.fixture
def images(user, django_user_model) -> list[OutputImage]:
    """ada's personal image (a generation of three, $0.084), and a teammate's in a project."""
    Profile.objects.create(user=user, display_name="Ada L.")
    personal = make_image(user, prompt="=SUM(1) a kite — über den Wolken")
    set_cost(personal, "0.0840", num_images=3, prompt_original="a kite")
    teammate = django_user_model.objects.create_user("grace", password="pw-grace-123456")
    project = make_project(teammate, "Harbour")
    add_member(project, user, Role.VIEWER)
    shared = make_image(teammate, project=project, prompt="a harbour at dawn")
    return [personal, shared]


def test_the_zip_holds_the_originals_and_their_metadata(client, user, images) -> None:
    personal, shared = images
    client.force_login(user)

    response = post_zip(client, images)

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="darkroom-20')
    assert response["Content-Disposition"].endswith('.zip"')
    archive = read_zip(response)
    assert archive.testzip() is None
    assert archive.namelist() == [
        personal.download_name,
        shared.download_name,
        "metadata.json",
        "metadata.csv",
    ]
    for image in images:
        assert archive.read(image.download_name) == stored_bytes(image)

    rows = json.loads(archive.read("metadata.json"))["images"]
    assert [row["uuid"] for row in rows] == [str(personal.uuid), str(shared.uuid)]
    first, second = rows
    assert first["file"] == personal.download_name
    assert first["prompt"] == "=SUM(1) a kite — über den Wolken"
    assert first["prompt_original"] == "a kite"
    assert first["author"] == "Ada L."
    assert first["project"] == ""
    assert first["cost"] == "0.0280"  # $0.084 for three images
    assert first["parameters"] == {
        "aspect_ratio": "auto",
        "resolution": "1k",
        "result_type": "single",
        "num_images": 3,
        "request_payload": {"prompt": "=SUM(1) a kite — über den Wolken"},
    }
    assert first["created_at"] == personal.created_at.isoformat()
    assert (first["width"], first["height"], first["sha256"]) == (64, 48, "0" * 64)
    assert second["author"] == "grace"
    assert second["project"] == "Harbour"
    assert second["cost"] == "0.0280"

    text = archive.read("metadata.csv").decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [row["uuid"] for row in table] == [str(personal.uuid), str(shared.uuid)]
    assert table[0]["file"] == personal.download_name
    # A spreadsheet must not run a prompt as a formula; metadata.json keeps it exact.
    assert table[0]["prompt"] == "'=SUM(1) a kite — über den Wolken"
    assert table[0]["cost"] == "0.0280"
    assert table[0]["num_images"] == "3"
    assert json.loads(table[0]["request_payload"]) == first["parameters"]["request_payload"]
    assert table[1]["project"] == "Harbour"
    assert table[1]["author"] == "grace"


def test_a_cost_that_does_not_divide_evenly_is_rounded_to_six_places(client, user) -> None:
    image = make_image(user)
    # A series delivered three images and was charged $0.056.
    set_cost(image, "0.0560", result_type=ResultType.SERIES, output_urls=["https://a", "b", "c"])
    client.force_login(user)
    rows = json.loads(read_zip(post_zip(client, [image])).read("metadata.json"))["images"]
    assert rows[0]["cost"] == "0.018667"


def test_an_uncharged_generation_has_an_empty_cost(client, user) -> None:
    image = make_image(user)
    Generation.objects.filter(pk=image.generation_id).update(cost=None)
    client.force_login(user)
    rows = json.loads(read_zip(post_zip(client, [image])).read("metadata.json"))["images"]
    assert rows[0]["cost"] == ""


def test_originals_are_read_in_chunks(client, user, monkeypatch) -> None:
    from gallery.services import archives

    monkeypatch.setattr(archives, "CHUNK_BYTES", 100)
    image = make_image(user)
    reads: list[int] = []
    real_chunks = archives._chunks

    def counting(name: str):
        for chunk in real_chunks(name):
            reads.append(len(chunk))
            yield chunk

    monkeypatch.setattr(archives, "_chunks", counting)
    client.force_login(user)
    response = post_zip(client, [image])
    assert reads == []  # nothing is read before the response is sent
    archive = read_zip(response)
    assert archive.read(image.download_name) == stored_bytes(image)
    assert len(reads) > 1 and max(reads) <= 100


def test_one_invisible_image_refuses_the_whole_zip(client, user, outsider, images) -> None:
    strangers = make_image(outsider, prompt="not yours")
    client.force_login(user)
    assert post_zip(client, [*images, strangers]).status_code == 404


def test_an_outsider_cannot_zip(client, outsider, images) -> None:
    client.force_login(outsider)
    assert post_zip(client, images).status_code == 404
    assert post_zip(client, images[1:]).status_code == 404


def test_signed_out_people_are_sent_to_log_in(client, images) -> None:
    response = post_zip(client, images)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_malformed_id_is_not_found(client, user) -> None:
    client.force_login(user)
    assert client.post(ZIP_URL, {"images": ["not-a-uuid"]}).status_code == 404


def test_only_post(client, user, images) -> None:
    client.force_login(user)
    assert client.get(ZIP_URL, {"images": [str(images[0].uuid)]}).status_code == 405


def test_an_empty_selection_goes_back_with_a_message(client, user) -> None:
    client.force_login(user)
    response = client.post(ZIP_URL, {"next": "/gallery/?ratio=1:1"})
    assert response.status_code == 302
    assert response["Location"] == "/gallery/?ratio=1:1"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Select at least one image first."
    ]


def test_too_many_images_go_back_with_a_message(client, user) -> None:
    client.force_login(user)
    too_many = [str(uuid.uuid4()) for _ in range(MAX_SELECTION + 1)]
    response = client.post(ZIP_URL, {"images": too_many})
    assert response.status_code == 302
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"at most {MAX_SELECTION}" in message


def test_a_foreign_next_url_is_not_followed(client, user) -> None:
    client.force_login(user)
    response = client.post(ZIP_URL, {"next": "https://evil.example/phish"})
    assert response["Location"] == reverse("gallery:gallery")
