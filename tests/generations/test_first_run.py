"""A first visit to Generate: example prompts that fill the form, and the project an invited
person joined as the form's default."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from generations.examples import EXAMPLES
from projects.models import Role
from projects.services import invite_accept, invite_create
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db

FORM = {
    "prompt": "a lantern",
    "aspect_ratio": "1:1",
    "resolution": "1k",
    "result_type": "single",
    "num_images": 1,
}


def generate_page(client, **query: str) -> str:
    return client.get(reverse("generations:generate"), query).content.decode()


def selected_project(html: str) -> str:
    [options] = re.findall(r'<select name="project"[^>]*>(.*?)</select>', html, re.S)
    [value] = re.findall(r'<option value="([^"]*)" selected>', options)
    return value


# --- Example prompts ----------------------------------------------------------------------------


def test_a_new_person_is_offered_the_examples_and_a_person_with_runs_keeps_them_at_hand(
    client, user
) -> None:
    client.force_login(user)
    html = generate_page(client)
    assert 'class="example-cards"' in html  # in the empty results
    assert '<details class="examples" id="examples" open>' in html
    for example in EXAMPLES:
        assert f"?example={example.key}" in html

    make_image(user)
    html = generate_page(client)
    assert 'class="example-cards"' not in html
    assert '<details class="examples" id="examples">' in html  # closed, still there
    assert "?example=lighthouse" in html


def test_an_example_link_fills_the_form_without_javascript(client, user) -> None:
    client.force_login(user)
    html = generate_page(client, example="product")
    example = next(e for e in EXAMPLES if e.key == "product")
    assert f">\n{escape(example.prompt)}</textarea>" in html
    assert '<option value="1:1" selected>' in html
    assert 'name="num_images" value="4"' in html
    # An unknown example is an empty form, not an error.
    html = generate_page(client, example="nope")
    assert ">\n</textarea>" in html


# --- The project a person starts in -------------------------------------------------------------


def test_an_invited_person_starts_in_the_project_they_joined_until_they_generate_elsewhere(
    client, user, outsider, pipeline
) -> None:
    personal = make_project(user, "Personal work")
    harbour = make_project(user, "Harbour")
    add_member(personal, outsider, Role.EDITOR)
    client.force_login(outsider)
    client.post(reverse("generations:generate"), {**FORM, "project": str(personal.uuid)})
    assert selected_project(generate_page(client)) == str(personal.uuid)

    invite = invite_create(project=harbour, role=Role.EDITOR, created_by=user)
    invite_accept(token=str(invite.token), user=outsider)
    assert selected_project(generate_page(client)) == str(harbour.uuid)

    client.post(reverse("generations:generate"), {**FORM, "project": ""})
    assert selected_project(generate_page(client)) == ""


def test_a_person_added_to_a_project_without_a_link_starts_there_too(
    client, user, outsider, pipeline
) -> None:
    """An owner or staff adding someone directly (no invitation link) counts as joining."""
    harbour = make_project(user, "Harbour")
    client.force_login(outsider)
    client.post(reverse("generations:generate"), {**FORM, "project": ""})
    assert '<select name="project"' not in generate_page(client)  # no project yet

    add_member(harbour, outsider, Role.EDITOR)
    assert selected_project(generate_page(client)) == str(harbour.uuid)

    client.post(reverse("generations:generate"), {**FORM, "project": ""})
    assert selected_project(generate_page(client)) == ""


def test_a_viewer_invitation_does_not_change_where_runs_go(client, user, outsider) -> None:
    harbour = make_project(user, "Harbour")
    invite = invite_create(project=harbour, role=Role.VIEWER, created_by=user)
    invite_accept(token=str(invite.token), user=outsider)
    client.force_login(outsider)
    assert str(harbour.uuid) not in generate_page(client)


def test_a_project_named_in_the_address_is_preselected_if_the_person_may_generate_there(
    client, user, outsider
) -> None:
    harbour = make_project(user, "Harbour")
    theirs = make_project(outsider, "Theirs")
    client.force_login(user)
    assert selected_project(generate_page(client, project=str(harbour.uuid))) == str(harbour.uuid)
    assert selected_project(generate_page(client, project=str(theirs.uuid))) == ""


def test_a_series_needs_no_count_and_a_stale_one_is_ignored(client, user, pipeline) -> None:
    """The page disables the count for a series (so none is posted); one left over, even out of
    range, is ignored; single images still need one."""
    from generations.models import Generation

    client.force_login(user)
    series = {**FORM, "result_type": "series"}
    del series["num_images"]
    client.post(reverse("generations:generate"), series)
    client.post(reverse("generations:generate"), {**series, "num_images": 12})
    runs = list(Generation.objects.order_by("id"))
    assert [(g.result_type, g.num_images) for g in runs] == [("series", 1), ("series", 1)]
    assert all("num_images" not in g.request_payload for g in runs)

    single = dict(FORM)
    del single["num_images"]
    html = client.post(reverse("generations:generate"), single).content.decode()
    assert "Say how many images to make, from 1 to 9." in html
    assert Generation.objects.count() == 2
