"""/api/v1/images: the gallery's filters and pages, the image's files, and the favourite, move
and trash actions, through the gallery's own services."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import Action, Entry
from generations.models import Favourite, OutputImage
from projects.models import Role
from tests.factories import add_member, make_image, make_project

V1 = "/api/v1"


def _put(api, path, as_="alice"):
    return api.client.put(path, headers=api._headers(as_, None))


def _delete(api, path, as_="alice"):
    return api.client.delete(path, headers=api._headers(as_, None))


def test_the_list_holds_what_the_gallery_shows(api, world):
    listed = api.get(f"{V1}/images").json()
    assert {i["uuid"] for i in listed["items"]} == {
        str(world.project_image.uuid),
        str(world.personal_image.uuid),
    }
    assert listed["next_cursor"] is None
    tile = next(i for i in listed["items"] if i["uuid"] == str(world.project_image.uuid))
    assert tile["author"] == "bob" and tile["prompt"] == "shared harbour"
    assert [t["size"] for t in tile["thumbnails"]] == [256, 512, 1024]
    assert tile["original_url"] == f"{V1}/images/{world.project_image.uuid}/original"
    bob = {i["uuid"] for i in api.get(f"{V1}/images", as_="bob").json()["items"]}
    assert bob == {str(world.project_image.uuid)}
    assert api.get(f"{V1}/images", as_="erin").json()["items"] == []


def test_filters_and_search_are_the_gallerys(api, world):
    make_image(world.users["alice"], prompt="a lighthouse at night", resolution="4k")

    def uuids(**params):
        response = api.get(f"{V1}/images", **params)
        assert response.status_code == 200, response.json()
        return [i["prompt"] for i in response.json()["items"]]

    assert uuids(q="lighthouse") == ["a lighthouse at night"]
    assert uuids(project="personal", resolution="4k") == ["a lighthouse at night"]
    assert uuids(project=str(world.project.uuid)) == ["shared harbour"]
    assert uuids(author="bob") == ["shared harbour"]
    assert uuids(starred="1") == []
    refused = api.get(f"{V1}/images", project=str(world.other_project.uuid), as_="bob")
    assert refused.status_code == 422 and "project" in refused.json()["error"]["field_errors"]
    broken = api.get(f"{V1}/images", cursor="nonsense!")
    assert broken.status_code == 422 and "cursor" in broken.json()["error"]["field_errors"]


def test_a_token_limited_to_a_project_lists_only_its_images(api, world):
    mine = make_image(world.users["dave"], project=world.other_project, prompt="elsewhere")
    listed = api.get(f"{V1}/images", as_="alice:other-project").json()["items"]
    assert [i["uuid"] for i in listed] == [str(mine.uuid)]
    personal = api.get(f"{V1}/images", project="personal", as_="alice:other-project")
    assert personal.status_code == 403


def _pages(api, limit):
    """Every page at `limit` a page; the queries of each."""
    pages, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        with CaptureQueriesContext(connection) as queries:
            body = api.get(f"{V1}/images", **params).json()
        # The operation's own: not the token's look-up and its rate-limit counter.
        own = [
            q["sql"]
            for q in queries.captured_queries
            if not any(w in q["sql"] for w in ("windowcount", "SAVEPOINT", "accesstoken"))
        ]
        pages.append((body, own))
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_pages_follow_each_other_and_cost_the_same_at_any_depth(api, world):
    start = timezone.now() - timedelta(days=1)
    made = [
        make_image(
            world.users["alice"], prompt=f"kite {n}", created_at=start + timedelta(minutes=n)
        )
        for n in range(9)
    ]
    pages = _pages(api, limit=3)
    seen = [i["uuid"] for body, _ in pages for i in body["items"]]
    assert len(seen) == len(set(seen)) == 11
    assert seen[2:] == [str(i.uuid) for i in reversed(made)]
    counts = [len(own) for _, own in pages]
    # The memberships and the page: two queries, on the first page and the fourth alike.
    assert counts == [2, 2, 2, 2], [own for _, own in pages]


def test_metadata_of_one_image(api, world):
    image = world.project_image
    body = api.get(f"{V1}/images/{image.uuid}", as_="carol").json()
    assert body["generation"] == str(image.generation.uuid)
    assert body["project"] == str(world.project.uuid)
    assert body["author"] == "bob" and body["starred"] is False and body["trashed_at"] is None
    assert api.get(f"{V1}/images/{image.uuid}", as_="dave").status_code == 404
    assert api.get(f"{V1}/images/{image.uuid}", as_="alice:other-project").status_code == 404


def test_files_are_served_as_the_image_page_serves_them(api, world):
    image = world.project_image
    response = api.get(f"{V1}/images/{image.uuid}/original", as_="carol")
    assert response.status_code == 200
    with default_storage.open(image.file.name, "rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()
    assert response["Content-Type"] == "image/png"
    attachment = api.get(f"{V1}/images/{image.uuid}/original", as_="carol", download="true")
    assert attachment["Content-Disposition"].startswith("attachment")
    thumb = api.get(f"{V1}/images/{image.uuid}/thumbnails/512", as_="carol")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"
    assert api.get(f"{V1}/images/{image.uuid}/thumbnails/300").status_code == 404
    assert api.get(f"{V1}/images/{image.uuid}/original", as_="dave").status_code == 404
    assert api.get(f"{V1}/images/{image.uuid}/original", as_=None).status_code == 401


def test_files_go_through_nginx_when_it_is_set_up(api, world, settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/_protected_media/"
    image = world.personal_image
    response = api.get(f"{V1}/images/{image.uuid}/original")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/_protected_media/{image.file.name}"


def test_star_and_unstar(api, world):
    image = world.project_image
    path = f"{V1}/images/{image.uuid}/star"
    assert _put(api, path, as_="carol").json() == {"starred": True}
    assert _put(api, path, as_="carol").json() == {"starred": True}
    assert Favourite.objects.filter(image=image, user=world.users["carol"]).count() == 1
    assert api.get(f"{V1}/images/{image.uuid}", as_="carol").json()["starred"] is True
    assert _delete(api, path, as_="carol").json() == {"starred": False}
    assert not Favourite.objects.filter(image=image).exists()
    assert _put(api, path, as_="alice:read-only").status_code == 403
    assert _put(api, path, as_="dave").status_code == 404


def test_trash_and_restore_by_the_pages_rules(api, world):
    image = world.project_image
    assert api.post(f"{V1}/images/{image.uuid}/trash", {}, as_="carol").status_code == 403
    trashed = api.post(f"{V1}/images/{image.uuid}/trash", {}, as_="bob")
    assert trashed.status_code == 200 and trashed.json()["trashed_at"] is not None
    assert api.get(f"{V1}/images", as_="bob").json()["items"] == []
    in_trash = api.get(f"{V1}/images", as_="bob", status="trash").json()["items"]
    assert [i["uuid"] for i in in_trash] == [str(image.uuid)]
    assert Entry.objects.filter(action=Action.IMAGE_TRASHED, actor_name="bob").count() == 1
    restored = api.post(f"{V1}/images/{image.uuid}/restore", {}, as_="bob")
    assert restored.status_code == 200 and restored.json()["trashed_at"] is None
    assert OutputImage.objects.get(pk=image.pk).deleted_at is None


def test_move_by_the_pages_rules(api, world):
    image = world.personal_image
    path = f"{V1}/images/{image.uuid}/move"
    assert api.post(path, {"project": str(world.other_project.uuid)}).status_code == 403
    moved = api.post(path, {"project": str(world.project.uuid)})
    assert moved.status_code == 200 and moved.json()["project"] == str(world.project.uuid)
    assert OutputImage.objects.get(pk=image.pk).project == world.project
    stranger = make_project(world.users["erin"], "Erin's")
    assert api.post(path, {"project": str(stranger.uuid)}).status_code == 404
    api.post(f"{V1}/images/{image.uuid}/trash", {})
    second = make_project(world.users["alice"], "Second")
    add_member(second, world.users["bob"], Role.EDITOR)
    refused = api.post(path, {"project": str(second.uuid)})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "trashed"


def test_dates_narrow_by_day_as_on_the_gallery(api, world):
    old = make_image(
        world.users["alice"], prompt="last year", created_at=timezone.now() - timedelta(days=400)
    )
    since = (timezone.now() - timedelta(days=30)).date().isoformat()
    recent = [i["uuid"] for i in api.get(f"{V1}/images", **{"from": since}).json()["items"]]
    assert str(old.uuid) not in recent and len(recent) == 2
    before = (timezone.now() - timedelta(days=300)).date().isoformat()
    older = [i["uuid"] for i in api.get(f"{V1}/images", to=before).json()["items"]]
    assert older == [str(old.uuid)]
    assert api.get(f"{V1}/images", **{"from": "not a day"}).status_code == 422
