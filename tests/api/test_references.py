"""Uploading and listing reference images through the API, the Generate page's path."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from references.models import ReferenceImage
from tests.factories import image_bytes

V1 = "/api/v1"


def _upload(api, *files, as_="alice"):
    return api.client.post(
        f"{V1}/references", {"files": list(files)}, headers=api._headers(as_, None)
    )


def _png(name, color="teal", size=(640, 480)):
    return SimpleUploadedFile(name, image_bytes(size=size, color=color), "image/png")


def test_an_upload_keeps_each_picture_once_and_names_what_it_refused(api, world):
    response = _upload(
        api,
        _png("kite.png"),
        _png("again.png"),  # the same picture: the same reference
        SimpleUploadedFile("notes.txt", b"not a picture", "text/plain"),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert len({r["uuid"] for r in body["items"]}) == 1
    assert body["items"][0]["width"] == 640 and body["items"][0]["name"] == "kite.png"
    assert len(body["errors"]) == 1 and "notes.txt" in body["errors"][0]
    assert ReferenceImage.objects.filter(owner=world.users["alice"]).count() == 1


def test_an_upload_with_nothing_kept_is_422(api, world):
    response = _upload(api, SimpleUploadedFile("notes.txt", b"nope", "text/plain"))
    assert response.status_code == 422
    assert "files" in response.json()["error"]["field_errors"]


def test_an_uploaded_reference_goes_into_a_generation(api, world, pipeline):
    uploaded = _upload(api, _png("kite.png")).json()["items"][0]["uuid"]
    body = {"prompt": "a kite", "references": [uploaded]}
    response = api.post(f"{V1}/generations", body)
    assert response.status_code == 201, response.content
    assert response.json()["references"] == [uploaded]


def test_the_list_is_yours_newest_first_in_pages(api, world):
    for n, color in enumerate(("red", "green", "blue")):
        _upload(api, _png(f"{n}.png", color=color))
    _upload(api, _png("bob.png", color="white"), as_="bob")
    first = api.get(f"{V1}/references", limit=2).json()
    second = api.get(f"{V1}/references", limit=2, cursor=first["next_cursor"]).json()
    names = [r["name"] for r in first["items"] + second["items"]]
    assert names == ["2.png", "1.png", "0.png"]
    assert second["next_cursor"] is None
    assert [r["name"] for r in api.get(f"{V1}/references", as_="bob").json()["items"]] == [
        "bob.png"
    ]
    assert api.get(f"{V1}/references", cursor="broken!").status_code == 422
