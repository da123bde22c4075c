"""The gallery's reads: one scope (everything the viewer may see), filters, search, and keyset
pagination on (created_at, id) descending.

Never OFFSET and never COUNT: a page is the 48 rows after a cursor, fetched as 49 so that the
49th tells whether there is a next page. The query count of a page is the same at any depth and
with any filter: a page is ONE query, its rows read as tuples: the star of each tile is an
EXISTS, the two thumbnails' sizes are subqueries, and the tile's prompt and author come
through joins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple, TypeVar
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.db.models import (
    BooleanField,
    Exists,
    OuterRef,
    PositiveIntegerField,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from config.cursors import Cursor, encode_cursor
from generations.models import Favourite, Generation, OutputImage, Thumbnail
from generations.selectors import visible_to
from imaging.images import THUMBNAIL_SIZES
from projects.models import Membership, Project
from projects.selectors import member_project_ids

PAGE_SIZE = 48
Row = TypeVar("Row", OutputImage, Generation)


@dataclass(frozen=True)
class Filters:
    """What narrows the gallery; every field's empty value means "no filter"."""

    project: Project | None = None
    personal: bool = False
    author_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    ratio: str = ""
    resolution: str = ""
    trash: bool = False
    starred: bool = False
    nsfw: str = "any"  # any | only | hide
    q: str = ""


@dataclass(frozen=True)
class GalleryPage:
    images: list[TileRow]
    next_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


class TileRow(NamedTuple):
    """What a tile shows, read as one row (no model instances: building 48 images with their
    generations, authors, profiles and prefetched thumbnails was a third of a page's server
    time, bench/gallery.py). A size's `thumb_*` are None when that thumbnail is missing."""

    pk: int
    uuid: UUID
    created_at: datetime
    nsfw: bool
    placeholder: str
    prompt: str
    username: str
    display_name: str | None  # None without a profile
    starred: bool
    thumb_256_width: int | None
    thumb_256_height: int | None
    thumb_512_width: int | None
    thumb_512_height: int | None
    thumb_1024_width: int | None  # None for images saved before this size was made
    thumb_1024_height: int | None
    width: int  # the original's, as stored (what a tile shows until its thumbnails exist)
    height: int
    deleted_at: datetime | None = None  # these three only in the trash
    deleted_by_username: str | None = None
    deleted_by_display_name: str | None = None

    @property
    def cursor(self) -> str:
        return encode_cursor(self.created_at, self.pk)

    @property
    def author(self) -> str:
        return self.display_name or self.username

    @property
    def deleted_by(self) -> str:
        return self.deleted_by_display_name or self.deleted_by_username or ""

    def thumbnails(self) -> list[tuple[int, int, int]]:
        """(size, width, height) of each stored thumbnail, smallest first."""
        found = []
        for size, width, height in (
            (256, self.thumb_256_width, self.thumb_256_height),
            (512, self.thumb_512_width, self.thumb_512_height),
            (1024, self.thumb_1024_width, self.thumb_1024_height),
        ):
            if width is not None and height is not None:
                found.append((size, width, height))
        return found


assert THUMBNAIL_SIZES == (256, 512, 1024), "TileRow reads the thumbnails of these sizes"

TILE_COLUMNS = (
    "pk",
    "uuid",
    "created_at",
    "nsfw",
    "placeholder",
    "generation__prompt",
    "owner__username",
    "owner__profile__display_name",
    "starred",
    "thumb_256_width",
    "thumb_256_height",
    "thumb_512_width",
    "thumb_512_height",
    "thumb_1024_width",
    "thumb_1024_height",
    "width",
    "height",
)
TRASH_COLUMNS = ("deleted_at", "deleted_by__username", "deleted_by__profile__display_name")


def gallery_page(
    *,
    user: AbstractBaseUser,
    filters: Filters,
    after: Cursor | None = None,
    size: int = PAGE_SIZE,
    project_ids: Sequence[int] | None = None,
) -> GalleryPage:
    """A page of tiles, newest first, after `after` (from the newest when None)."""
    images = gallery_images(user=user, filters=filters, after=after, project_ids=project_ids)
    rows = [TileRow(*row) for row in tile_rows(images, trash=filters.trash)[: size + 1]]
    page = rows[:size]
    if len(rows) <= size:
        return GalleryPage(images=page, next_cursor=None)
    return GalleryPage(images=page, next_cursor=page[-1].cursor)


def has_any_image(*, user: AbstractBaseUser, project_ids: Sequence[int] | None = None) -> bool:
    """Whether `user` sees any image in any gallery view, the trash included."""
    return OutputImage.objects.filter(visible_to(user, project_ids=project_ids)).exists()


def gallery_newer(
    *,
    user: AbstractBaseUser,
    filters: Filters,
    than: Cursor,
    size: int = PAGE_SIZE,
    project_ids: Sequence[int] | None = None,
) -> list[TileRow]:
    """Up to `size` tiles newer than `than`, newest first: the ones right above it, so that
    nothing is skipped when more arrived (ask again with the newest of these)."""
    images = gallery_images(user=user, filters=filters, newer=than, project_ids=project_ids)
    oldest_first = [TileRow(*row) for row in tile_rows(images, trash=filters.trash)[:size]]
    return oldest_first[::-1]


def generations_listed(
    *,
    user: AbstractBaseUser,
    filters: Filters,
    status: str = "",
    after: Cursor | None = None,
    project_ids: Sequence[int] | None = None,
) -> QuerySet[Generation]:
    """The runs the viewer may see, newest first, narrowed by the gallery's filters that are a
    run's (RUN_PATHS: its own project, author, day, ratio, resolution and prompt) and its
    `status`; those older than `after` (a keyset, as the gallery's pages)."""
    runs = Generation.objects.filter(visible_to(user, project_ids=project_ids))
    runs = narrow(runs, user=user, filters=filters, paths=RUN_PATHS)
    if status:
        runs = runs.filter(status=status)
    if after is not None:
        runs = _after(runs, after)
    return runs.order_by("-created_at", "-id")


def tile_rows(images: QuerySet[OutputImage], *, trash: bool) -> QuerySet:
    """The page's one query, as tuples for `TileRow`: the images' columns, the author's name
    (joins), the star (an EXISTS) and both thumbnails' sizes (subqueries)."""
    return images.values_list(*(TILE_COLUMNS + TRASH_COLUMNS if trash else TILE_COLUMNS))


def gallery_images(
    *,
    user: AbstractBaseUser,
    filters: Filters,
    after: Cursor | None = None,
    newer: Cursor | None = None,
    project_ids: Sequence[int] | None = None,
) -> QuerySet[OutputImage]:
    """The images of a gallery view, newest first, with what a tile shows; those older than
    `after`, or those newer than `newer` oldest first.

    `project_ids`: the viewer's projects when the caller has read them already (a literal list
    instead of a subquery; the same rows)."""
    scope = visible_to(user, project_ids=project_ids)
    images = OutputImage.objects.filter(scope, deleted_at__isnull=not filters.trash)
    images = narrow(images, user=user, filters=filters)
    if after is not None:
        images = _after(images, after)
    if newer is not None:
        images = _newer(images, newer)
    images = images.annotate(**_tile_extras(user))
    if newer is not None:
        return images.order_by("created_at", "id")
    return images.order_by("-created_at", "-id")


def _tile_extras(user: AbstractBaseUser) -> dict[str, RawSQL]:
    """The star and the thumbnails' sizes, as correlated subqueries of the page query (index
    lookups on the unique (user, image) and (image, size)). As joins, the two thumbnails made
    PostgreSQL plan the query for 3 ms to run it in 1; and written in SQL rather than as ORM
    subqueries, they cost no time to build and compile (1.2 ms of a page's CPU as five
    `Subquery`/`Exists`, bench/gallery.py)."""
    image = f"{_quote(OutputImage._meta.db_table)}.{_quote('id')}"
    thumbnail, favourite = _quote(Thumbnail._meta.db_table), _quote(Favourite._meta.db_table)
    extras = {
        "starred": RawSQL(
            f"EXISTS (SELECT 1 FROM {favourite} WHERE user_id = %s AND image_id = {image})",
            (user.pk,),
            output_field=BooleanField(),
        )
    }
    for size in THUMBNAIL_SIZES:
        for side in ("width", "height"):
            extras[f"thumb_{size}_{side}"] = RawSQL(
                f"SELECT {side} FROM {thumbnail} WHERE image_id = {image} AND size = %s",
                (size,),
                output_field=PositiveIntegerField(),
            )
    return extras


def _quote(name: str) -> str:
    return f'"{name}"'  # the ANSI quoting PostgreSQL and SQLite share


def _newer(images: QuerySet[OutputImage], cursor: Cursor) -> QuerySet[OutputImage]:
    return images.filter(created_at__gte=cursor.created_at).filter(
        Q(created_at__gt=cursor.created_at) | Q(created_at=cursor.created_at, pk__gt=cursor.pk)
    )


def _after(images: QuerySet[Row], cursor: Cursor) -> QuerySet[Row]:
    # The plain `created_at <= c` bound beside the row comparison lets PostgreSQL range-scan the
    # (created_at, id) index instead of filtering it from the top (docs/measured.md: 6.4 ms → 1).
    return images.filter(created_at__lte=cursor.created_at).filter(
        Q(created_at__lt=cursor.created_at) | Q(created_at=cursor.created_at, pk__lt=cursor.pk)
    )


@dataclass(frozen=True)
class Paths:
    """Where the filters find a run's fields from the rows they narrow. Images and generations
    share the rest (`project`, `owner`, `created_at`): an image reaches its run through a
    foreign key, a generation is the run."""

    generation_id: str  # the run's id
    run: str  # the prefix of the run's fields (its prompt, ratio and resolution)


IMAGE_PATHS = Paths(generation_id="generation_id", run="generation__")
RUN_PATHS = Paths(generation_id="pk", run="")


def narrow(
    rows: QuerySet[Row],
    *,
    user: AbstractBaseUser,
    filters: Filters,
    paths: Paths = IMAGE_PATHS,
) -> QuerySet[Row]:
    """`rows` (images, or generations with RUN_PATHS) narrowed by `filters` and its search.
    The favourite and NSFW filters are an image's: runs are never given them (RunFilterForm)."""
    if paths is not IMAGE_PATHS and (filters.starred or filters.nsfw != "any"):
        raise ValueError("Favourites and NSFW flags are an image's: filter the images.")
    if filters.project is not None:
        rows = rows.filter(project=filters.project)
    elif filters.personal:
        rows = rows.filter(project__isnull=True)
    if filters.author_id is not None:
        rows = rows.filter(owner_id=filters.author_id)
    if filters.date_from:
        rows = rows.filter(created_at__gte=_start_of(filters.date_from))
    if filters.date_to:
        rows = rows.filter(created_at__lt=_start_of(filters.date_to + timedelta(days=1)))
    if filters.ratio:
        rows = rows.filter(**{f"{paths.run}aspect_ratio": filters.ratio})
    if filters.resolution:
        rows = rows.filter(**{f"{paths.run}resolution": filters.resolution})
    if filters.starred:
        rows = rows.filter(Exists(Favourite.objects.filter(user=user, image_id=OuterRef("pk"))))
    if filters.nsfw == "only":
        rows = rows.filter(nsfw=True)
    elif filters.nsfw == "hide":
        rows = rows.filter(nsfw=False)
    if filters.q:
        rows = prompt_search(rows, filters.q, paths=paths)
    return rows


def _start_of(day: date) -> datetime:
    """Midnight of `day` in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def prompt_search(rows: QuerySet[Row], q: str, *, paths: Paths = IMAGE_PATHS) -> QuerySet[Row]:
    """Rows whose run's prompt matches `q`: full text on PostgreSQL, every word on SQLite."""
    if connections[rows.db].vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        # Exactly the expression of the GIN index in migration 0005, so the index is used.
        matching = (
            Generation.objects.alias(vector=SearchVector("prompt", config="english"))
            .filter(vector=SearchQuery(q, search_type="websearch", config="english"))
            .values("pk")
        )
        # "IN (...) OR FALSE" keeps PostgreSQL from turning the IN into a join: it stays one
        # hashed subplan, read from the GIN index once, and each row of the newest-first walk
        # costs a hash probe. As a join, the planner may walk the images computing to_tsvector()
        # of every prompt: 700 ms at 100,000 images for a word that matches nothing.
        return rows.filter(Q(**{f"{paths.generation_id}__in": matching}) | Q(Value(False)))
    # The embedded default's simpler match: every word, in any case; "-word" excludes.
    prompt = f"{paths.run}prompt__icontains"
    for word in q.replace('"', " ").split():
        if word.startswith("-") and len(word) > 1:
            rows = rows.exclude(**{prompt: word[1:]})
        elif word != "-":
            rows = rows.filter(**{prompt: word})
    return rows


class Author(NamedTuple):
    pk: int
    username: str
    display_name: str | None

    @property
    def name(self) -> str:
        return self.display_name or self.username


def gallery_authors(
    *, user: AbstractBaseUser, project_ids: Sequence[int] | None = None
) -> list[Author]:
    """The people whose images the viewer may filter by: themself and everyone who shares a
    project with them (`project_ids`: the viewer's projects, when already read)."""
    projects = member_project_ids(user) if project_ids is None else list(project_ids)
    sharing = Membership.objects.filter(project_id__in=projects).values("user_id")
    rows = (
        get_user_model()
        .objects.filter(Q(pk=user.pk) | Q(pk__in=sharing))
        .order_by("username")
        .values_list("pk", "username", "profile__display_name")
    )
    return [Author(*row) for row in rows]


class ThumbnailFile(NamedTuple):
    """What a thumbnail's address serves: the WebP thumbnail, or (`is_thumbnail` False) the
    original while the image's thumbnails are not made yet, or cannot be
    (generations/services/thumbnailing.py)."""

    name: str
    content_type: str
    is_thumbnail: bool
    renditions: str  # the image's Renditions state


def thumbnail_for_viewer(*, user: AbstractBaseUser, uuid: str, size: int) -> ThumbnailFile:
    """One query; Http404 unless the viewer may see the image."""
    thumbnail = Thumbnail.objects.filter(image_id=OuterRef("pk"), size=size).values("file")[:1]
    image = get_object_or_404(
        OutputImage.objects.filter(visible_to(user))
        .annotate(thumbnail_file=Subquery(thumbnail))
        .only("pk", "file", "content_type", "renditions"),
        uuid=uuid,
    )
    if image.thumbnail_file:
        return ThumbnailFile(image.thumbnail_file, "image/webp", True, image.renditions)
    return ThumbnailFile(image.file.name, image.content_type, False, image.renditions)


def images_for_viewer(*, user: AbstractBaseUser, uuids: Sequence[UUID]) -> list[OutputImage]:
    """The images, in the order asked for; Http404 unless the viewer may see every one (so
    nobody learns which of the ids exist). Trashed images are included: they stay visible to
    those who could see them."""
    found = {
        image.uuid: image
        for image in OutputImage.objects.filter(visible_to(user), uuid__in=uuids).select_related(
            "generation", "project", "owner__profile"
        )
    }
    if len(found) != len(set(uuids)):
        raise Http404("No such image.")
    return [found[u] for u in uuids]


# The image page counts its place in the gallery exactly up to here, then says "1,000+": a count
# reads every row it counts, and a gallery may hold 100,000 images.
COUNT_CAP = 1000


@dataclass(frozen=True)
class Neighbours:
    """An image's place in the person's gallery (newest first, trash left out)."""

    newer: UUID | None
    older: UUID | None
    position: int | None  # 1 for the newest; None when deeper than COUNT_CAP
    total: int | None  # None when more than COUNT_CAP

    @property
    def counter(self) -> str:
        """ "12 / 48", "12 / 1,000+", or "" when the image is deeper than the count goes."""
        if self.position is None:
            return ""
        return (
            f"{self.position:,} / {self.total:,}"
            if self.total
            else f"{self.position:,} / {COUNT_CAP:,}+"
        )

    @property
    def counter_label(self) -> str:
        if self.position is None:
            return ""
        total = f"{self.total:,}" if self.total else f"more than {COUNT_CAP:,}"
        return f"Image {self.position:,} of {total} in your gallery"


def image_neighbours(*, user: AbstractBaseUser, image: OutputImage) -> Neighbours | None:
    """The images either side of `image` in the gallery's order and where it stands; None for a
    trashed image, which has no place there. At most four queries, each bounded whatever the
    gallery's size: the two neighbours and the count above are keyset lookups that start at the
    image on the (created_at, id) index, and both counts stop at COUNT_CAP (at 100,000 images
    they took 43, 65, 86 and 143 ms as unbounded scans; now under 1 ms each)."""
    if image.deleted_at is not None:
        return None
    gallery = OutputImage.objects.filter(visible_to(user), deleted_at__isnull=True)
    at = image.created_at
    # The plain `created_at` bound beside each row comparison lets PostgreSQL range-scan the
    # index from the image instead of filtering the whole gallery (docs/measured.md).
    newer = gallery.filter(created_at__gte=at).filter(
        Q(created_at__gt=at) | Q(created_at=at, pk__gt=image.pk)
    )
    older = gallery.filter(created_at__lte=at).filter(
        Q(created_at__lt=at) | Q(created_at=at, pk__lt=image.pk)
    )
    newer_id = newer.order_by("created_at", "id").values_list("uuid", flat=True).first()
    older_id = older.order_by("-created_at", "-id").values_list("uuid", flat=True).first()
    above = newer.order_by("created_at", "id").values("pk")[:COUNT_CAP].count()
    position = above + 1 if above < COUNT_CAP else None
    total = None
    if position is not None:  # the newest COUNT_CAP + 1, read from the top of the index
        counted = gallery.order_by("-created_at", "-id").values("pk")[: COUNT_CAP + 1].count()
        total = counted if counted <= COUNT_CAP else None
    return Neighbours(newer=newer_id, older=older_id, position=position, total=total)
