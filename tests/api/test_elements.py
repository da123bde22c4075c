"""POST /api/v1/elements: an element already made on Kling, added by its id through the
library page's own form and service (elements/forms.py: ElementForm, elements/services.py:
element_create), so the checks, the messages and the name rule are the page's."""

from __future__ import annotations

import base64

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from PIL import Image

from elements.models import Element
from tests.factories import image_bytes

V1 = "/api/v1"


def _body(**values) -> dict:
    return {"name": "Captain Mira", "kling_element_id": "812345678901234567", **values}


def test_an_editor_adds_an_element_to_the_projects_library(api, world):
    response = api.post(f"{V1}/elements", _body(project=str(world.project.uuid)), as_="bob")
    assert response.status_code == 201
    made = Element.objects.get(name="Captain Mira")
    assert (made.project, made.owner, made.created_by) == (world.project, None, world.users["bob"])
    assert made.kling_element_id == "812345678901234567"
    listed = {e["uuid"]: e for e in api.get(f"{V1}/elements", as_="carol").json()}
    # The answer is the element as the list shows it.
    assert response.json() == listed[str(made.uuid)]
    assert response.json()["project"] == str(world.project.uuid)
    assert response.json()["usable"] is True


def test_a_personal_element_with_a_preview(api, world):
    # Wrapped as the `base64` command wraps it.
    picture = base64.encodebytes(image_bytes(size=(1200, 800))).decode()
    assert "\n" in picture
    response = api.post(f"{V1}/elements", _body(note="red coat", preview=picture), as_="erin")
    assert response.status_code == 201
    assert response.json()["project"] is None
    made = Element.objects.get(uuid=response.json()["uuid"])
    assert (made.owner, made.project, made.note) == (world.users["erin"], None, "red coat")
    with default_storage.open(made.preview.name) as fp, Image.open(fp) as preview:
        assert (preview.format, preview.size) == ("WEBP", (512, 341))


BAD = {
    "no name": (_body(name="  "), "name"),
    "a long name": (_body(name="x" * 21), "name"),
    "an id with a space": (_body(kling_element_id="81 23"), "kling_element_id"),
    "no id": (_body(kling_element_id=""), "kling_element_id"),
    "a note too long": (_body(note="n" * 501), "note"),
    "a preview that is no picture": (
        _body(preview=base64.b64encode(b"GIF89a not really").decode()),
        "preview",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_values_get_the_library_pages_own_messages(api, world, case):
    body, field = BAD[case]
    response = api.post(f"{V1}/elements", body, as_="erin")
    assert response.status_code == 422
    errors = response.json()["error"]["field_errors"]
    assert list(errors) == [field]
    # The page, sent the same values, says the same.
    page = Client()
    page.force_login(world.users["erin"])
    form = dict(body)
    files = {}
    if "preview" in form:
        from django.core.files.uploadedfile import SimpleUploadedFile

        files["preview"] = SimpleUploadedFile("p.png", base64.b64decode(form.pop("preview")))
    html = page.post(reverse("elements:create"), {**form, "note": form.get("note", ""), **files})
    assert html.status_code == 200
    assert {k: list(v) for k, v in html.context["form"].errors.items()} == errors
    assert not Element.objects.filter(owner=world.users["erin"]).exists()


@pytest.mark.parametrize("preview", ["not base64!", "é", "QUJD\u00e9"])
def test_a_preview_that_is_not_base64_is_named(api, world, preview):
    # Outside ASCII, base64 raises ValueError rather than binascii.Error: the same 422.
    response = api.post(f"{V1}/elements", _body(preview=preview), as_="erin")
    assert response.status_code == 422
    assert response.json()["error"]["field_errors"] == {"preview": ["Not base64."]}


def test_a_body_over_the_limit_is_413_in_the_one_shape(api, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    response = api.post(f"{V1}/elements", _body(preview="A" * 1_100_000), as_="erin")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert response.json()["error"]["message"] == "The request body is over 1 MB."


def test_a_name_taken_in_the_library_is_a_conflict_with_the_pages_message(api, world):
    # The world's project library has alice's “Mira”; names are compared without case.
    body = _body(name="mira", project=str(world.project.uuid))
    response = api.post(f"{V1}/elements", body, as_="bob")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "name_taken"
    assert error["message"] == (
        "This library already has an element called “mira”: "
        "names must differ so the prompt can tell them apart."
    )
    assert error["field_errors"] == {"name": [error["message"]]}
    assert Element.objects.filter(project=world.project).count() == 1
    # Another library may have the name.
    assert api.post(f"{V1}/elements", _body(name="mira"), as_="bob").status_code == 201


def test_an_archived_elements_name_is_free(api, world):
    from elements.services import element_set_archived

    element_set_archived(element=world.element, archived=True)
    body = _body(name="Mira", project=str(world.project.uuid))
    assert api.post(f"{V1}/elements", body, as_="alice").status_code == 201


def test_a_token_limited_to_a_project_adds_only_there(api, world):
    from projects.models import Membership, Role

    restricted = "alice:other-project"  # alice views dave's project: make her an editor
    Membership.objects.filter(project=world.other_project, user=world.users["alice"]).update(
        role=Role.EDITOR
    )
    there = api.post(f"{V1}/elements", _body(project=str(world.other_project.uuid)), as_=restricted)
    assert there.status_code == 201
    elsewhere = api.post(f"{V1}/elements", _body(project=str(world.project.uuid)), as_=restricted)
    assert elsewhere.status_code == 404
    personal = api.post(f"{V1}/elements", _body(), as_=restricted)
    assert personal.status_code == 403


def test_an_archived_projects_library_is_closed_as_on_the_page(api, world):
    from django.utils import timezone

    world.project.archived_at = timezone.now()
    world.project.save(update_fields=["archived_at"])
    response = api.post(f"{V1}/elements", _body(project=str(world.project.uuid)), as_="alice")
    assert response.status_code == 403
    assert "archived" in response.json()["error"]["message"]
