"""Reference follow-ups: small previews for the tiles, unpicking a "use as reference" pick,
"generate again" with another member's references, and a constant number of queries on the
detail page."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from elements.services import element_create
from generations.models import Generation
from generations.references import reference_create
from generations.views.references import PENDING_SESSION_KEY
from projects.models import Role
from references.cleaning import PREVIEW_SIZE
from references.models import ReferenceImage
from tests.factories import add_member, make_project

from .reference_images import png
from .test_references_pages import (
    FORM,
    big_image,
    generation_with,
    hidden_references,
    refs,
)

pytestmark = pytest.mark.django_db


def gold(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png((500, 500), "gold"), content_type="image/png")


def opened(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as fp:
        im = Image.open(io.BytesIO(fp.read()))
        im.load()
    return im


# --- 1. previews ------------------------------------------------------------------------------
def test_a_reference_keeps_a_small_webp_preview_from_the_same_picture(user) -> None:
    reference = reference_create(owner=user, data=png((1200, 800), "teal"), name="wide.png")
    assert reference.preview
    preview = opened(reference.preview.name)
    assert preview.format == "WEBP"
    assert preview.size == (PREVIEW_SIZE, round(PREVIEW_SIZE * 800 / 1200))
    assert not preview.getexif()
    assert default_storage.size(reference.preview.name) < reference.bytes


def test_the_file_view_serves_the_preview_on_request_and_the_full_file_otherwise(
    client, user, outsider
) -> None:
    [reference] = refs(user, 1)
    url = reverse("generations:reference_file", args=[reference.uuid])
    client.force_login(user)
    small = client.get(url, {"size": "preview"})
    assert (small.status_code, small["Content-Type"]) == (200, "image/webp")
    assert b"".join(small.streaming_content) == default_storage.open(reference.preview.name).read()
    full = client.get(url)
    assert full["Content-Type"] == "image/jpeg"
    client.force_login(outsider)
    assert client.get(url, {"size": "preview"}).status_code == 404


def test_a_reference_without_a_preview_falls_back_to_the_full_file(client, user) -> None:
    [reference] = refs(user, 1)
    ReferenceImage.objects.filter(pk=reference.pk).update(preview=None)
    client.force_login(user)
    response = client.get(
        reverse("generations:reference_file", args=[reference.uuid]), {"size": "preview"}
    )
    assert (response.status_code, response["Content-Type"]) == (200, "image/jpeg")


def test_the_tiles_in_the_form_and_on_the_generation_page_load_the_preview(
    client, user, pipeline
) -> None:
    [reference] = refs(user, 1)
    preview_src = reverse("generations:reference_file", args=[reference.uuid]) + "?size=preview"
    generation = generation_with(user, [reference])
    client.force_login(user)
    form = client.get(reverse("generations:generate"), {"again": str(generation.uuid)})
    assert f'<img src="{preview_src}"' in form.content.decode()
    detail = client.get(reverse("generations:generation_detail", args=[generation.uuid]))
    assert f'<img src="{preview_src}"' in detail.content.decode()
    upload = client.post(
        reverse("generations:reference_upload"), {"reference_files": [gold("gold.png")]}
    )
    new = ReferenceImage.objects.get(original_name="gold.png")
    new_src = reverse("generations:reference_file", args=[new.uuid]) + "?size=preview"
    assert f'<img src="{new_src}"' in upload.content.decode()


# --- 2. unpicking -----------------------------------------------------------------------------
def pick(client, user) -> ReferenceImage:
    image = big_image(user)
    client.post(reverse("generations:image_use_as_reference", args=[image.uuid]))
    return ReferenceImage.objects.get(source_image=image)


def test_removing_a_picked_tile_drops_it_from_the_session(client, user) -> None:
    client.force_login(user)
    reference = pick(client, user)
    page = client.get(reverse("generations:generate")).content.decode()
    unpick_url = reverse("generations:reference_unpick", args=[reference.uuid])
    assert f'data-unpick-url="{unpick_url}"' in page  # what references.js posts to

    response = client.post(unpick_url)

    assert response.status_code == 204
    assert client.session[PENDING_SESSION_KEY] == []
    assert hidden_references(client.get(reverse("generations:generate")).content.decode()) == []
    assert ReferenceImage.objects.filter(pk=reference.pk).exists()  # still in the library


def test_unpicking_touches_only_the_sessions_own_list(client, user, outsider) -> None:
    client.force_login(user)
    reference = pick(client, user)
    url = reverse("generations:reference_unpick", args=[reference.uuid])
    assert client.get(url).status_code == 405
    outsider_client = client.__class__()
    outsider_client.force_login(outsider)
    assert outsider_client.post(url).status_code == 404
    assert client.session[PENDING_SESSION_KEY] == [str(reference.uuid)]
    outsider_client.logout()
    assert outsider_client.post(url).status_code == 302  # to the login page


def test_uploaded_tiles_are_not_picks_and_need_no_unpicking(client, user) -> None:
    client.force_login(user)
    html = client.post(
        reverse("generations:reference_upload"), {"reference_files": [gold("gold.png")]}
    ).content.decode()
    uploaded = ReferenceImage.objects.get(original_name="gold.png")
    assert f'class="reference-tile" data-uuid="{uploaded.uuid}"' in html
    assert "data-unpick-url" not in html


def test_without_javascript_a_tile_is_left_out_by_a_tick(client, user, pipeline) -> None:
    client.force_login(user)
    picked = pick(client, user)
    [kept] = refs(user, 1)
    page = client.get(reverse("generations:generate")).content.decode()
    assert f'name="leave_out_references" value="{picked.uuid}"' in page
    assert "<noscript>" in page

    # A missing prompt: the form comes back, without the left-out tile, nothing else lost.
    data = {**FORM, "prompt": "", "references": [str(picked.uuid), str(kept.uuid)]}
    response = client.post(
        reverse("generations:generate"), {**data, "leave_out_references": [str(picked.uuid)]}
    )
    assert hidden_references(response.content.decode()) == [str(kept.uuid)]
    assert client.session[PENDING_SESSION_KEY] == []

    client.post(
        reverse("generations:generate"),
        {**FORM, "references": [str(picked.uuid)], "leave_out_references": [str(picked.uuid)]},
    )
    assert not Generation.objects.filter(owner=user).exclude(reference_links=None).exists()


# --- 3. generate again uses another member's references as they are ----------------------------
@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_user("bob", password="pw-bob-123456")


def test_generate_again_on_a_members_generation_writes_nothing_on_load(
    client, user, editor, pipeline
) -> None:
    project = make_project(user)
    add_member(project, editor, Role.EDITOR)
    [reference] = refs(user, 1)
    source = generation_with(user, [reference], project=project)
    client.force_login(editor)

    html = client.get(reverse("generations:generate"), {"again": str(source.uuid)})

    assert not ReferenceImage.objects.filter(owner=editor).exists()
    assert hidden_references(html.content.decode()) == [str(reference.uuid)]
    assert reverse("generations:reference_file", args=[reference.uuid]) in html.content.decode()


def test_submitting_another_members_reference_links_it_without_a_copy(
    client, user, editor, pipeline
) -> None:
    project = make_project(user)
    add_member(project, editor, Role.EDITOR)
    [reference] = refs(user, 1)
    source = generation_with(user, [reference], project=project)
    client.force_login(editor)

    response = client.post(
        reverse("generations:generate"),
        {**FORM, "project": str(project.uuid), "references": [str(reference.uuid)]},
    )

    assert response.status_code == 302
    generation = Generation.objects.exclude(pk=source.pk).get()
    assert generation.owner == editor
    assert generation.reference_links.get().reference == reference
    assert not ReferenceImage.objects.filter(owner=editor).exists()


def test_a_reference_the_viewer_may_not_see_is_refused(client, user, editor, pipeline) -> None:
    project = make_project(user)
    [reference] = refs(user, 1)
    generation_with(user, [reference], project=project)  # editor is no member
    client.force_login(editor)
    response = client.post(
        reverse("generations:generate"), {**FORM, "references": [str(reference.uuid)]}
    )
    assert response.status_code == 200
    assert "no longer exists" in response.content.decode()
    assert not Generation.objects.filter(owner=editor).exists()
    assert not ReferenceImage.objects.filter(owner=editor).exists()


# --- 4. the generation page's queries ---------------------------------------------------------
def detail_queries(client, generation: Generation) -> int:
    url = reverse("generations:generation_detail", args=[generation.uuid])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_generation_page_runs_as_many_queries_for_five_references_as_for_one(
    client, user, pipeline
) -> None:
    five = refs(user, 5)
    elements = [
        element_create(created_by=user, project=None, name=f"Thing {n}", kling_element_id=f"800{n}")
        for n in range(3)
    ]
    one_ref = generation_with(user, five[:1])
    five_refs = generation_with(user, five)
    for generation, count in ((one_ref, 1), (five_refs, 3)):
        for position, element in enumerate(elements[:count]):
            generation.element_links.create(element=element, position=position)
    client.force_login(user)
    detail_queries(client, one_ref)  # warm the session and the site's caches
    assert detail_queries(client, five_refs) == detail_queries(client, one_ref)
