"""The gallery's reads: one scope (everything the viewer may see), filters, search, and keyset
pagination on (created_at, id) descending.

Never OFFSET and never COUNT: a page is the 48 rows after a cursor, fetched as 49 so that the
49th tells whether there is a next page. The query count of a page is the same at any depth and
with any filter: the star of each tile is an EXISTS in the page's query, thumbnails are one
prefetch, and the tile's prompt and author come through joins.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.utils import timezone

from projects.models import Membership, Project
from projects.selectors import member_project_ids

from .models import Favourite, Generation, OutputImage, Thumbnail
from .selectors import visible_to

PAGE_SIZE = 48
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A cursor longer than this was not made by us; refuse it before decoding anything.
CURSOR_MAX_LENGTH = 64


class InvalidCursor(ValueError):
    """The message is for the person whose link is broken."""


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    pk: int


def encode_cursor(created_at: datetime, pk: int) -> str:
    """An opaque, url-safe position: the last tile's creation time (µs, UTC) and id."""
    micros = (created_at - EPOCH) // timedelta(microseconds=1)
    raw = f"{micros}.{pk}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(value: str) -> Cursor:
    """The position `encode_cursor` wrote; InvalidCursor for anything else."""
    if not value or len(value) > CURSOR_MAX_LENGTH:
        raise InvalidCursor("This page link is broken.")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        micros_text, pk_text = raw.split(".")
        micros, pk = int(micros_text), int(pk_text)
        if micros < 0 or pk <= 0:
            raise ValueError(raw)
        created_at = EPOCH + timedelta(microseconds=micros)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise InvalidCursor("This page link is broken.") from exc
    return Cursor(created_at=created_at, pk=pk)


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
    images: list[OutputImage]
    next_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


TILE_COLUMNS = (
    "uuid",
    "created_at",
    "nsfw",
    "placeholder",
    "deleted_at",
    "owner",
    "project",
    "generation__prompt",
    "owner__username",
    "owner__profile__display_name",
)


def gallery_page(
    *,
    user: AbstractBaseUser,
    filters: Filters,
    after: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> GalleryPage:
    rows = list(gallery_images(user=user, filters=filters, after=after)[: size + 1])
    images = rows[:size]
    if len(rows) <= size:
        return GalleryPage(images=images, next_cursor=None)
    last = images[-1]
    return GalleryPage(images=images, next_cursor=encode_cursor(last.created_at, last.pk))


def gallery_images(
    *, user: AbstractBaseUser, filters: Filters, after: Cursor | None = None
) -> QuerySet[OutputImage]:
    """The images of a gallery view, newest first, with what a tile shows."""
    images = OutputImage.objects.filter(visible_to(user), deleted_at__isnull=not filters.trash)
    images = _narrow(images, user=user, filters=filters)
    if filters.q:
        images = prompt_search(images, filters.q)
    if after is not None:
        images = _after(images, after)
    related = ["generation", "owner__profile"]
    # Only the columns a tile shows: building 48 images with their generations, authors and
    # profiles from every column was a third of a page's server time (bench/gallery.py).
    columns = [*TILE_COLUMNS]
    if filters.trash:
        related.append("deleted_by__profile")
        columns += ["deleted_by__username", "deleted_by__profile__display_name"]
    return (
        images.annotate(
            starred=Exists(Favourite.objects.filter(user=user, image_id=OuterRef("pk")))
        )
        .select_related(*related)
        .only(*columns)
        .prefetch_related(
            Prefetch(
                "thumbnails",
                queryset=Thumbnail.objects.only("image_id", "size", "width", "height").order_by(
                    "size"
                ),
            )
        )
        .order_by("-created_at", "-id")
    )


def _after(images: QuerySet[OutputImage], cursor: Cursor) -> QuerySet[OutputImage]:
    # The plain `created_at <= c` bound beside the row comparison lets PostgreSQL range-scan the
    # (created_at, id) index instead of filtering it from the top (docs/measured.md: 6.4 ms → 1).
    return images.filter(created_at__lte=cursor.created_at).filter(
        Q(created_at__lt=cursor.created_at) | Q(created_at=cursor.created_at, pk__lt=cursor.pk)
    )


def _narrow(
    images: QuerySet[OutputImage], *, user: AbstractBaseUser, filters: Filters
) -> QuerySet[OutputImage]:
    if filters.project is not None:
        images = images.filter(project=filters.project)
    elif filters.personal:
        images = images.filter(project__isnull=True)
    if filters.author_id is not None:
        images = images.filter(owner_id=filters.author_id)
    if filters.date_from:
        images = images.filter(created_at__gte=_start_of(filters.date_from))
    if filters.date_to:
        images = images.filter(created_at__lt=_start_of(filters.date_to + timedelta(days=1)))
    if filters.ratio:
        images = images.filter(generation__aspect_ratio=filters.ratio)
    if filters.resolution:
        images = images.filter(generation__resolution=filters.resolution)
    if filters.starred:
        images = images.filter(Exists(Favourite.objects.filter(user=user, image_id=OuterRef("pk"))))
    if filters.nsfw == "only":
        images = images.filter(nsfw=True)
    elif filters.nsfw == "hide":
        images = images.filter(nsfw=False)
    return images


def _start_of(day: date) -> datetime:
    """Midnight of `day` in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def prompt_search(images: QuerySet[OutputImage], q: str) -> QuerySet[OutputImage]:
    """Images whose prompt matches `q`: full text on PostgreSQL, every word on SQLite."""
    if connections[images.db].vendor == "postgresql":
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
        return images.filter(Q(generation_id__in=matching) | Q(Value(False)))
    # The embedded default's simpler match: every word, in any case; "-word" excludes.
    for word in q.replace('"', " ").split():
        if word.startswith("-") and len(word) > 1:
            images = images.exclude(generation__prompt__icontains=word[1:])
        elif word != "-":
            images = images.filter(generation__prompt__icontains=word)
    return images


def gallery_authors(*, user: AbstractBaseUser) -> list[AbstractBaseUser]:
    """The people whose images the viewer may filter by: themself and everyone who shares a
    project with them."""
    sharing = Membership.objects.filter(project_id__in=member_project_ids(user)).values("user_id")
    return list(
        get_user_model()
        .objects.filter(Q(pk=user.pk) | Q(pk__in=sharing))
        .select_related("profile")
        .order_by("username")
    )
