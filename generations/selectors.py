"""Reads, always scoped to what the viewer may see: their own work, and their projects'.

Anything else is simply not found (404), so nobody learns that it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from elements.models import Element, GenerationElement
from projects.models import Membership, Project
from projects.selectors import member_project_ids

from .models import (
    ACTIVE_STATUSES,
    Favourite,
    Generation,
    GenerationReference,
    OutputImage,
    Thumbnail,
)

RECENT_LIMIT = 10


def _with_thumbnails(queryset: QuerySet[OutputImage]) -> QuerySet[OutputImage]:
    return queryset.prefetch_related(
        Prefetch("thumbnails", queryset=Thumbnail.objects.order_by("size"))
    )


def visible_to(user: AbstractBaseUser, *, project_ids: Sequence[int] | None = None) -> Q:
    """What the person may see: their own personal work, and everything in their projects.
    Work in a project is the project's: its author sees it only while a member (for images and
    generations alike). `project_ids`: the person's projects when the caller has read them
    already (a literal list instead of a subquery; the same rows)."""
    projects = member_project_ids(user) if project_ids is None else list(project_ids)
    return Q(owner=user, project__isnull=True) | Q(project_id__in=projects)


def _live_images(user: AbstractBaseUser) -> Prefetch:
    # Trashed images leave the runs (their generation stays: it holds the cost), and so do
    # images the person may no longer see (moved to a project they are not in).
    images = _with_thumbnails(
        OutputImage.objects.filter(visible_to(user), deleted_at__isnull=True).order_by("index")
    )
    return Prefetch("images", queryset=images)


def generations_recent(*, user: AbstractBaseUser, limit: int = RECENT_LIMIT) -> list[Generation]:
    return list(
        Generation.objects.filter(visible_to(user), owner=user)
        .select_related("project")
        .order_by("-created_at", "-id")
        .prefetch_related(_live_images(user))[:limit]
    )


def run_for_viewer(*, user: AbstractBaseUser, uuid: str) -> Generation:
    """One run as the studio shows it: its untrashed images with their thumbnails."""
    return get_object_or_404(
        Generation.objects.filter(visible_to(user))
        .select_related("project")
        .prefetch_related(_live_images(user)),
        uuid=uuid,
    )


def starred_ids(*, user: AbstractBaseUser, generations: Sequence[Generation]) -> frozenset[int]:
    """Which of the (prefetched) images of `generations` the person starred: one query."""
    ids = [image.pk for generation in generations for image in generation.images.all()]
    if not ids:
        return frozenset()
    return frozenset(
        Favourite.objects.filter(user=user, image_id__in=ids).values_list("image_id", flat=True)
    )


def runs_watched(*, user: AbstractBaseUser, uuids: Sequence[UUID]) -> list[Generation]:
    """The person's runs in flight, and those of `uuids` (runs a page saw in flight): one query
    (the status index or the uuid index); only the person's own."""
    return list(
        Generation.objects.filter(owner=user)
        .filter(Q(status__in=ACTIVE_STATUSES) | Q(uuid__in=uuids))
        .only("uuid", "status", "prompt", "num_images", "result_type", "output_urls")
    )


def first_thumbnails(*, generations: Sequence[Generation], size: int) -> dict[int, Thumbnail]:
    """Generation id → the `size` thumbnail of its first untrashed image (one query)."""
    rows = (
        Thumbnail.objects.filter(
            image__generation__in=[g.pk for g in generations],
            image__deleted_at__isnull=True,
            size=size,
        )
        .select_related("image")
        .order_by("image__generation_id", "image__index")
    )
    first: dict[int, Thumbnail] = {}
    for thumbnail in rows:
        first.setdefault(thumbnail.image.generation_id, thumbnail)
    return first


def default_project_key(*, user: AbstractBaseUser, projects: Sequence[Project]) -> str:
    """Where the Generate form starts ("" for personal): the project of the person's latest
    generation, unless they have since joined someone else's project they may generate in
    (through a link, or added by an owner or by staff); then the one joined last, until they
    generate elsewhere. A project they made themselves is not a place they were invited to."""
    latest = (
        Generation.objects.filter(owner=user)
        .order_by("-created_at", "-id")
        .values_list("project__uuid", "created_at")
        .first()
    )
    joined = (
        Membership.objects.filter(user=user, project__in=projects)
        .exclude(project__created_by=user)
        .order_by("-created_at", "-id")
        .values_list("project__uuid", "created_at")
        .first()
    )
    if joined and (latest is None or joined[1] > latest[1]):
        return str(joined[0])
    return str(latest[0]) if latest and latest[0] else ""


def element_of_generation(
    *, user: AbstractBaseUser, generation_uuid: str, element_uuid: str
) -> Element:
    """An element as used by a generation the viewer may see, even when the element's own
    library is not theirs (someone's personal element used in a shared project); else 404."""
    generation = generation_for_viewer(user=user, uuid=generation_uuid)
    link = (
        GenerationElement.objects.filter(generation=generation, element__uuid=element_uuid)
        .select_related("element")
        .first()
    )
    if link is None:
        raise Http404("No such element.")
    return link.element


def generation_for_viewer(*, user: AbstractBaseUser, uuid: str) -> Generation:
    images = _with_thumbnails(
        OutputImage.objects.filter(visible_to(user)).order_by("index")
    ).select_related("owner")
    # Its references and elements are shown on its page: one query each, however many.
    return get_object_or_404(
        Generation.objects.filter(visible_to(user))
        .select_related("project", "owner")
        .prefetch_related(
            Prefetch("images", queryset=images),
            Prefetch("reference_links", GenerationReference.objects.select_related("reference")),
            Prefetch("element_links", GenerationElement.objects.select_related("element")),
        ),
        uuid=uuid,
    )


def image_for_viewer(*, user: AbstractBaseUser, uuid: str) -> OutputImage:
    return get_object_or_404(
        OutputImage.objects.filter(visible_to(user)).select_related(
            "generation", "owner", "project"
        ),
        uuid=uuid,
    )


def thumbnail_for_viewer(*, user: AbstractBaseUser, uuid: str, size: int) -> Thumbnail:
    images = OutputImage.objects.filter(visible_to(user)).values("pk")
    return get_object_or_404(
        Thumbnail.objects.filter(image_id__in=images), image__uuid=uuid, size=size
    )


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
