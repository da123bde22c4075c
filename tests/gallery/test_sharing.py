"""Share links: who may make and revoke them, and what the public page shows (the image only)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from gallery.metadata import strip_metadata
from gallery.services.sharing import share_create
from generations.models import Generation, OutputImage, ShareLink, Status
from projects.models import Membership, Project, Role

pytestmark = pytest.mark.django_db

PROMPT = "a lighthouse in a violet storm"


@pytest.fixture
def image(user, sim, pipeline) -> OutputImage:
    from generations import services
    from generations.services.submission import GenerationParams

    generation = services.generation_create(
        owner=user, params=GenerationParams(prompt=PROMPT, num_images=1, resolution="2k")
    )
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    generation.refresh_from_db()
    assert generation.status == Status.DONE
    return generation.images.select_related("generation").get()


@pytest.fixture
def team(django_user_model, user, image) -> dict[str, object]:
    """The image (by `user`) in a project with an owner, an editor and a viewer."""
    project = Project.objects.create(name="Harbour", created_by=user)
    people = {"project": project}
    for role in (Role.OWNER, Role.EDITOR, Role.VIEWER):
        person = django_user_model.objects.create_user(f"{role}-person", password="pw-12345678")
        Membership.objects.create(project=project, user=person, role=role)
        people[role] = person
    Membership.objects.create(project=project, user=user, role=Role.EDITOR)
    image.project = project
    image.save(update_fields=["project"])
    return people


def share_url(image: OutputImage) -> str:
    return reverse("gallery:image_share", args=[image.uuid])


def revoke_url(link: ShareLink) -> str:
    return reverse("gallery:share_revoke", args=[link.image.uuid, link.token])


def page_url(token: uuid.UUID) -> str:
    return reverse("gallery:shared_image", args=[token])


def file_url(token: uuid.UUID) -> str:
    return reverse("gallery:shared_image_file", args=[token])


def assert_no_longer_shared(client, token: uuid.UUID) -> None:
    """The page says so (410, styled like the other pages); the file is gone too."""
    page = client.get(page_url(token))
    assert page.status_code == 410
    html = page.content.decode()
    assert "This image is no longer shared" in html
    assert "darkroom.css" in html
    assert client.get(file_url(token)).status_code == 410


def make_link(image: OutputImage, **options: object) -> ShareLink:
    options = {"expires_in_days": None, "show_prompt": False, **options}
    return share_create(user=image.owner, image=image, **options)


# Making a link.


def test_the_author_shares_and_anyone_sees_the_image_without_the_prompt(
    client, user, image
) -> None:
    client.force_login(user)
    response = client.post(share_url(image), {"expires_in_days": ""})
    assert response.status_code == 302
    link = ShareLink.objects.get()
    assert (link.image, link.created_by, link.show_prompt, link.expires_at) == (
        image,
        user,
        False,
        None,
    )
    html = client.get(response["Location"]).content.decode()
    assert f"http://testserver{page_url(link.token)}" in html
    assert reverse("gallery:share_revoke", args=[image.uuid, link.token]) in html

    client.logout()
    response = client.get(page_url(link.token))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="{file_url(link.token)}"' in html
    assert PROMPT not in html
    assert '<meta name="robots" content="noindex">' in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def test_the_shared_image_is_the_original_without_its_metadata(client, image) -> None:
    link = make_link(image)
    response = client.get(file_url(link.token))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    # tests/gallery/test_shared_renditions.py covers the stripping itself.
    with default_storage.open(image.file.name) as fp:
        assert body == strip_metadata(fp.read(), image.format)
    assert response["Content-Type"] == image.content_type
    # Never `public`, never a year: a revoked link must stop showing the image soon.
    assert response["Cache-Control"] == "private, max-age=300"


def test_the_prompt_is_shown_when_the_sharer_chooses(client, user, image) -> None:
    client.force_login(user)
    client.post(share_url(image), {"expires_in_days": "7", "show_prompt": "on"})
    link = ShareLink.objects.get()
    assert link.show_prompt
    assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)
    client.logout()
    assert PROMPT in client.get(page_url(link.token)).content.decode()


def test_the_public_page_shows_nothing_but_the_image(client, user, image) -> None:
    link = make_link(image, show_prompt=True)
    html = client.get(page_url(link.token)).content.decode()
    assert user.get_username() not in html
    assert "$" not in html  # no cost
    assert "2k" not in html and "Resolution" not in html  # no parameters
    assert str(image.uuid) not in html and str(image.generation.uuid) not in html
    assert "<a " not in html  # no link into the app
    assert "<nav" not in html and "<form" not in html


def test_an_unknown_expiry_is_refused(client, user, image) -> None:
    client.force_login(user)
    response = client.post(share_url(image), {"expires_in_days": "365"}, follow=True)
    assert not ShareLink.objects.exists()
    assert "Choose when the link expires" in response.content.decode()


def test_sharing_needs_a_login(client, image) -> None:
    response = client.post(share_url(image), {"expires_in_days": ""})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not ShareLink.objects.exists()


def test_a_project_editor_can_share(client, image, team) -> None:
    client.force_login(team[Role.EDITOR])
    assert (
        "Create link"
        in client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
    )
    assert client.post(share_url(image), {"expires_in_days": "1"}).status_code == 302
    assert ShareLink.objects.get().created_by == team[Role.EDITOR]


def test_a_project_viewer_cannot_share(client, image, team) -> None:
    make_link(image)
    client.force_login(team[Role.VIEWER])
    html = client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
    assert 'id="share-heading"' not in html
    assert str(ShareLink.objects.get().token) not in html  # a viewer never sees a token
    assert client.post(share_url(image), {"expires_in_days": ""}).status_code == 403
    assert ShareLink.objects.count() == 1


def test_an_editor_of_an_archived_project_cannot_share(client, image, team) -> None:
    Project.objects.filter(pk=team["project"].pk).update(archived_at=timezone.now())
    client.force_login(team[Role.EDITOR])
    assert client.post(share_url(image), {"expires_in_days": ""}).status_code == 403
    assert not ShareLink.objects.exists()


def test_a_stranger_cannot_see_the_image_or_its_links(client, outsider, image) -> None:
    link = make_link(image)
    client.force_login(outsider)
    assert client.get(reverse("gallery:image_detail", args=[image.uuid])).status_code == 404
    assert client.post(share_url(image), {"expires_in_days": ""}).status_code == 404
    assert client.post(revoke_url(link)).status_code == 404
    assert ShareLink.objects.live().count() == 1


# Ending a link.


def test_a_revoked_link_shows_nothing(client, user, image) -> None:
    link = make_link(image)
    client.force_login(user)
    response = client.post(revoke_url(link))
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None and not link.is_live
    html = client.get(response["Location"]).content.decode()
    assert str(link.token) not in html
    assert link.revoked_reason == "by_hand"
    client.logout()
    assert_no_longer_shared(client, link.token)


def test_revoking_twice_keeps_the_first_time(client, user, image) -> None:
    link = make_link(image)
    client.force_login(user)
    client.post(revoke_url(link))
    first = ShareLink.objects.get().revoked_at
    assert client.post(revoke_url(link)).status_code == 302
    assert ShareLink.objects.get().revoked_at == first


def test_an_expired_link_shows_nothing(client, image) -> None:
    link = make_link(image, expires_in_days=1)
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_no_longer_shared(client, link.token)


def test_an_unknown_token_gets_the_same_answer_as_a_revoked_one(client, image) -> None:
    # Nothing tells a token that never existed from one that stopped working.
    make_link(image)
    assert_no_longer_shared(client, uuid.uuid4())


def test_the_scheduler_records_expired_links_once(client, image) -> None:
    from audit.models import Entry
    from gallery import tasks

    link = make_link(image, expires_in_days=1)
    expired_at = timezone.now() - timedelta(minutes=5)
    ShareLink.objects.filter(pk=link.pk).update(expires_at=expired_at)
    assert tasks.expire_share_links.run() == 1
    assert tasks.expire_share_links.run() == 0
    link.refresh_from_db()
    assert (link.revoked_at, link.revoked_reason) == (expired_at, "expired")
    [entry] = Entry.objects.filter(action="share.expired")
    assert (entry.actor_id, entry.address, entry.object_type) == (None, "", "share link")
    assert_no_longer_shared(client, link.token)


def test_an_editor_cannot_revoke_someone_elses_link(client, image, team) -> None:
    link = make_link(image)
    client.force_login(team[Role.EDITOR])
    html = client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
    assert str(link.token) in html  # listed: an editor may share anyway
    assert revoke_url(link) not in html  # but no Revoke button
    assert client.post(revoke_url(link)).status_code == 403
    assert ShareLink.objects.get().is_live


@pytest.mark.parametrize("who", ["creator", "project owner"])
def test_the_creator_and_a_project_owner_can_revoke(client, image, team, who: str) -> None:
    link = share_create(
        user=team[Role.EDITOR], image=image, expires_in_days=None, show_prompt=False
    )
    client.force_login(team[Role.EDITOR] if who == "creator" else team[Role.OWNER])
    assert client.post(revoke_url(link)).status_code == 302
    assert not ShareLink.objects.get().is_live


def test_the_admin_lists_share_links(client, django_user_model, image) -> None:
    link = make_link(image)
    staff = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-1234")
    client.force_login(staff)
    response = client.get(reverse("admin:generations_sharelink_changelist"))
    assert response.status_code == 200
    assert (
        reverse("admin:generations_sharelink_change", args=[link.pk]) in response.content.decode()
    )
