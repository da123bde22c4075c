"""Reads, always scoped to what the viewer may see: their own work, and their projects'.

Anything else is simply not found (404), so nobody learns that it exists.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from projects.models import Project
from projects.selectors import member_project_ids

from .models import Generation, OutputImage, Thumbnail

RECENT_LIMIT = 10


def _with_thumbnails(queryset: QuerySet[OutputImage]) -> QuerySet[OutputImage]:
    return queryset.prefetch_related(
        Prefetch("thumbnails", queryset=Thumbnail.objects.order_by("size"))
    )


def _visible(user: AbstractBaseUser) -> Q:
    return Q(owner=user) | Q(project_id__in=member_project_ids(user))


def generations_recent(*, user: AbstractBaseUser, limit: int = RECENT_LIMIT) -> list[Generation]:
    images = _with_thumbnails(OutputImage.objects.order_by("index"))
    return list(
        Generation.objects.filter(owner=user)
        .select_related("project")
        .order_by("-created_at", "-id")
        .prefetch_related(Prefetch("images", queryset=images))[:limit]
    )


def last_project_key(*, user: AbstractBaseUser) -> str:
    """The project of the person's latest generation ("" for personal)."""
    latest = (
        Generation.objects.filter(owner=user)
        .order_by("-created_at", "-id")
        .values_list("project__uuid", flat=True)
        .first()
    )
    return str(latest) if latest else ""


def gallery_images(*, user: AbstractBaseUser) -> QuerySet[OutputImage]:
    """Everything I made, wherever it lives."""
    return _with_thumbnails(
        OutputImage.objects.filter(owner=user).order_by("-created_at", "-id")
    ).select_related("generation")


def project_gallery_images(*, project: Project) -> QuerySet[OutputImage]:
    """Everything in a project, by any member (the caller checked membership)."""
    return _with_thumbnails(
        OutputImage.objects.filter(project=project).order_by("-created_at", "-id")
    ).select_related("generation", "owner__profile")


def generation_for_viewer(*, user: AbstractBaseUser, uuid: str) -> Generation:
    images = _with_thumbnails(
        OutputImage.objects.filter(_visible(user)).order_by("index")
    ).select_related("owner")
    return get_object_or_404(
        Generation.objects.filter(_visible(user))
        .select_related("project", "owner")
        .prefetch_related(Prefetch("images", queryset=images)),
        uuid=uuid,
    )


def image_for_viewer(*, user: AbstractBaseUser, uuid: str) -> OutputImage:
    return get_object_or_404(
        OutputImage.objects.filter(_visible(user)).select_related("generation", "owner", "project"),
        uuid=uuid,
    )


def thumbnail_for_viewer(*, user: AbstractBaseUser, uuid: str, size: int) -> Thumbnail:
    images = OutputImage.objects.filter(_visible(user)).values("pk")
    return get_object_or_404(
        Thumbnail.objects.filter(image_id__in=images), image__uuid=uuid, size=size
    )
