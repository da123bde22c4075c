"""Reads: what a person may see. Anything not theirs is simply not found."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .models import Generation, OutputImage, Thumbnail

RECENT_LIMIT = 10


def _with_thumbnails(queryset: QuerySet[OutputImage]) -> QuerySet[OutputImage]:
    return queryset.prefetch_related(
        Prefetch("thumbnails", queryset=Thumbnail.objects.order_by("size"))
    )


def generations_recent(*, user: AbstractBaseUser, limit: int = RECENT_LIMIT) -> list[Generation]:
    images = _with_thumbnails(OutputImage.objects.order_by("index"))
    return list(
        Generation.objects.filter(owner=user)
        .order_by("-created_at", "-id")
        .prefetch_related(Prefetch("images", queryset=images))[:limit]
    )


def gallery_images(*, user: AbstractBaseUser) -> QuerySet[OutputImage]:
    return _with_thumbnails(
        OutputImage.objects.filter(owner=user).order_by("-created_at", "-id")
    ).select_related("generation")


def generation_for_viewer(*, user: AbstractBaseUser, uuid: str) -> Generation:
    images = _with_thumbnails(OutputImage.objects.order_by("index"))
    return get_object_or_404(
        Generation.objects.prefetch_related(Prefetch("images", queryset=images)),
        uuid=uuid,
        owner=user,
    )


def image_for_viewer(*, user: AbstractBaseUser, uuid: str) -> OutputImage:
    return get_object_or_404(
        OutputImage.objects.select_related("generation"), uuid=uuid, owner=user
    )


def thumbnail_for_viewer(*, user: AbstractBaseUser, uuid: str, size: int) -> Thumbnail:
    return get_object_or_404(
        Thumbnail.objects.select_related("image"), image__uuid=uuid, image__owner=user, size=size
    )
