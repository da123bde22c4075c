"""A create with its references uploaded in the same request (`reference_uploads`, base64): kept
through the same checks and the same store as POST /references, after the references by uuid;
nothing kept when the create is refused or replayed; a refused file named by its index."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from accounts.services import token_create
from generations.models import Generation
from generations.references import reference_create
from references.models import ReferenceImage
from spend.models import Budget
from tests.factories import image_bytes

V1 = "/api/v1"


def upload(name: str, content: bytes) -> dict:
    return {"filename": name, "content_base64": base64.b64encode(content).decode()}


def png(color: str, size=(640, 480)) -> bytes:
    return image_bytes(size=size, color=color)


def kept_files() -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def alices_references(world) -> int:
    return ReferenceImage.objects.filter(owner=world.users["alice"]).count()


def by_uuid(api, color: str) -> str:
    return api.client.post(
        f"{V1}/references",
        {"files": [io.BytesIO(png(color))]},
        headers=api._headers("alice", None),
    ).json()["items"][0]["uuid"]


def test_uploads_go_into_the_run_after_the_references_by_uuid(api, world, pipeline):
    first = by_uuid(api, "navy")
    body = {
        "prompt": "a kite over dunes",
        "references": [first],
        "reference_uploads": [upload("kite.png", png("red")), upload("dune.jpg", png("tan"))],
    }
    response = api.post(f"{V1}/generations", body)
    assert response.status_code == 201, response.content
    references = response.json()["references"]
    assert len(references) == 3 and references[0] == first
    kept = {str(r.uuid): r for r in ReferenceImage.objects.filter(owner=world.users["alice"])}
    assert set(kept) == set(references)
    assert [kept[key].original_name for key in references[1:]] == ["kite.png", "dune.jpg"]
    # As any upload: normalised (a JPEG of the pixels), with its preview.
    assert kept[references[2]].content_type == "image/jpeg" and kept[references[2]].preview


def test_a_picture_kept_before_is_that_reference_again(api, world, pipeline):
    first = by_uuid(api, "red")
    body = {"prompt": "a kite", "reference_uploads": [upload("again.png", png("red"))]}
    response = api.post(f"{V1}/generations", body)
    assert response.status_code == 201, response.content
    assert response.json()["references"] == [first]
    assert alices_references(world) == 1


def test_a_files_name_loses_what_is_not_printable_as_a_pages_upload_does(api, world, pipeline):
    # Multipart, as the Generate page and POST /references send one: Django's parser drops them.
    file = io.BytesIO(png("navy"))
    file.name = "a\x00\u202e.png"
    sent = api.client.post(
        f"{V1}/references", {"files": [file]}, headers=api._headers("alice", None)
    )
    assert sent.json()["items"][0]["name"] == "a.png"
    body = {"prompt": "a kite", "reference_uploads": [upload("b\x00\n\u202e.png", png("red"))]}
    response = api.post(f"{V1}/generations", body)
    assert response.status_code == 201, response.content
    kept = ReferenceImage.objects.get(uuid=response.json()["references"][0])
    assert kept.original_name == "b.png"


def test_a_name_with_nothing_printable_is_refused_by_its_index(api, world, pipeline):
    before = kept_files()
    body = {
        "prompt": "a kite",
        "reference_uploads": [upload("kite.png", png("red")), upload("\x00\x01", png("tan"))],
    }
    response = api.post(f"{V1}/generations", body)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["field_errors"] == {
        "reference_uploads.1": ["A file's name needs a printable character."]
    }
    assert kept_files() == before and alices_references(world) == 0


def test_each_refused_file_is_named_by_its_index_and_nothing_is_kept(api, world, pipeline):
    files, runs = kept_files(), Generation.objects.count()
    body = {
        "prompt": "a kite",
        "reference_uploads": [
            upload("kite.png", png("red")),
            upload("notes.png", b"not a picture at all"),
            {"filename": "broken.png", "content_base64": "%%% not base64 %%%"},
            upload("tiny.png", png("blue", size=(120, 90))),
        ],
    }
    response = api.post(f"{V1}/generations", body)
    assert response.status_code == 422, response.content
    errors = response.json()["error"]["field_errors"]
    assert set(errors) == {"reference_uploads.1", "reference_uploads.2", "reference_uploads.3"}
    assert "“notes.png” is not a JPEG, PNG, WebP or HEIC image" in errors["reference_uploads.1"][0]
    assert "“broken.png” is not in base64" in errors["reference_uploads.2"][0]
    assert "300 px" in errors["reference_uploads.3"][0]
    assert alices_references(world) == 0 and kept_files() == files
    assert Generation.objects.count() == runs


def test_a_refused_file_and_a_form_error_are_told_together(api, world, pipeline):
    body = {"prompt": "", "reference_uploads": [upload("notes.png", b"not a picture")]}
    response = api.post(f"{V1}/generations", body)
    assert response.status_code == 422
    assert set(response.json()["error"]["field_errors"]) == {"prompt", "reference_uploads.0"}


def test_the_uploads_count_with_the_references_by_uuid_toward_ten(api, world, pipeline):
    first = by_uuid(api, "navy")
    files_before = kept_files()
    colors = ["red", "green", "blue", "white", "black", "gray", "pink", "gold", "plum", "teal"]
    body = {
        "prompt": "a kite",
        "references": [first, first],  # counted once
        "reference_uploads": [upload(f"{c}.png", png(c)) for c in colors],
    }
    response = api.post(f"{V1}/generations", body)
    assert response.status_code == 422, response.content
    (message,) = response.json()["error"]["field_errors"]["reference_uploads"]
    assert "at most 10 references" in message and "9 may be uploaded, not 10" in message
    assert alices_references(world) == 1 and kept_files() == files_before

    body["reference_uploads"] = body["reference_uploads"][:9]
    response = api.post(f"{V1}/generations", body)
    assert response.status_code == 201, response.content
    assert len(response.json()["references"]) == 10

    eleven = {"prompt": "a kite", "reference_uploads": [upload("a.png", png("red"))] * 11}
    response = api.post(f"{V1}/generations", eleven)
    assert response.status_code == 422
    assert "reference_uploads" in response.json()["error"]["field_errors"]


def test_eleven_by_uuid_are_the_forms_refusal_and_uploads_are_named_only_when_sent(
    api, world, pipeline
):
    eleven = [str(uuid.uuid4()) for _ in range(11)]
    response = api.post(f"{V1}/generations", {"prompt": "a kite", "references": eleven})
    assert response.status_code == 422, response.content
    errors = response.json()["error"]["field_errors"]
    assert set(errors) == {"references"}  # no word on uploads that were not sent
    assert "You picked 11 references" in errors["references"][0]

    body = {"prompt": "a kite", "references": eleven, "reference_uploads": [upload("a.png", b"")]}
    response = api.post(f"{V1}/generations", body)
    (message,) = response.json()["error"]["field_errors"]["reference_uploads"]
    assert "with 11 by uuid, 0 may be uploaded, not 1." in message


def test_a_refused_create_keeps_no_upload(api, world, pipeline):
    files, runs = kept_files(), Generation.objects.count()
    uploads = [upload("kite.png", png("red"))]
    refused_by_form = {"prompt": "", "reference_uploads": uploads}
    response = api.post(f"{V1}/generations", refused_by_form)
    assert response.status_code == 422 and "prompt" in response.json()["error"]["field_errors"]

    outside = {"prompt": "a kite", "project": str(world.other_project.uuid)}
    response = api.post(f"{V1}/generations", {**outside, "reference_uploads": uploads})
    assert response.status_code == 403  # alice only views dave's project

    Budget.objects.create(person=world.users["alice"], monthly_limit=Decimal("0.01"))
    response = api.post(f"{V1}/generations", {"prompt": "a kite", "reference_uploads": uploads})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "budget_exceeded" and "$0.01" in error["message"]

    assert alices_references(world) == 0 and kept_files() == files
    assert Generation.objects.count() == runs


def test_a_replay_keeps_the_uploads_once_and_the_key_covers_them(api, world, pipeline):
    runs = Generation.objects.count()
    body = {"prompt": "a kite", "reference_uploads": [upload("kite.png", png("red"))]}
    headers = {"Idempotency-Key": "row-1"}
    first = api.post(f"{V1}/generations", body, headers=headers)
    assert first.status_code == 201, first.content
    files = kept_files()
    mtimes = {p: p.stat().st_mtime_ns for p in files}
    again = api.post(f"{V1}/generations", body, headers=headers)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["uuid"] == first.json()["uuid"]
    assert alices_references(world) == 1
    assert {p: p.stat().st_mtime_ns for p in kept_files()} == mtimes

    other_file = {"prompt": "a kite", "reference_uploads": [upload("kite.png", png("blue"))]}
    reused = api.post(f"{V1}/generations", other_file, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert alices_references(world) == 1 and Generation.objects.count() == runs + 1


def test_a_photo_larger_than_the_site_wide_body_limit_goes_through(api, world, pipeline):
    noise = Image.frombytes("RGB", (1200, 900), os.urandom(1200 * 900 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    body = {"prompt": "static", "reference_uploads": [upload("noise.png", buffer.getvalue())]}
    assert len(json.dumps(body)) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api.post(f"{V1}/generations", body)
    assert response.status_code == 201, response.content
    assert len(response.json()["references"]) == 1


def test_a_body_over_the_limit_is_413_in_the_one_shape(api, world):
    huge = {
        "prompt": "x",
        "reference_uploads": [{"filename": "a", "content_base64": "A" * 27_000_000}],
    }
    response = api.post(f"{V1}/generations", huge)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    # Elsewhere, Django's own limit: a 413 in the same shape, not a server error.
    move = api.post(f"{V1}/images/{world.personal_image.uuid}/move", {"project": "x" * 3_000_000})
    assert move.status_code == 413
    assert move.json()["error"]["code"] == "too_large"


@pytest.mark.django_db(transaction=True)
def test_the_curl_example_of_a_create_runs_as_written(live_server, tmp_path, pipeline, user):
    """The reference page's example for the create, in bash with jq and curl, against the
    site: one reference by uuid and kite.png uploaded with it."""
    from api.examples import curl

    secret = token_create(user=user, name="curl", scopes=["read", "generate"]).secret
    (tmp_path / "kite.png").write_bytes(png("red"))
    reference = reference_create(owner=user, name="dune.png", data=png("tan"))
    environment = {
        "PATH": os.environ["PATH"],
        "DARKROOM_URL": live_server.url,
        "DARKROOM_TOKEN": secret,
        "REFERENCE": str(reference.uuid),
    }
    run = subprocess.run(
        ["bash", "-c", curl("post", "/generations")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    made = json.loads(run.stdout)
    assert made["prompt"] == "a kite over the dunes at dusk", run.stdout
    assert made["references"][0] == str(reference.uuid) and len(made["references"]) == 2
    kite = ReferenceImage.objects.get(uuid=made["references"][1])
    assert kite.owner == user and kite.original_name == "kite.png"
