"""Empty pages say what they will hold and the next step, without controls that have nothing to
act on: the gallery, a project's gallery, the element libraries, My spend."""

from __future__ import annotations

import pytest
from django.urls import reverse

from projects.models import Role
from tests.factories import add_member, make_image, make_project
from tests.spend.test_views import spend_run

pytestmark = pytest.mark.django_db


def test_an_empty_gallery_offers_the_next_step_and_no_filter_bar(client, user) -> None:
    client.force_login(user)
    html = client.get(reverse("gallery:gallery")).content.decode()
    assert "Your gallery is empty" in html
    assert f'href="{reverse("generations:generate")}"' in html
    assert "data-gallery-filters" not in html
    assert 'id="bulk-form"' in html  # kept for tiles that arrive; shown only with a selection

    make_image(user)
    html = client.get(reverse("gallery:gallery")).content.decode()
    assert "data-gallery-filters" in html and "Your gallery is empty" not in html
    # Filtered to nothing: the bar stays, to change the filters.
    html = client.get(reverse("gallery:gallery"), {"q": "zebra"}).content.decode()
    assert "No images match these filters." in html and "data-gallery-filters" in html


def test_an_empty_project_offers_to_generate_in_it_to_those_who_may(client, user, outsider) -> None:
    harbour = make_project(user, "Harbour")
    add_member(harbour, outsider, Role.VIEWER)
    client.force_login(user)
    html = client.get(reverse("projects:detail", args=[harbour.uuid])).content.decode()
    assert "No images in Harbour yet" in html
    assert f'href="{reverse("generations:generate")}?project={harbour.uuid}"' in html
    assert "Search and filter" not in html

    client.force_login(outsider)
    html = client.get(reverse("projects:detail", args=[harbour.uuid])).content.decode()
    assert "No images in Harbour yet" in html
    assert f"?project={harbour.uuid}" not in html.split("gallery-empty")[1]


def test_an_empty_element_library_says_how_to_make_one(client, user) -> None:
    client.force_login(user)
    html = client.get(reverse("elements:library")).content.decode()
    assert "No elements yet." in html
    assert "builds one from a front view" in html


def test_spend_before_anything_was_spent_says_so_without_empty_tables(client, user) -> None:
    client.force_login(user)
    html = client.get(reverse("spend:mine")).content.decode()
    assert "Nothing spent yet" in html
    assert 'name="month"' not in html and 'id="by-resolution"' not in html
    assert "My budget" in html

    spend_run(user)
    html = client.get(reverse("spend:mine")).content.decode()
    assert "Nothing spent yet" not in html and 'id="by-resolution"' in html
