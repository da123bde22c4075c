"""Deleting to the trash, restoring, who may, what a trashed image still shows, and the purge."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from gallery import tasks
from gallery.services.sharing import share_create
from gallery.services.trash import images_restore, images_trash, trash_purge
from generations.models import OutputImage, Thumbnail, TrashAction, TrashRecord
from projects.models import Role
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db

TRASH_URL = reverse("gallery:bulk_trash")
RESTORE_URL = reverse("gallery:bulk_restore")


def post(client, url: str, images: list[OutputImage], **extra: object):
    return client.post(url, {"images": [str(i.uuid) for i in images], **extra})


def reload(image: OutputImage) -> OutputImage:
    return OutputImage.objects.select_related("generation").get(pk=image.pk)


def files_of(image: OutputImage) -> list[str]:
    return [image.file.name, *image.thumbnails.values_list("file", flat=True)]


@pytest.fixture
def team(django_user_model, user) -> dict[str, object]:
    """A project owned by `owner`, with ada (`user`) as editor and `viewer`; ada's image in it."""
    people = {
        name: django_user_model.objects.create_user(name, password=f"pw-{name}-12345")
        for name in ("owner", "viewer")
    }
    project = make_project(people["owner"], "Harbour")
    add_member(project, user, Role.EDITOR)
    add_member(project, people["viewer"], Role.VIEWER)
    people["project"] = project
    people["image"] = make_image(user, project=project, prompt="a harbour at dawn " * 20)
    return people


# Trash and restore.


def test_the_author_moves_an_image_to_the_trash_and_restores_it(client, user, team) -> None:
    image = team["image"]
    client.force_login(user)

    response = post(client, TRASH_URL, [image], next=f"/images/{image.uuid}/")

    assert response.status_code == 302
    assert response["Location"] == f"/images/{image.uuid}/"
    trashed = reload(image)
    assert trashed.deleted_at is not None
    assert trashed.deleted_by == user
    record = TrashRecord.objects.get()
    assert record.action == TrashAction.TRASHED
    assert (record.image, record.image_uuid) == (image, image.uuid)
    assert (record.actor, record.owner, record.project) == (user, user, team["project"])
    assert record.prompt == image.generation.prompt[:200]
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Moved 1 image to the trash")

    response = post(client, RESTORE_URL, [image])

    assert response.status_code == 302
    restored = reload(image)
    assert (restored.deleted_at, restored.deleted_by) == (None, None)
    assert list(TrashRecord.objects.order_by("pk").values_list("action", "actor")) == [
        (TrashAction.TRASHED, user.pk),
        (TrashAction.RESTORED, user.pk),
    ]


def test_a_double_submit_is_recorded_once(client, user, team) -> None:
    image = team["image"]
    client.force_login(user)
    post(client, TRASH_URL, [image])
    first = reload(image).deleted_at
    response = post(client, TRASH_URL, [image])
    assert response.status_code == 302
    assert reload(image).deleted_at == first
    assert TrashRecord.objects.filter(action=TrashAction.TRASHED).count() == 1
    assert images_trash(user=user, images=[reload(image)]) == 0
    assert images_restore(user=user, images=[reload(image)]) == 1
    assert images_restore(user=user, images=[reload(image)]) == 0
    assert TrashRecord.objects.filter(action=TrashAction.RESTORED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_requests_at_the_same_moment_record_once(user) -> None:
    image = make_image(user)
    barrier = threading.Barrier(4)
    moved: list[int] = []

    def trash() -> None:
        try:
            mine = reload(image)
            barrier.wait(timeout=10)
            moved.append(images_trash(user=user, images=[mine]))
        finally:
            connection.close()

    threads = [threading.Thread(target=trash) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(moved) == [0, 0, 0, 1]
    assert TrashRecord.objects.filter(action=TrashAction.TRASHED).count() == 1


@pytest.mark.parametrize("who", ["owner", "user"])
def test_the_project_owner_and_an_editor_may_trash_a_members_image(
    client, django_user_model, team, user, who
) -> None:
    # The image is by someone else; `who` is the project's owner or its editor (ada).
    author = django_user_model.objects.create_user("grace", password="pw-grace-12345")
    add_member(team["project"], author, Role.EDITOR)
    image = make_image(author, project=team["project"])
    client.force_login(team["owner"] if who == "owner" else user)
    assert post(client, TRASH_URL, [image]).status_code == 302
    assert reload(image).deleted_at is not None
    assert post(client, RESTORE_URL, [image]).status_code == 302
    assert reload(image).deleted_at is None


def test_a_viewer_cannot_trash_a_members_image_and_nothing_changes(client, team) -> None:
    viewer = team["viewer"]
    own = make_image(viewer, prompt="the viewer's own")  # allowed alone, refused with the rest
    client.force_login(viewer)
    response = post(client, TRASH_URL, [own, team["image"]])
    assert response.status_code == 403
    assert reload(own).deleted_at is None
    assert reload(team["image"]).deleted_at is None
    assert not TrashRecord.objects.exists()


def test_a_viewer_cannot_restore_either(client, user, team) -> None:
    images_trash(user=user, images=[team["image"]])
    client.force_login(team["viewer"])
    assert post(client, RESTORE_URL, [team["image"]]).status_code == 403
    assert reload(team["image"]).deleted_at is not None


def test_in_an_archived_project_only_the_author_may_trash(client, user, team) -> None:
    team["project"].archived_at = timezone.now()
    team["project"].save(update_fields=["archived_at"])
    client.force_login(team["owner"])
    assert post(client, TRASH_URL, [team["image"]]).status_code == 403
    client.force_login(user)
    assert post(client, TRASH_URL, [team["image"]]).status_code == 302
    assert reload(team["image"]).deleted_at is not None


def test_an_outsider_can_neither_trash_nor_restore(client, user, outsider, team) -> None:
    image = team["image"]
    client.force_login(outsider)
    assert post(client, TRASH_URL, [image]).status_code == 404
    assert reload(image).deleted_at is None
    images_trash(user=user, images=[image])
    assert post(client, RESTORE_URL, [image]).status_code == 404
    assert reload(image).deleted_at is not None
    assert TrashRecord.objects.count() == 1


# What a trashed image still shows, and where it no longer does.


def test_a_trashed_image_stays_viewable_with_a_banner_and_restore(client, user, team) -> None:
    image = team["image"]
    client.force_login(user)
    page = client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
    assert reverse("gallery:bulk_trash") in page  # the Delete button
    assert "In the trash" not in page

    images_trash(user=team["owner"], images=[image])

    response = client.get(reverse("gallery:image_detail", args=[image.uuid]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "In the trash</strong> since" in page
    assert "deleted by owner" in page
    purge_day = reload(image).deleted_at + timedelta(days=30)
    assert f"removed for good on {purge_day:%-d %b %Y}" in page
    assert reverse("gallery:bulk_restore") in page
    assert reverse("gallery:bulk_trash") not in page
    original = client.get(reverse("gallery:image_original", args=[image.uuid]))
    assert original.status_code == 200
    thumbnail = client.get(reverse("gallery:image_thumbnail", args=[image.uuid, 256]))
    assert thumbnail.status_code == 200


def test_a_viewer_sees_the_banner_but_no_buttons(client, user, team) -> None:
    image = team["image"]
    client.force_login(team["viewer"])
    page = client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
    assert reverse("gallery:bulk_trash") not in page
    images_trash(user=user, images=[image])
    page = client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
    assert "In the trash</strong> since" in page
    assert reverse("gallery:bulk_restore") not in page


def test_the_recent_list_leaves_out_trashed_images(client, user) -> None:
    kept = make_image(user, prompt="kept")
    gone = make_image(user, prompt="gone")
    images_trash(user=user, images=[gone])
    client.force_login(user)
    html = client.get(reverse("generations:generate")).content.decode()
    assert str(kept.uuid) in html
    assert str(gone.uuid) not in html


def test_finding_4_restoring_from_the_trash_does_not_revive_share_links(client, user) -> None:
    """Trashing revokes the image's links (recorded); restoring leaves them revoked and says
    so. Before, the link answered again as soon as the image was restored."""
    from audit.models import Entry

    image = make_image(user)
    link = share_create(user=user, image=image, expires_in_days=None, show_prompt=True)
    page = reverse("gallery:shared_image", args=[link.token])
    file = reverse("gallery:shared_image_file", args=[link.token])
    assert client.get(page).status_code == 200

    images_trash(user=user, images=[reload(image)])
    assert client.get(page).status_code == 410
    assert client.get(file).status_code == 410
    link.refresh_from_db()
    assert (link.revoked_reason, link.revoked_by) == ("trashed", user)

    client.force_login(user)
    response = post(client, RESTORE_URL, [image])
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "1 share link revoked when it went to the trash stays revoked" in message
    client.logout()
    assert client.get(page).status_code == 410
    assert client.get(file).status_code == 410
    actions = list(
        Entry.objects.exclude(action="login.succeeded")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["share.created", "image.trashed", "share.revoked", "image.restored"]


def test_trashing_says_how_many_share_links_stopped_working(client, user) -> None:
    """Trashing an image with live links says so (the recipients now find it gone); links that
    had already expired or were revoked by an earlier trashing are not counted again."""
    shared, expired, plain = make_image(user), make_image(user), make_image(user)
    for _ in range(2):
        share_create(user=user, image=shared, expires_in_days=None, show_prompt=False)
    old = share_create(user=user, image=expired, expires_in_days=1, show_prompt=False)
    old.expires_at = timezone.now() - timedelta(hours=1)
    old.save(update_fields=["expires_at"])
    client.force_login(user)

    response = post(client, TRASH_URL, [shared, expired, plain])
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert message.endswith("2 share links to them stopped working."), message

    response = post(client, RESTORE_URL, [shared])
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert "2 share links revoked when it went to the trash stay revoked" in message

    # Trashed again: its links were already off, so nothing more stopped working.
    response = post(client, TRASH_URL, [shared])
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert "share link" not in message

    one = make_image(user)
    share_create(user=user, image=one, expires_in_days=None, show_prompt=False)
    response = client.post(reverse("gallery:image_trash", args=[one.uuid]))
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert message.endswith("Its share link stopped working."), message
    response = client.post(reverse("gallery:image_restore", args=[one.uuid]))
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert "1 share link revoked when it went to the trash stays revoked" in message


def test_a_trashed_image_cannot_be_shared_until_restored(client, user) -> None:
    image = make_image(user)
    images_trash(user=user, images=[image])
    client.force_login(user)
    share = reverse("gallery:image_share", args=[image.uuid])
    # The page offers no Share form; a hand-made POST is refused.
    assert client.post(share, {"expires_in_days": ""}).status_code == 403
    assert not image.share_links.exists()
    page = client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
    assert share not in page

    images_restore(user=user, images=[reload(image)])
    client.post(share, {"expires_in_days": ""})
    assert image.share_links.count() == 1


# The purge.


def trash_days_ago(image: OutputImage, days: float, by) -> None:
    images_trash(user=by, images=[image])
    OutputImage.objects.filter(pk=image.pk).update(deleted_at=timezone.now() - timedelta(days=days))


def test_the_purge_removes_expired_images_and_their_files_and_keeps_younger_ones(
    user, django_capture_on_commit_callbacks
) -> None:
    expired = make_image(user, prompt="expired")
    young = make_image(user, prompt="young")
    kept = make_image(user, prompt="kept")
    trash_days_ago(expired, 30.1, user)
    trash_days_ago(young, 29.9, user)
    expired_files, young_files = files_of(expired), files_of(young)
    assert all(default_storage.exists(name) for name in expired_files)

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.purge_trash.run() == 1

    assert not OutputImage.objects.filter(pk=expired.pk).exists()
    assert not Thumbnail.objects.filter(image_id=expired.pk).exists()
    assert not any(default_storage.exists(name) for name in expired_files)
    assert OutputImage.objects.filter(pk__in=[young.pk, kept.pk]).count() == 2
    assert all(default_storage.exists(name) for name in young_files + files_of(kept))
    record = TrashRecord.objects.get(action=TrashAction.PURGED)
    assert (record.image, record.image_uuid, record.actor) == (None, expired.uuid, None)
    assert (record.owner, record.prompt) == (user, "expired")
    # The earlier record stays, now pointing at no row.
    trashed = TrashRecord.objects.get(action=TrashAction.TRASHED, image_uuid=expired.uuid)
    assert trashed.image is None

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.purge_trash.run() == 0
    assert TrashRecord.objects.filter(action=TrashAction.PURGED).count() == 1


def test_the_trash_days_setting_moves_the_cutoff(
    user, settings, django_capture_on_commit_callbacks
) -> None:
    settings.DARKROOM_TRASH_DAYS = 7
    image = make_image(user)
    trash_days_ago(image, 8, user)
    with django_capture_on_commit_callbacks(execute=True):
        assert trash_purge() == 1
    assert not OutputImage.objects.filter(pk=image.pk).exists()


def test_the_purge_works_in_batches(user, django_capture_on_commit_callbacks) -> None:
    images = [make_image(user, prompt=f"old {n}") for n in range(5)]
    for image in images:
        trash_days_ago(image, 40, user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert trash_purge(batch_size=2) == 5
    assert len(callbacks) == 3  # one file deletion after each batch's commit
    assert not OutputImage.objects.filter(pk__in=[i.pk for i in images]).exists()


def test_the_purge_keeps_a_file_another_image_still_uses(
    user, django_capture_on_commit_callbacks
) -> None:
    # The seeded gallery points many rows at the same files.
    old = make_image(user)
    twin = make_image(user)
    OutputImage.objects.filter(pk=twin.pk).update(file=old.file.name)
    trash_days_ago(old, 31, user)
    original, *thumbnails = files_of(old)
    with django_capture_on_commit_callbacks(execute=True):
        assert trash_purge() == 1
    assert default_storage.exists(original)
    assert thumbnails and not any(default_storage.exists(name) for name in thumbnails)


def test_a_restored_image_is_not_purged(user, django_capture_on_commit_callbacks) -> None:
    image = make_image(user)
    trash_days_ago(image, 31, user)
    images_restore(user=user, images=[reload(image)])
    with django_capture_on_commit_callbacks(execute=True):
        assert trash_purge() == 0
    assert OutputImage.objects.filter(pk=image.pk).exists()


def test_the_image_pages_delete_and_restore_buttons_post_with_their_csrf_token(user) -> None:
    import re

    from django.test import Client

    image = make_image(user)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page_url = reverse("gallery:image_detail", args=[image.uuid])
    for action in ("bulk_trash", "bulk_restore"):
        page = browser.get(page_url).content.decode()
        form = re.search(rf'action="{reverse(f"gallery:{action}")}".*?</form>', page, re.S)
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(0)))
        response = browser.post(reverse(f"gallery:{action}"), fields)
        assert response.status_code == 302
        assert response["Location"] == page_url
        assert (reload(image).deleted_at is not None) == (action == "bulk_trash")
