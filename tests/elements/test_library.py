"""The element library: create, edit, archive, previews, and who may do what."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from elements.models import Element
from projects.models import Project, Role
from tests.factories import add_member, image_bytes, make_project

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str = "face.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def form_data(**overrides: object) -> dict[str, object]:
    return {
        "name": "Captain Mira",
        "kling_element_id": "812345678901234567",
        "note": "",
        **overrides,
    }


def test_a_person_adds_an_element_to_their_own_library(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("elements:create"),
        form_data(note="red coat", preview=upload(image_bytes(size=(1200, 800)))),
    )
    element = Element.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("elements:library") + f"#element-{element.uuid}"
    assert (element.owner, element.project, element.created_by) == (user, None, user)
    assert (element.name, element.kling_element_id, element.note) == (
        "Captain Mira",
        "812345678901234567",
        "red coat",
    )
    with default_storage.open(element.preview.name) as fp, Image.open(fp) as preview:
        assert (preview.format, preview.size) == ("WEBP", (512, 341))
    html = client.get(reverse("elements:library")).content.decode()
    assert "Captain Mira" in html and "812345678901234567" in html


def test_the_preview_loses_its_metadata_and_is_turned_upright(client, user) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the picture is stored on its side
    exif[0x8825] = {2: (51.0, 30.0, 0.0), 1: "N"}  # GPS position
    client.force_login(user)
    client.post(
        reverse("elements:create"),
        form_data(preview=upload(image_bytes("JPEG", (300, 200), exif=exif), "me.jpg")),
    )
    element = Element.objects.get()
    with default_storage.open(element.preview.name) as fp:
        data = fp.read()
    with Image.open(io.BytesIO(data)) as preview:
        assert preview.size == (200, 300)
        assert not preview.getexif()
    assert b"Exif" not in data and b"GPS" not in data


def test_a_fake_image_is_refused_and_the_rest_of_the_form_is_kept(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("elements:create"),
        form_data(note="keep this note", preview=upload(b"<?php echo 'hi'; ?>", "evil.png")),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The file is not a PNG, JPEG or WebP image." in html
    assert "Captain Mira" in html and "keep this note" in html
    assert not Element.objects.exists()


def test_a_gif_is_refused_even_when_it_decodes(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("elements:create"), form_data(preview=upload(image_bytes("GIF"), "a.png"))
    )
    assert "The file is not a PNG, JPEG or WebP image." in response.content.decode()
    assert not Element.objects.exists()


def test_a_name_over_twenty_characters_is_refused(client, user) -> None:
    client.force_login(user)
    response = client.post(reverse("elements:create"), form_data(name="x" * 21))
    assert "Kling Elements allows at most 20 characters in a name." in response.content.decode()
    assert not Element.objects.exists()


def test_names_are_unique_among_the_live_elements_of_one_library(
    client, user, outsider, make_element
) -> None:
    make_element(user, name="Captain Mira")
    make_element(outsider, name="Captain Mira")  # another library: fine
    client.force_login(user)
    response = client.post(reverse("elements:create"), form_data(name="captain mira"))
    assert "already has an element called “captain mira”" in response.content.decode()
    assert Element.objects.filter(owner=user).count() == 1


def test_an_archived_name_can_be_reused_but_not_brought_back_twice(
    client, user, make_element
) -> None:
    old = make_element(user, name="Mira")
    client.force_login(user)
    client.post(reverse("elements:archive", args=[old.uuid]), {"archive": "1"})
    old.refresh_from_db()
    assert old.is_archived
    client.post(reverse("elements:create"), form_data(name="Mira"))
    assert Element.objects.live().filter(name="Mira").count() == 1
    response = client.post(
        reverse("elements:archive", args=[old.uuid]), {"archive": "0"}, follow=True
    )
    old.refresh_from_db()
    assert old.is_archived
    assert "already has an element called “Mira”" in response.content.decode()


def test_archiving_greys_it_in_the_library_and_unarchiving_brings_it_back(
    client, user, make_element
) -> None:
    element = make_element(user, name="Old Boat")
    client.force_login(user)
    client.post(reverse("elements:archive", args=[element.uuid]), {"archive": "1"})
    html = client.get(reverse("elements:library")).content.decode()
    assert "element-card is-archived" in html and "Unarchive" in html and "Old Boat" in html
    client.post(reverse("elements:archive", args=[element.uuid]), {"archive": "0"})
    element.refresh_from_db()
    assert not element.is_archived


def test_editing_changes_it_and_replaces_the_preview(
    client, user, make_element, django_capture_on_commit_callbacks
) -> None:
    element = make_element(user, name="Mira", preview=True)
    old_preview = element.preview.name
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("elements:edit", args=[element.uuid]),
            form_data(name="Mira Two", kling_element_id="42", preview=upload(image_bytes())),
        )
    assert response.status_code == 302
    element.refresh_from_db()
    assert (element.name, element.kling_element_id) == ("Mira Two", "42")
    assert element.preview.name != old_preview
    assert default_storage.exists(element.preview.name)
    assert not default_storage.exists(old_preview)


def test_editing_without_a_new_picture_keeps_the_preview(client, user, make_element) -> None:
    element = make_element(user, preview=True)
    preview = element.preview.name
    client.force_login(user)
    client.post(reverse("elements:edit", args=[element.uuid]), form_data(note="new note"))
    element.refresh_from_db()
    assert (element.note, element.preview.name) == ("new note", preview)


def test_the_edit_form_is_filled_in(client, user, make_element) -> None:
    element = make_element(user, name="Mira", note="tall, red coat")
    client.force_login(user)
    html = client.get(reverse("elements:edit", args=[element.uuid])).content.decode()
    assert 'value="Mira"' in html and "tall, red coat" in html


def test_the_preview_is_served_as_webp(client, user, make_element) -> None:
    element = make_element(user, preview=True)
    client.force_login(user)
    response = client.get(reverse("elements:preview", args=[element.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content)[8:12] == b"WEBP"


def test_an_element_without_preview_has_no_preview_file(client, user, make_element) -> None:
    element = make_element(user)
    client.force_login(user)
    assert client.get(reverse("elements:preview", args=[element.uuid])).status_code == 404


# --- rights ------------------------------------------------------------------------------------


@pytest.fixture
def team(django_user_model, make_element):
    people = {
        name: django_user_model.objects.create_user(name, password=f"pw-{name}-1234")
        for name in ("olive", "eddie", "vera", "stella")
    }
    project = make_project(people["olive"], "Harbour")
    add_member(project, people["eddie"], Role.EDITOR)
    add_member(project, people["vera"], Role.VIEWER)
    make_project(people["stella"], "Elsewhere")
    element = make_element(people["eddie"], project=project, name="Harbour Cat", preview=True)
    personal = make_element(people["olive"], name="Olive Own", preview=True)
    return people, project, element, personal


EXPECTED = {"olive": 302, "eddie": 302, "vera": 403, "stella": 404}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_only_owners_and_editors_add_to_a_project_library(client, team, who) -> None:
    people, project, _, _ = team
    client.force_login(people[who])
    url = reverse("elements:create_in_project", args=[project.uuid])
    assert client.get(url).status_code == {302: 200}.get(EXPECTED[who], EXPECTED[who])
    response = client.post(url, form_data(name=f"By {who}"))
    assert response.status_code == EXPECTED[who]
    assert Element.objects.filter(project=project, name=f"By {who}").exists() == (
        EXPECTED[who] == 302
    )


@pytest.mark.parametrize("who", list(EXPECTED))
def test_only_owners_and_editors_edit_and_archive_project_elements(client, team, who) -> None:
    people, _, element, _ = team
    client.force_login(people[who])
    edit = client.post(reverse("elements:edit", args=[element.uuid]), form_data(name="Renamed"))
    archive = client.post(reverse("elements:archive", args=[element.uuid]), {"archive": "1"})
    assert (edit.status_code, archive.status_code) == (EXPECTED[who], EXPECTED[who])
    element.refresh_from_db()
    assert (element.name == "Renamed") == (EXPECTED[who] == 302)
    assert element.is_archived == (EXPECTED[who] == 302)


@pytest.mark.parametrize("who", ["olive", "eddie"])
def test_nobody_manages_the_elements_of_an_archived_project(client, team, who) -> None:
    people, project, element, _ = team
    Project.objects.filter(pk=project.pk).update(archived_at=timezone.now())
    client.force_login(people[who])
    add_url = reverse("elements:create_in_project", args=[project.uuid])
    assert client.get(add_url).status_code == 403
    assert client.post(add_url, form_data(name="Late")).status_code == 403
    edit = client.post(reverse("elements:edit", args=[element.uuid]), form_data(name="Renamed"))
    archive = client.post(reverse("elements:archive", args=[element.uuid]), {"archive": "1"})
    assert (edit.status_code, archive.status_code) == (403, 403)
    element.refresh_from_db()
    assert (element.name, element.is_archived) == ("Harbour Cat", False)
    html = client.get(reverse("elements:library")).content.decode()
    assert "Harbour Cat" in html and add_url not in html


@pytest.mark.parametrize("who", list(EXPECTED))
def test_every_member_sees_the_project_library(client, team, who) -> None:
    people, project, element, _ = team
    client.force_login(people[who])
    html = client.get(reverse("elements:library")).content.decode()
    preview = client.get(reverse("elements:preview", args=[element.uuid]))
    member = who != "stella"
    assert ("Harbour Cat" in html) == member
    assert preview.status_code == (200 if member else 404)
    can_add = reverse("elements:create_in_project", args=[project.uuid]) in html
    assert can_add == (EXPECTED[who] == 302)


@pytest.mark.parametrize("who", ["eddie", "vera", "stella"])
def test_a_personal_library_is_its_owners_alone(client, team, who) -> None:
    people, _, _, personal = team
    client.force_login(people[who])
    assert "Olive Own" not in client.get(reverse("elements:library")).content.decode()
    for url in (
        reverse("elements:preview", args=[personal.uuid]),
        reverse("elements:edit", args=[personal.uuid]),
    ):
        assert client.get(url).status_code == 404
    response = client.post(reverse("elements:archive", args=[personal.uuid]), {"archive": "1"})
    assert response.status_code == 404
    personal.refresh_from_db()
    assert not personal.is_archived


def test_signed_out_people_are_sent_to_log_in(client, team) -> None:
    _, project, element, _ = team
    for url in (
        reverse("elements:library"),
        reverse("elements:create"),
        reverse("elements:create_in_project", args=[project.uuid]),
        reverse("elements:edit", args=[element.uuid]),
        reverse("elements:preview", args=[element.uuid]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- the database's own guards ------------------------------------------------------------------


def test_the_database_refuses_a_second_live_name_in_one_library(user, make_element) -> None:
    from django.db import IntegrityError, transaction

    make_element(user, name="Mira")
    with pytest.raises(IntegrityError), transaction.atomic():
        Element.objects.create(owner=user, created_by=user, name="MIRA", kling_element_id="1")


def test_an_element_lives_in_exactly_one_library(user) -> None:
    from django.db import IntegrityError, transaction

    project = make_project(user)
    for owner, in_project in ((None, None), (user, project)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Element.objects.create(
                owner=owner, project=in_project, created_by=user, name="X", kling_element_id="1"
            )


def test_a_save_that_loses_a_race_for_the_name_says_so_and_keeps_no_file(
    user, make_element, monkeypatch
) -> None:
    from elements import services

    make_element(user, name="Mira")
    monkeypatch.setattr(services, "check_name_free", lambda element: None)  # the race's gap
    with pytest.raises(services.ElementNameTaken):
        services.element_create(
            created_by=user,
            project=None,
            name="mira",
            kling_element_id="2",
            preview=services.preview_from_upload(io.BytesIO(image_bytes())),
        )
    stored = (
        [
            name
            for folder in default_storage.listdir("elements")[0]
            for name in default_storage.listdir(f"elements/{folder}")[1]
        ]
        if default_storage.exists("elements")
        else []
    )
    assert stored == []
