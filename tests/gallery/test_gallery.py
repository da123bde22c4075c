"""The gallery: keyset pagination, filters, search, favourites, tiles and access."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.cursors import InvalidCursor, decode_cursor, encode_cursor
from gallery.selectors import PAGE_SIZE, Filters, gallery_page
from generations.models import Favourite, OutputImage
from projects.models import Role
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db

GALLERY = "/gallery/"
UUID_IN_TILE = re.compile(r'data-tile data-uuid="([0-9a-f-]{36})"')
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.get_fixed_timezone(0))


def image(
    owner,
    *,
    at: datetime | None = None,
    project=None,
    prompt: str = "a red kite",
    ratio: str = "",
    resolution: str = "",
    nsfw: bool = False,
) -> OutputImage:
    """An image with the given creation time and generation parameters."""
    changes = {k: v for k, v in {"aspect_ratio": ratio, "resolution": resolution}.items() if v}
    return make_image(owner, project=project, prompt=prompt, created_at=at, nsfw=nsfw, **changes)


def series(owner, count: int, *, start: datetime = T0, **kwargs) -> list[OutputImage]:
    """`count` images a minute apart, the newest first."""
    made = [image(owner, at=start + timedelta(minutes=i), **kwargs) for i in range(count)]
    return made[::-1]


def shown(response) -> list[str]:
    return UUID_IN_TILE.findall(response.content.decode())


def uuids(images: list[OutputImage]) -> list[str]:
    return [str(i.uuid) for i in images]


# --- cursors ----------------------------------------------------------------------------------


def test_a_cursor_round_trips_to_the_microsecond() -> None:
    moment = datetime(2026, 11, 25, 14, 3, 7, 123456, tzinfo=timezone.get_fixed_timezone(0))
    cursor = decode_cursor(encode_cursor(moment, 4711))
    assert (cursor.created_at, cursor.pk) == (moment, 4711)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", encode_cursor(moment, 4711))


@pytest.mark.parametrize(
    "value", ["", "not-a-cursor", "%%%", "MTIz", "LTEuNQ", "x" * 500, "OTk5OTk5OTk5OTk5OTk5OTk5LjE"]
)
def test_a_tampered_cursor_is_refused(value: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(value)


# --- keyset pagination ------------------------------------------------------------------------


def test_pages_have_no_duplicates_and_no_gaps_while_new_images_arrive(user) -> None:
    existing = series(user, 25)
    seen: list[str] = []
    after = None
    newer = T0 + timedelta(days=1)
    for turn in range(10):
        page = gallery_page(user=user, filters=Filters(), after=after, size=7)
        seen += uuids(page.images)
        # New images arrive between pages: they belong above, never inside, what is left.
        image(user, at=newer + timedelta(minutes=turn))
        if not page.has_next:
            break
        after = decode_cursor(page.next_cursor)
    assert seen == uuids(existing)


def test_images_made_in_the_same_microsecond_are_ordered_by_id(user) -> None:
    same = [image(user, at=T0) for _ in range(5)]
    first = gallery_page(user=user, filters=Filters(), size=2)
    rest = gallery_page(user=user, filters=Filters(), after=decode_cursor(first.next_cursor))
    assert uuids(first.images + rest.images) == uuids(sorted(same, key=lambda i: -i.pk))


def test_the_page_shows_48_tiles_and_links_to_the_older_ones(client, user) -> None:
    made = series(user, PAGE_SIZE + 5)
    client.force_login(user)
    first = client.get(GALLERY)
    assert shown(first) == uuids(made[:PAGE_SIZE])
    html = first.content.decode()
    older = re.search(r'<a href="([^"]+)" rel="next">Older images</a>', html).group(1)
    assert 'hx-trigger="revealed"' in html and f'hx-get="{older}"' in html
    # Without JavaScript the link is a whole page; with htmx, only the tiles.
    second = client.get(older.replace("&amp;", "&"))
    assert shown(second) == uuids(made[PAGE_SIZE:])
    assert "Older images" not in second.content.decode()
    partial = client.get(older.replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert shown(partial) == uuids(made[PAGE_SIZE:])
    assert "<html" not in partial.content.decode()


def test_the_next_page_keeps_the_filters(client, user) -> None:
    series(user, PAGE_SIZE + 2, prompt="kite over the sea", ratio="16:9")
    client.force_login(user)
    html = client.get(GALLERY, {"q": "kite", "ratio": "16:9", "nsfw": "hide"}).content.decode()
    older = re.search(r'<a href="([^"]+)" rel="next">', html).group(1)
    assert "q=kite" in older and "ratio=16%3A9" in older and "nsfw=hide" in older


def test_a_tampered_cursor_gets_a_message_not_an_error(client, user) -> None:
    series(user, 3)
    client.force_login(user)
    response = client.get(GALLERY, {"after": "garbage"})
    assert response.status_code == 400
    assert "This page link is broken or out of date" in response.content.decode()
    partial = client.get(GALLERY, {"after": "bm9wZQ"}, headers={"HX-Request": "true"})
    assert partial.status_code == 400


# --- scope and filters ------------------------------------------------------------------------


@pytest.fixture
def team(user, outsider, django_user_model):
    """ada owns Harbour; grace edits in it; mallory is in nothing of theirs."""
    grace = django_user_model.objects.create_user("grace", password="pw-grace-123456")
    harbour = make_project(user, "Harbour")
    add_member(harbour, grace, Role.EDITOR)
    return {"harbour": harbour, "grace": grace}


def test_the_gallery_shows_my_work_and_my_projects_but_nothing_else(
    client, user, outsider, team
) -> None:
    mine = image(user, at=T0)
    in_project = image(team["grace"], project=team["harbour"], at=T0 + timedelta(minutes=1))
    graces_personal = image(team["grace"], at=T0 + timedelta(minutes=2))
    theirs = image(outsider, at=T0 + timedelta(minutes=3))
    client.force_login(user)
    assert shown(client.get(GALLERY)) == uuids([in_project, mine])
    client.force_login(outsider)
    assert shown(client.get(GALLERY)) == uuids([theirs])
    assert str(graces_personal.uuid) not in client.get(GALLERY).content.decode()


def test_each_filter_narrows_the_gallery(client, user, team) -> None:
    grace, harbour = team["grace"], team["harbour"]
    a = image(user, at=T0, prompt="lighthouse at dawn", ratio="16:9", resolution="2k")
    b = image(user, project=harbour, at=T0 + timedelta(days=1), ratio="9:16", nsfw=True)
    c = image(grace, project=harbour, at=T0 + timedelta(days=2), resolution="4k")
    d = image(user, at=T0 + timedelta(days=3), prompt="a storm over the lighthouse")
    Favourite.objects.create(user=user, image=c)
    Favourite.objects.create(user=grace, image=a)  # grace's star is not ada's
    client.force_login(user)
    cases = {
        "project": ({"project": str(harbour.uuid)}, [c, b]),
        "personal": ({"project": "personal"}, [d, a]),
        "author": ({"author": "grace"}, [c]),
        "from": ({"from": "2026-03-11"}, [d, c, b]),
        "to (inclusive)": ({"to": "2026-03-11"}, [b, a]),
        "from and to": ({"from": "2026-03-11", "to": "2026-03-12"}, [c, b]),
        "ratio": ({"ratio": "9:16"}, [b]),
        "resolution": ({"resolution": "4k"}, [c]),
        "starred": ({"starred": "1"}, [c]),
        "nsfw only": ({"nsfw": "only"}, [b]),
        "nsfw hidden": ({"nsfw": "hide"}, [d, c, a]),
        "search": ({"q": "lighthouse"}, [d, a]),
        "search, every word": ({"q": "storm lighthouse"}, [d]),
        "combined": ({"project": "personal", "q": "lighthouse", "to": "2026-03-10"}, [a]),
        "combined 2": ({"project": str(harbour.uuid), "author": "ada", "nsfw": "only"}, [b]),
    }
    for name, (params, expected) in cases.items():
        response = client.get(GALLERY, params)
        assert response.status_code == 200, name
        assert shown(response) == uuids(expected), name


def test_dates_are_whole_days_in_the_site_time_zone(client, user, settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    # 23:30 UTC on the 10th is already the 11th in Berlin.
    late = image(user, at=datetime(2026, 3, 10, 23, 30, tzinfo=timezone.get_fixed_timezone(0)))
    client.force_login(user)
    assert shown(client.get(GALLERY, {"from": "2026-03-11", "to": "2026-03-11"})) == uuids([late])
    assert shown(client.get(GALLERY, {"to": "2026-03-10"})) == []


def test_the_trash_shows_what_i_may_see_with_who_deleted_it_and_when(
    client, user, outsider, team
) -> None:
    kept = image(user, at=T0)
    trashed = image(team["grace"], project=team["harbour"], at=T0 + timedelta(minutes=1))
    strangers = image(outsider, at=T0 + timedelta(minutes=2))
    when = datetime(2026, 3, 12, 9, 15, tzinfo=timezone.get_fixed_timezone(0))
    OutputImage.objects.filter(pk__in=[trashed.pk, strangers.pk]).update(
        deleted_at=when, deleted_by=team["grace"]
    )
    client.force_login(user)
    assert shown(client.get(GALLERY)) == uuids([kept])
    trash = client.get(GALLERY, {"status": "trash"})
    assert shown(trash) == uuids([trashed])
    html = trash.content.decode()
    assert "deleted by grace on 12 Mar 2026, 09:15" in html
    assert reverse("gallery:bulk_restore") in html
    assert reverse("gallery:bulk_trash") not in html
    assert reverse("gallery:bulk_move") not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"project": "7f0c6a4e-0000-4000-8000-000000000000"}, "That project is not one of yours."),
        ({"project": "nonsense"}, "That project is not one of yours."),
        ({"author": "mallory"}, "Nobody by that name shares a project with you."),
        ({"from": "yesterday"}, "Enter a valid date."),
        ({"from": "2026-03-12", "to": "2026-03-10"}, "The end date is before the start date."),
        ({"ratio": "5:4"}, "Select a valid choice."),
        ({"resolution": "8k"}, "Select a valid choice."),
        ({"status": "gone"}, "Select a valid choice."),
        ({"nsfw": "maybe"}, "Select a valid choice."),
        ({"starred": "yes"}, "Select a valid choice."),
        ({"q": "x" * 201}, "Ensure this value has at most 200 characters"),
        # Issue 12: these were 500s (9999-12-31 has no next day).
        ({"from": "0001-01-01", "to": "9999-12-31"}, "Choose a date between 1900-01-01 and"),
        ({"to": "9999-12-31"}, "Choose a date between 1900-01-01 and 9998-12-31."),
        ({"from": "1899-12-31"}, "Choose a date between 1900-01-01 and 9998-12-31."),
    ],
)
def test_an_invalid_filter_gets_a_clear_message(
    client, user, outsider, team, params, message
) -> None:
    image(user)
    client.force_login(user)
    response = client.get(GALLERY, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert shown(response) == []


def test_a_project_filter_of_someone_elses_project_tells_nothing(client, outsider, team) -> None:
    image(team["grace"], project=team["harbour"])
    client.force_login(outsider)
    response = client.get(GALLERY, {"project": str(team["harbour"].uuid)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "That project is not one of yours." in html and "Harbour" not in html


def author_options(html: str) -> list[str]:
    select = html.split('name="author"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]*)"', select)


def test_the_author_filter_offers_me_and_people_who_share_a_project(
    client, user, outsider, team
) -> None:
    image(user, at=T0)  # an empty gallery has no filters to offer
    client.force_login(user)
    # The page offers "Anyone"; the panel fetches the people when it opens.
    html = client.get(GALLERY).content.decode()
    assert author_options(html) == [""]
    fetch = re.search(
        r'<details class="filters-menu" hx-get="([^"]+)" hx-trigger="toggle once"', html
    )
    assert fetch and fetch.group(1) == reverse("gallery:gallery_author_options")
    options = client.get(fetch.group(1), {"author": "grace"}).content.decode()
    assert re.findall(r'<option value="([^"]*)"( selected)?', options) == [
        ("", ""),
        ("ada", ""),
        ("grace", " selected"),
    ]
    # Without JavaScript a link lists them on the page, and the form keeps asking for them.
    link = re.search(r'<noscript><a href="([^"]+)"', html).group(1).replace("&amp;", "&")
    listed = client.get(link).content.decode()
    assert author_options(listed) == ["", "ada", "grace"]
    assert '<input type="hidden" name="authors" value="all">' in listed
    # A page filtered by an author has read them to check it: it lists them at once.
    assert author_options(client.get(GALLERY, {"author": "grace"}).content.decode()) == [
        "",
        "ada",
        "grace",
    ]
    client.force_login(outsider)
    options = client.get(reverse("gallery:gallery_author_options")).content.decode()
    assert re.findall(r'<option value="([^"]*)"', options) == ["", "mallory"]


def test_the_author_options_need_a_login(client) -> None:
    response = client.get(reverse("gallery:gallery_author_options"))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- search on the configured database ---------------------------------------------------------


def test_search_finds_prompts_by_their_words(client, user) -> None:
    foxes = image(user, at=T0, prompt="Two foxes jumping over a frozen river")
    image(user, at=T0 + timedelta(minutes=1), prompt="A quiet harbour at night")
    client.force_login(user)
    # On PostgreSQL "fox" matches "foxes" by its stem; on SQLite as a substring. Both: any case.
    for q in ("fox", "FROZEN river", "foxes river"):
        assert shown(client.get(GALLERY, {"q": q})) == uuids([foxes]), q
    assert shown(client.get(GALLERY, {"q": "lighthouse"})) == []
    # The web-search habit of excluding a word works on both.
    assert shown(client.get(GALLERY, {"q": "fox -harbour"})) == uuids([foxes])
    assert shown(client.get(GALLERY, {"q": "fox -river"})) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgresql_search_is_full_text_and_uses_the_gin_index(user) -> None:
    from django.db import connection as conn

    dogs = image(user, at=T0, prompt="The dogs are running on the beach")
    image(user, at=T0 + timedelta(minutes=1), prompt="a cat asleep")
    # websearch syntax: a stem matches ("run" for "running"), "-word" excludes, quotes phrase.
    assert uuids(gallery_page(user=user, filters=Filters(q="dog run")).images) == uuids([dogs])
    assert gallery_page(user=user, filters=Filters(q="dog -beach")).images == []
    phrase = Filters(q='"running on the beach"')
    assert uuids(gallery_page(user=user, filters=phrase).images) == uuids([dogs])
    assert gallery_page(user=user, filters=Filters(q='"beach running"')).images == []
    from gallery.selectors import gallery_images

    with conn.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        plan = gallery_images(user=user, filters=Filters(q="dog")).explain()
    finally:
        with conn.cursor() as cursor:
            cursor.execute("SET enable_seqscan = on")
    assert "generation_prompt_search" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_runs_are_searched_as_images_are_through_the_gin_index(user) -> None:
    from django.db import connection as conn

    from gallery.selectors import generations_listed

    dogs = image(user, at=T0, prompt="The dogs are running on the beach").generation
    image(user, at=T0 + timedelta(minutes=1), prompt="a cat asleep")

    def found(q: str) -> list[str]:
        return [str(g.uuid) for g in generations_listed(user=user, filters=Filters(q=q))]

    assert found("dog run") == [str(dogs.uuid)]
    assert found("dog -beach") == []
    assert found('"running on the beach"') == [str(dogs.uuid)]
    with conn.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        plan = generations_listed(user=user, filters=Filters(q="dog")).explain()
    finally:
        with conn.cursor() as cursor:
            cursor.execute("SET enable_seqscan = on")
    assert "generation_prompt_search" in plan


# --- query count --------------------------------------------------------------------------------


def test_every_gallery_page_costs_the_same_few_queries(client, user, team) -> None:
    harbour = team["harbour"]
    made = series(user, 2 * PAGE_SIZE + 10, prompt="kite over the harbour", project=harbour)
    for one in made[::3]:
        Favourite.objects.create(user=user, image=one)
    client.force_login(user)
    deep = encode_cursor(made[PAGE_SIZE * 2 - 1].created_at, made[PAGE_SIZE * 2 - 1].pk)

    def queries(params: dict[str, str], htmx: bool = False) -> int:
        headers = {"HX-Request": "true"} if htmx else {}
        with CaptureQueriesContext(connection) as captured:
            response = client.get(GALLERY, params, headers=headers)
        assert response.status_code == 200
        assert shown(response), params
        return len(captured)

    counts = {
        "first": queries({}),
        "deep": queries({"after": deep}),
        "filtered": queries(
            {"project": str(harbour.uuid), "author": "ada", "ratio": "auto", "starred": "1"}
        ),
        "search": queries({"q": "kite harbour"}),
        "trash-free favourites": queries({"starred": "1", "nsfw": "hide"}),
    }
    # session, the viewer with their profile (top bar), memberships, the page (its thumbnails,
    # stars and authors in the same query); the Filters panel fetches the authors when opened,
    # unless one is asked for (then they are read to check it).
    assert counts == {**dict.fromkeys(counts, 4), "filtered": 5}
    # The endless-scroll partial needs no top bar and no list of authors (unless one is asked
    # for: it is checked against them).
    assert queries({"after": deep}, htmx=True) == 4
    assert queries({"after": deep, "author": "ada"}, htmx=True) == 5


# --- tiles ------------------------------------------------------------------------------------


def test_a_tile_has_srcset_sizes_placeholder_selection_and_a_star(client, user) -> None:
    made = make_image(user, size=(1360, 768), nsfw=True)
    OutputImage.objects.filter(pk=made.pk).update(placeholder="LEHV6nWB2yk8pyo0adR*.7kCMdnj")
    client.force_login(user)
    html = client.get(GALLERY).content.decode()
    tile = html.split("data-tile")[1].split("</figure>")[0]
    thumb = reverse("gallery:image_thumbnail", args=[made.uuid, 256])
    large = reverse("gallery:image_thumbnail", args=[made.uuid, 512])
    larger = reverse("gallery:image_thumbnail", args=[made.uuid, 1024])
    original = reverse("gallery:image_original", args=[made.uuid])
    assert f'src="{thumb}"' in tile
    # Every thumbnail, then the original where it is wider than the largest (3x screens).
    assert f'srcset="{thumb} 256w, {large} 512w, {larger} 1024w, {original} 1360w"' in tile
    assert 'sizes="' in tile and 'width="256" height="145"' in tile
    assert 'loading="lazy"' in tile and 'decoding="async"' in tile
    assert 'data-blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj"' in tile
    assert 'alt="a red kite"' in tile
    assert 'class="thumb nsfw"' in tile
    assert f'name="images" value="{made.uuid}" form="bulk-form"' in tile
    assert reverse("gallery:image_favourite", args=[made.uuid]) in tile
    assert 'aria-pressed="false"' in tile


def test_the_bulk_toolbar_posts_to_the_bulk_actions(client, user, team) -> None:
    image(user)
    client.force_login(user)
    html = client.get(GALLERY, {"ratio": "auto"}).content.decode()
    toolbar = html.split('<form id="bulk-form" method="post"')[1].split("</form>")[0]
    assert 'name="csrfmiddlewaretoken"' in toolbar
    assert 'name="next" value="/gallery/?ratio=auto"' in toolbar
    for name in ("bulk_zip", "bulk_move", "bulk_trash"):
        assert f'formaction="{reverse(f"gallery:{name}")}"' in toolbar
    assert f'<option value="{team["harbour"].uuid}">Harbour</option>' in toolbar


def test_a_viewer_is_not_offered_a_move_into_the_project(client, outsider, team) -> None:
    add_member(team["harbour"], outsider, Role.VIEWER)
    image(outsider)
    client.force_login(outsider)
    html = client.get(GALLERY).content.decode()
    assert reverse("gallery:bulk_move") not in html


def test_the_project_page_shows_its_gallery_and_scrolls_on_in_the_gallery(
    client, user, team
) -> None:
    harbour = team["harbour"]
    in_project = series(user, PAGE_SIZE + 1, project=harbour)
    personal = image(user, at=T0 + timedelta(days=9))
    client.force_login(user)
    html = client.get(reverse("projects:detail", args=[harbour.uuid])).content.decode()
    assert UUID_IN_TILE.findall(html) == uuids(in_project[:PAGE_SIZE])
    assert str(personal.uuid) not in html
    assert f'hx-get="/gallery/?project={harbour.uuid}&amp;after=' in html


# --- favourites -------------------------------------------------------------------------------


def test_starring_toggles_and_answers_htmx_with_the_button(client, user) -> None:
    made = image(user)
    url = reverse("gallery:image_favourite", args=[made.uuid])
    client.force_login(user)
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    assert Favourite.objects.filter(user=user, image=made).exists()
    # An explicit "star" is idempotent (a double click stars once).
    client.post(url, {"star": "1"}, headers={"HX-Request": "true"})
    assert Favourite.objects.filter(user=user, image=made).count() == 1
    response = client.post(url, headers={"HX-Request": "true"})
    assert 'aria-pressed="false"' in response.content.decode()
    assert not Favourite.objects.filter(user=user, image=made).exists()


def test_starring_without_javascript_goes_back_to_a_safe_next(client, user) -> None:
    made = image(user)
    url = reverse("gallery:image_favourite", args=[made.uuid])
    client.force_login(user)
    response = client.post(url, {"next": "/gallery/?starred=1"})
    assert response.status_code == 302 and response["Location"] == "/gallery/?starred=1"
    response = client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("gallery:image_detail", args=[made.uuid])


def test_the_favourites_view_shows_my_stars_only(client, user, team) -> None:
    shared = image(team["grace"], project=team["harbour"], at=T0)
    mine = image(user, at=T0 + timedelta(minutes=1))
    client.force_login(user)
    client.post(reverse("gallery:image_favourite", args=[shared.uuid]))
    assert shown(client.get(GALLERY, {"starred": "1"})) == uuids([shared])
    client.force_login(team["grace"])
    assert shown(client.get(GALLERY, {"starred": "1"})) == []
    assert str(mine.uuid) not in client.get(GALLERY).content.decode()


def test_an_outsider_cannot_star_an_image_they_cannot_see(client, user, outsider) -> None:
    made = image(user)
    client.force_login(outsider)
    url = reverse("gallery:image_favourite", args=[made.uuid])
    assert client.post(url).status_code == 404
    assert client.post(url, headers={"HX-Request": "true"}).status_code == 404
    assert not Favourite.objects.exists()


def test_starring_needs_a_login_and_a_post(client, user) -> None:
    made = image(user)
    url = reverse("gallery:image_favourite", args=[made.uuid])
    response = client.post(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(user)
    assert client.get(url).status_code == 405


# --- new images while the page is open (the poll) --------------------------------------------


def poll(client, cursor: str, **params: str):
    return client.get(GALLERY, {**params, "newer": cursor}, headers={"HX-Request": "true"})


def test_the_poll_brings_only_newer_tiles_newest_first(client, user, outsider) -> None:
    shown_first = series(user, 3)
    client.force_login(user)
    newest = re.search(r'data-cursor="([^"]+)"', client.get(GALLERY).content.decode()).group(1)
    assert decode_cursor(newest) == decode_cursor(
        encode_cursor(shown_first[0].created_at, shown_first[0].pk)
    )
    # Nothing new: nothing to swap.
    assert poll(client, newest).status_code == 204
    later = series(user, 2, start=T0 + timedelta(hours=1))
    image(outsider, at=T0 + timedelta(hours=2))  # not theirs to see
    response = poll(client, newest)
    assert response.status_code == 200
    assert shown(response) == uuids(later)
    assert "<html" not in response.content.decode()
    assert "gallery-more" not in response.content.decode()


def test_the_poll_keeps_the_filters_and_fills_a_gap_in_steps(client, user) -> None:
    first = image(user, at=T0)
    cursor = encode_cursor(first.created_at, first.pk)
    burst = series(user, PAGE_SIZE + 2, start=T0 + timedelta(hours=1), ratio="16:9")
    image(user, at=T0 + timedelta(days=1), ratio="9:16")  # filtered out
    client.force_login(user)
    step = poll(client, cursor, ratio="16:9")
    # The 48 right above the newest tile shown, so nothing between is skipped ...
    assert shown(step) == uuids(burst[2:])
    # ... then the rest, asked for with the newest of those.
    again = poll(client, encode_cursor(burst[2].created_at, burst[2].pk), ratio="16:9")
    assert shown(again) == uuids(burst[:2])


def test_the_poll_costs_the_same_few_queries_whatever_arrived(client, user, team) -> None:
    first = image(user, at=T0, project=team["harbour"])
    cursor = encode_cursor(first.created_at, first.pk)
    client.force_login(user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            poll(client, cursor, project=str(team["harbour"].uuid))
        return len(captured)

    counts = [queries()]
    image(team["grace"], project=team["harbour"], at=T0 + timedelta(minutes=1))
    counts.append(queries())
    series(user, PAGE_SIZE + 3, start=T0 + timedelta(hours=1), project=team["harbour"])
    counts.append(queries())
    # session, user, memberships, the page
    assert counts == [4, 4, 4]


def test_only_the_first_page_polls_and_never_the_trash(client, user) -> None:
    series(user, PAGE_SIZE + 1)
    client.force_login(user)
    first = client.get(GALLERY, {"ratio": "auto"}).content.decode()
    assert 'data-poll-url="/gallery/?ratio=auto"' in first
    after = re.search(r'rel="next"', first) and re.search(r'href="([^"]+)" rel="next"', first)
    deeper = client.get(after.group(1).replace("&amp;", "&")).content.decode()
    assert "data-poll-url" not in deeper
    assert "data-poll-url" not in client.get(GALLERY, {"status": "trash"}).content.decode()


# --- the bar: chips and the results swapped by the filters ---------------------------------


def test_active_filters_show_as_chips_that_remove_themselves(client, user, team) -> None:
    image(user, ratio="16:9", prompt="a kite")
    client.force_login(user)
    params = {"q": "kite", "ratio": "16:9", "nsfw": "hide", "author": "grace", "from": "2026-03-01"}
    html = client.get(GALLERY, params).content.decode()
    chips = dict(re.findall(r'<a class="chip" href="([^"]+)"[^>]*>([^<]+) <span', html))
    # In the order of the URL's parameters: q, project, author, from, to, ratio, ..., nsfw.
    assert list(chips.items()) == [
        ("/gallery/?author=grace&amp;from=2026-03-01&amp;ratio=16%3A9&amp;nsfw=hide", "“kite”"),
        ("/gallery/?q=kite&amp;from=2026-03-01&amp;ratio=16%3A9&amp;nsfw=hide", "By grace"),
        ("/gallery/?q=kite&amp;author=grace&amp;ratio=16%3A9&amp;nsfw=hide", "From 1 Mar 2026"),
        ("/gallery/?q=kite&amp;author=grace&amp;from=2026-03-01&amp;nsfw=hide", "Ratio 16:9"),
        ("/gallery/?q=kite&amp;author=grace&amp;from=2026-03-01&amp;ratio=16%3A9", "NSFW hidden"),
    ]
    assert 'href="/gallery/" data-remove-filter="*">Clear all' in html
    assert 'data-filter-count="5"' in html
    # The tab says what the view is; its own filter is no chip, and Clear all keeps it.
    harbour = str(team["harbour"].uuid)
    html = client.get(GALLERY, {"project": harbour, "starred": "1"}).content.decode()
    assert re.findall(r'class="chip"[^>]*>([^<]+) <span', html) == ["Favourites"]
    assert f'<a href="/gallery/?project={harbour}" aria-current="page">Harbour</a>' in html
    html = client.get(GALLERY, {"status": "trash", "q": "kite", "nsfw": "only"}).content.decode()
    assert 'href="/gallery/?status=trash" data-remove-filter="*">Clear all' in html
    assert '<a href="/gallery/?status=trash" aria-current="page">Trash</a>' in html


def test_changed_filters_get_the_results_and_the_tabs_not_the_page(client, user) -> None:
    wide = image(user, ratio="16:9")
    image(user, ratio="9:16")
    client.force_login(user)
    headers = {"HX-Request": "true", "HX-Target": "gallery-results"}
    response = client.get(GALLERY, {"ratio": "16:9", "starred": ""}, headers=headers)
    html = response.content.decode()
    assert shown(response) == uuids([wide])
    assert html.lstrip().startswith('<div class="gallery-results" id="gallery-results"')
    assert 'id="gallery-view" hx-swap-oob="true"' in html
    assert "<html" not in html and 'name="q"' not in html  # the form stays as it is
    # Back to a page htmx had pushed: the whole page.
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in client.get(GALLERY, {"ratio": "16:9"}, headers=restore).content.decode()


# --- tiles, escaped -------------------------------------------------------------------------

HOSTILE = "\"><script>alert(1)</script><img src=x onerror=alert(2)> {url} & 'q'"


def test_a_hostile_prompt_or_name_is_escaped_in_every_tile(client, user, team) -> None:
    from accounts.models import Profile

    Profile.objects.update_or_create(user=team["grace"], defaults={"display_name": HOSTILE})
    made = image(team["grace"], project=team["harbour"], prompt=HOSTILE, at=T0)
    client.force_login(user)
    escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
    for response in (
        client.get(GALLERY, {"q": "<script>"}),  # the search echoes in chips and next links
        client.get(GALLERY),
        poll(client, encode_cursor(T0 - timedelta(days=1), 1)),
        client.get(GALLERY, {"status": "trash"}),
    ):
        html = response.content.decode()
        assert "<script>alert" not in html and "onerror=alert(2)>" not in html
    html = client.get(GALLERY).content.decode()
    tile = html.split("data-tile")[1].split("</figure>")[0]
    assert f'alt="{escaped} {{url}} &amp; &#x27;q&#x27;"' in tile
    assert f'aria-label="Select {escaped}' in tile
    assert f'<span class="author">{escaped}' in tile
    # The page's own address goes into every star's form: escaped too.
    html = client.get(GALLERY, {"ratio": "16:9", "q": '"><b>x'}).content.decode()
    assert '"><b>x' not in html
    assert str(made.uuid) not in html  # filtered out, but the page rendered


def test_a_tile_carries_its_ratio_cursor_and_sizes_for_its_width(client, user) -> None:
    made = make_image(user, size=(768, 1360), created_at=T0)  # 9:16
    client.force_login(user)
    tile = client.get(GALLERY).content.decode().split("<figure")[1].split("</figure>")[0]
    from gallery.templatetags.gallery_tags import ratio_class

    assert f'class="tile ar{ratio_class(145, 256)}"' in tile
    cursor = re.search(r'data-cursor="([^"]+)"', tile).group(1)
    assert decode_cursor(cursor) == decode_cursor(encode_cursor(T0, made.pk))
    sizes = re.search(r'sizes="([^"]+)"', tile).group(1)
    # Chrome lays the tile out first (`auto`); others get its width at each row height.
    assert sizes.startswith("auto, (max-width: 600px) ")
    assert sizes.endswith("px")
