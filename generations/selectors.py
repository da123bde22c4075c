"""Reads, always scoped to what the viewer may see: their own work, and their projects'.

Anything else is simply not found (404), so nobody learns that it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def first_images(*, generations: Sequence[Generation]) -> dict[int, UUID]:
    """Generation id → the uuid of its first untrashed image (one query). Its thumbnail's
    address answers with the original until the thumbnails are made."""
    rows = (
        OutputImage.objects.filter(
            generation__in=[g.pk for g in generations], deleted_at__isnull=True
        )
        .order_by("generation_id", "index")
        .values_list("generation_id", "uuid")
    )
    first: dict[int, UUID] = {}
    for generation_id, image_uuid in rows:
        first.setdefault(generation_id, image_uuid)
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
