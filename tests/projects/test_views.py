"""Projects as people use them: create, invite, join, generate into, browse, manage."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from generations.models import Generation
from projects.models import Membership, Role
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db

FORM = {
    "prompt": "a lantern",
    "aspect_ratio": "1:1",
    "resolution": "1k",
    "result_type": "single",
    "num_images": 1,
}


def test_creating_a_project_opens_its_gallery(client, user) -> None:
    client.force_login(user)
    response = client.post(reverse("projects:list"), {"name": "Spring campaign"}, follow=True)
    html = response.content.decode()
    assert "<h1>Spring campaign" in html
    assert "You are owner." in html


def test_an_invitation_link_lets_a_signed_in_person_join(client, user, outsider) -> None:
    project = make_project(user, "Harbour")
    client.force_login(user)
    client.post(
        reverse("projects:invite_create", args=[project.uuid]), {"role": "viewer", "days": 3}
    )
    html = client.get(reverse("projects:settings", args=[project.uuid])).content.decode()
    [link] = re.findall(r'value="(http://testserver/projects/join/[0-9a-f-]+/)"', html)

    client.force_login(outsider)
    page = client.get(link).content.decode()
    assert "Join Harbour" in page
    response = client.post(link, follow=True)
    assert "You are now in Harbour." in response.content.decode()
    assert Membership.objects.get(project=project, user=outsider).role == Role.VIEWER
    again = client.get(link).content.decode()
    assert "cannot be used" in again


def test_a_new_person_creates_an_account_and_joins_through_the_link(client, user) -> None:
    from django.contrib.auth import get_user_model

    from projects.services import invite_create

    user.is_staff = True  # while sign-up is closed, only staff links create accounts
    user.save(update_fields=["is_staff"])
    project = make_project(user, "Harbour")
    invite = invite_create(project=project, role=Role.EDITOR, created_by=user)
    url = reverse("projects:join", args=[invite.token])
    page = client.get(url).content.decode()
    assert "Create my account and join" in page
    form = {
        "username": "newcomer",
        "display_name": "New Comer",
        "email": "new@example.com",
        "password1": "a-long-Passphrase-42",
        "password2": "a-long-Passphrase-42",
    }
    response = client.post(url, form, follow=True)
    assert "You are now in Harbour." in response.content.decode()
    newcomer = get_user_model().objects.get(username="newcomer")
    assert Membership.objects.get(project=project, user=newcomer).role == Role.EDITOR
    # Single use: the next stranger gets nothing.
    client.logout()
    again = client.post(url, {**form, "username": "second"})
    assert again.status_code == 410
    assert not get_user_model().objects.filter(username="second").exists()


def test_a_taken_username_leaves_the_link_unused(client, user, settings) -> None:
    from projects.services import invite_create

    settings.DARKROOM_PROJECT_LINKS_CREATE_ACCOUNTS = True
    project = make_project(user, "Harbour")
    invite = invite_create(project=project, role=Role.VIEWER, created_by=user)
    response = client.post(
        reverse("projects:join", args=[invite.token]),
        {
            "username": user.username,
            "email": "someone@example.com",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    invite.refresh_from_db()
    assert invite.used_at is None


def test_the_form_generates_into_a_project_and_remembers_it(client, user, pipeline) -> None:
    project = make_project(user, "Harbour")
    client.force_login(user)
    html = client.get(reverse("generations:generate")).content.decode()
    assert '<option value="" selected>Personal</option>' in html
    client.post(reverse("generations:generate"), {**FORM, "project": str(project.uuid)})
    generation = Generation.objects.get()
    assert generation.project == project
    html = client.get(reverse("generations:generate")).content.decode()
    assert f'<option value="{project.uuid}" selected>Harbour</option>' in html


def test_a_viewer_is_not_offered_the_project(client, user, outsider) -> None:
    project = make_project(user, "Harbour")
    add_member(project, outsider, Role.VIEWER)
    client.force_login(outsider)
    html = client.get(reverse("generations:generate")).content.decode()
    assert "Harbour" not in html


def test_an_archived_project_is_not_offered(client, user) -> None:
    from projects.services import project_set_archived

    project = make_project(user, "Harbour")
    project_set_archived(project=project, archived=True)
    client.force_login(user)
    html = client.get(reverse("generations:generate")).content.decode()
    assert f'value="{project.uuid}"' not in html


def test_the_project_gallery_shows_every_members_images_with_the_author(
    client, user, outsider
) -> None:
    project = make_project(user, "Harbour")
    add_member(project, outsider, Role.EDITOR)
    theirs = make_image(outsider, project=project)
    mine = make_image(user, project=project)
    personal = make_image(user)
    client.force_login(user)
    html = client.get(reverse("projects:detail", args=[project.uuid])).content.decode()
    assert str(theirs.uuid) in html and str(mine.uuid) in html
    assert str(personal.uuid) not in html
    assert "mallory" in html  # the author is shown
    # The gallery's quick links lead to the same gallery, filtered to the project.
    switcher = client.get(reverse("gallery:gallery")).content.decode()
    assert f'{reverse("gallery:gallery")}?project={project.uuid}"' in switcher
    filtered = client.get(reverse("gallery:gallery"), {"project": str(project.uuid)})
    html = filtered.content.decode()
    assert str(theirs.uuid) in html and str(mine.uuid) in html
    assert str(personal.uuid) not in html


def test_moving_from_the_image_page(client, user) -> None:
    project = make_project(user, "Harbour")
    image = make_image(user)
    client.force_login(user)
    page = client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
    assert "Move image to" in page
    response = client.post(
        reverse("gallery:image_move", args=[image.uuid]),
        {"project": str(project.uuid)},
        follow=True,
    )
    assert "Moved to Harbour." in response.content.decode()
    image.refresh_from_db()
    assert image.project == project


def test_removing_the_last_owner_is_refused_with_a_message(client, user) -> None:
    project = make_project(user, "Harbour")
    membership = project.memberships.get()
    client.force_login(user)
    response = client.post(
        reverse("projects:member_remove", args=[project.uuid, membership.uuid]), follow=True
    )
    assert "at least one owner" in response.content.decode()
    assert project.memberships.count() == 1


def test_a_project_generation_saves_its_images_into_the_project(user, sim, pipeline) -> None:
    from generations.services import generation_create
    from generations.services.submission import GenerationParams

    project = make_project(user, "Harbour")
    generation = generation_create(
        owner=user, params=GenerationParams(prompt="a boat"), project=project
    )
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    assert generation.images.get().project == project


def test_the_image_page_costs_the_same_queries_however_many_projects(client, user) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    image = make_image(user)
    client.force_login(user)
    url = reverse("gallery:image_detail", args=[image.uuid])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    make_project(user, "One")
    with_one = queries()
    for n in range(5):
        make_project(user, f"More {n}")
    assert queries() == with_one
