"""Reference images in the Generate form, on the pages, and who may reach them."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generations.models import Generation, GenerationReference, OutputImage
from generations.references import reference_create
from generations.services import generation_create
from generations.services.submission import GenerationParams
from generations.views.references import PENDING_SESSION_KEY
from projects.models import Role
from references.models import ReferenceImage
from tests.factories import add_member, make_image, make_project

from .reference_images import encoded, gradient, photo_with_gps_and_orientation, png

pytestmark = pytest.mark.django_db

FORM = {
    "prompt": "a lighthouse like <<<image_1>>>",
    "aspect_ratio": "auto",
    "resolution": "1k",
    "result_type": "single",
    "num_images": "1",
}
COLOURS = [
    "teal",
    "orange",
    "navy",
    "olive",
    "maroon",
    "gold",
    "plum",
    "tan",
    "pink",
    "lime",
    "red",
]


def upload(name: str, data: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def refs(owner, count: int) -> list[ReferenceImage]:
    return [
        reference_create(owner=owner, data=png((400, 400), COLOURS[i]), name=f"{COLOURS[i]}.png")
        for i in range(count)
    ]


def big_image(owner, **kwargs) -> OutputImage:
    """A gallery image with a real 800 × 600 original (the factory's is too small to use)."""
    image = make_image(owner, **kwargs)
    name = default_storage.save(
        "originals/test/big.png", ContentFile(encoded(gradient((800, 600)), "PNG"))
    )
    OutputImage.objects.filter(pk=image.pk).update(file=name, width=800, height=600)
    image.refresh_from_db()
    return image


def hidden_references(html: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="references" value="([0-9a-f-]+)">', html)


def generation_with(owner, references: list[ReferenceImage], project=None) -> Generation:
    return generation_create(
        owner=owner,
        project=project,
        params=GenerationParams(prompt="again", references=tuple(r.pk for r in references)),
    )


# --- reference_upload -------------------------------------------------------------------------
def test_uploaded_files_become_tiles_and_a_bad_one_an_error_naming_it(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("generations:reference_upload"),
        {
            "reference_files": [
                upload("IMG_0001.jpg", photo_with_gps_and_orientation(), "image/jpeg"),
                upload("notes.png", b"plain text, not a picture" * 30),
                upload("tiny.png", png((100, 100))),
            ]
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    reference = ReferenceImage.objects.get()
    assert (reference.owner, reference.original_name) == (user, "IMG_0001.jpg")
    assert hidden_references(html) == [str(reference.uuid)]
    assert reverse("generations:reference_file", args=[reference.uuid]) in html
    assert "“notes.png” is not a JPEG, PNG, WebP or HEIC image" in html
    assert "“tiny.png” is 100 × 100 px" in html


def test_uploading_needs_a_login_and_a_post(client, user) -> None:
    url = reverse("generations:reference_upload")
    assert client.post(url, {"reference_files": [upload("a.png", png())]}).status_code == 302
    assert not ReferenceImage.objects.exists()
    client.force_login(user)
    assert client.get(url).status_code == 405


# --- reference_file ---------------------------------------------------------------------------
def test_a_reference_file_is_served_to_its_owner_only(client, user, outsider) -> None:
    [reference] = refs(user, 1)
    url = reverse("generations:reference_file", args=[reference.uuid])
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_a_project_member_sees_the_references_of_a_generation_in_it(
    client, user, outsider, django_user_model
) -> None:
    member = django_user_model.objects.create_user("bob", password="pw-bob-123456")
    project = make_project(user)
    add_member(project, member, Role.VIEWER)
    [reference] = refs(user, 1)
    generation_with(user, [reference], project=project)
    url = reverse("generations:reference_file", args=[reference.uuid])
    client.force_login(member)
    assert client.get(url).status_code == 200
    client.force_login(outsider)
    assert client.get(url).status_code == 404


# --- use as reference -------------------------------------------------------------------------
def test_use_as_reference_adds_the_image_to_the_next_generation(client, user, pipeline) -> None:
    image = big_image(user)
    client.force_login(user)
    response = client.post(reverse("generations:image_use_as_reference", args=[image.uuid]))
    assert response.status_code == 302
    assert response["Location"] == reverse("generations:generate")
    reference = ReferenceImage.objects.get()
    assert (reference.owner, reference.source_image, reference.format) == (user, image, "JPEG")
    assert client.session[PENDING_SESSION_KEY] == [str(reference.uuid)]
    # Twice is still once.
    client.post(reverse("generations:image_use_as_reference", args=[image.uuid]))
    assert client.session[PENDING_SESSION_KEY] == [str(reference.uuid)]

    page = client.get(reverse("generations:generate")).content.decode()
    assert hidden_references(page) == [str(reference.uuid)]
    assert "Added as a reference for your next generation." in page

    client.post(reverse("generations:generate"), {**FORM, "references": [str(reference.uuid)]})
    generation = Generation.objects.exclude(pk=image.generation_id).get()
    assert [link.reference for link in generation.reference_links.all()] == [reference]
    assert PENDING_SESSION_KEY not in client.session  # cleared once a generation was made
    assert hidden_references(client.get(reverse("generations:generate")).content.decode()) == []


def test_nobody_can_use_as_reference_an_image_they_may_not_see(client, user, outsider) -> None:
    image = big_image(user)
    client.force_login(outsider)
    response = client.post(reverse("generations:image_use_as_reference", args=[image.uuid]))
    assert response.status_code == 404
    assert not ReferenceImage.objects.exists()
    assert PENDING_SESSION_KEY not in client.session
    assert (
        client.get(reverse("generations:image_use_as_reference", args=[image.uuid])).status_code
        == 405
    )


def test_a_project_viewer_may_use_a_project_image_as_their_own_reference(
    client, user, django_user_model
) -> None:
    viewer = django_user_model.objects.create_user("bob", password="pw-bob-123456")
    project = make_project(user)
    add_member(project, viewer, Role.VIEWER)
    image = big_image(user, project=project)
    client.force_login(viewer)
    client.post(reverse("generations:image_use_as_reference", args=[image.uuid]))
    assert ReferenceImage.objects.get().owner == viewer


def test_use_as_reference_stops_at_ten(client, user) -> None:
    client.force_login(user)
    session = client.session
    session[PENDING_SESSION_KEY] = [str(r.uuid) for r in refs(user, 10)]
    session.save()
    image = big_image(user)
    client.post(reverse("generations:image_use_as_reference", args=[image.uuid]))
    assert len(client.session[PENDING_SESSION_KEY]) == 10
    assert not ReferenceImage.objects.filter(source_image=image).exists()


def test_the_image_page_offers_use_as_reference(client, user) -> None:
    image = big_image(user)
    client.force_login(user)
    html = client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
    assert reverse("generations:image_use_as_reference", args=[image.uuid]) in html
    assert "Use as reference" in html


# --- the Generate form ------------------------------------------------------------------------
def test_references_are_sent_in_the_order_picked(client, user, pipeline) -> None:
    a, b, c = refs(user, 3)
    client.force_login(user)
    client.post(
        reverse("generations:generate"),
        {**FORM, "references": [str(c.uuid), str(a.uuid), str(b.uuid)]},
    )
    links = GenerationReference.objects.filter(generation=Generation.objects.get())
    assert [(link.position, link.reference) for link in links] == [(0, c), (1, a), (2, b)]


def test_an_eleventh_reference_is_refused(client, user) -> None:
    client.force_login(user)
    eleven = [str(r.uuid) for r in refs(user, 11)]
    response = client.post(reverse("generations:generate"), {**FORM, "references": eleven})
    assert response.status_code == 200
    assert not Generation.objects.exists()
    html = response.content.decode()
    assert "You picked 11 references; Kling Image O3 takes at most 10." in html
    assert hidden_references(html) == eleven  # all kept, for the person to remove one


def test_nobody_can_submit_another_persons_reference(client, user, outsider) -> None:
    [theirs] = refs(outsider, 1)
    client.force_login(user)
    response = client.post(
        reverse("generations:generate"), {**FORM, "references": [str(theirs.uuid)]}
    )
    assert response.status_code == 200
    assert not Generation.objects.exists()
    html = response.content.decode()
    assert "not one you may use or no longer exists" in html
    assert str(theirs.uuid) not in html


def test_a_reference_that_is_not_a_uuid_is_refused(client, user) -> None:
    client.force_login(user)
    response = client.post(reverse("generations:generate"), {**FORM, "references": ["1"]})
    assert "not one you may use or no longer exists" in response.content.decode()
    assert not Generation.objects.exists()


def test_files_sent_with_the_form_are_kept_despite_another_error(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("generations:generate"),
        {
            **FORM,
            "prompt": "",
            "reference_files": [upload("beach.png", png()), upload("cat.png", b"GIF89a nope" * 50)],
        },
    )
    assert response.status_code == 200
    assert not Generation.objects.exists()
    html = response.content.decode()
    assert "Write a prompt" in html
    reference = ReferenceImage.objects.get()
    assert reference.original_name == "beach.png"
    assert hidden_references(html) == [str(reference.uuid)]  # kept as a tile
    assert "“cat.png” is not a JPEG, PNG, WebP or HEIC image" in html


def test_files_sent_with_a_valid_form_join_its_references(client, user, pipeline) -> None:
    [picked] = refs(user, 1)
    client.force_login(user)
    client.post(
        reverse("generations:generate"),
        {
            **FORM,
            "references": [str(picked.uuid)],
            "reference_files": [upload("b.png", encoded(gradient(), "PNG"))],
        },
    )
    generation = Generation.objects.get()
    names = [link.reference.original_name for link in generation.reference_links.all()]
    assert names == [picked.original_name, "b.png"]


def test_files_beyond_the_room_left_are_not_kept_without_js(client, user) -> None:
    [picked] = refs(user, 1)
    client.force_login(user)
    files = [upload(f"{i:02}.png", png((300, 300), (i * 20, 90, 200))) for i in range(12)]
    response = client.post(
        reverse("generations:generate"),
        {**FORM, "references": [str(picked.uuid)], "reference_files": files},
    )
    assert response.status_code == 200
    assert not Generation.objects.exists()
    # The picked tile and 9 files fill the 10 places; the last 3 were never decoded or kept.
    assert ReferenceImage.objects.count() == 10
    html = response.content.decode()
    assert len(hidden_references(html)) == 10
    for name in ("09.png", "10.png", "11.png"):
        assert f"“{name}” was not added: a generation takes at most 10 references." in html


def test_a_refused_file_blocks_the_generation(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("generations:generate"),
        {**FORM, "reference_files": [upload("x.png", png((50, 50)))]},
    )
    assert response.status_code == 200
    assert not Generation.objects.exists()
    assert "“x.png” is 50 × 50 px" in response.content.decode()


def test_generate_again_carries_the_references(client, user, pipeline) -> None:
    a, b = refs(user, 2)
    source = generation_with(user, [b, a])
    client.force_login(user)
    html = client.get(reverse("generations:generate") + f"?again={source.uuid}").content.decode()
    assert hidden_references(html) == [str(b.uuid), str(a.uuid)]


def test_generate_again_by_a_project_member_uses_the_same_references(
    client, user, django_user_model, pipeline
) -> None:
    editor = django_user_model.objects.create_user("bob", password="pw-bob-123456")
    project = make_project(user)
    add_member(project, editor, Role.EDITOR)
    [reference] = refs(user, 1)
    source = generation_with(user, [reference], project=project)
    client.force_login(editor)
    html = client.get(reverse("generations:generate") + f"?again={source.uuid}").content.decode()
    assert hidden_references(html) == [str(reference.uuid)]
    assert not ReferenceImage.objects.filter(owner=editor).exists()  # a GET writes nothing
    client.post(reverse("generations:generate"), {**FORM, "references": [str(reference.uuid)]})
    assert not ReferenceImage.objects.filter(owner=editor).exists()
    generation = Generation.objects.filter(owner=editor).get()
    assert generation.reference_links.get().reference == reference


def test_the_detail_page_shows_the_references_in_order_with_their_tags(
    client, user, pipeline
) -> None:
    a, b = refs(user, 2)
    generation = generation_with(user, [b, a])
    client.force_login(user)
    html = client.get(
        reverse("generations:generation_detail", args=[generation.uuid])
    ).content.decode()
    first = html.index(reverse("generations:reference_file", args=[b.uuid]))
    second = html.index(reverse("generations:reference_file", args=[a.uuid]))
    assert first < second
    assert "&lt;&lt;&lt;image_1&gt;&gt;&gt;" in html and "&lt;&lt;&lt;image_2&gt;&gt;&gt;" in html


def test_the_form_has_the_drop_zone_and_a_no_js_file_input(client, user) -> None:
    client.force_login(user)
    html = client.get(reverse("generations:generate")).content.decode()
    assert 'enctype="multipart/form-data"' in html
    [file_input] = re.findall(r'<input type="file" name="reference_files"[^>]*>', html)
    assert " multiple" in file_input
    assert 'id="reference-drop"' in html
    assert "js/references.js" in html
