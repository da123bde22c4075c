"""Who may act on an image beyond seeing it (seeing is selectors.visible_to)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser

from projects.models import Membership

from .models import OutputImage


def may_edit_image(
    user: AbstractBaseUser, image: OutputImage, memberships: dict[int, Membership]
) -> bool:
    """Trash, restore or share it: its author, or an owner/editor of its project (an archived
    project is frozen: only authors act there). `memberships`: project id → the person's
    membership, with its project loaded; only the image's project is looked up."""
    if image.owner_id == user.pk:
        return True
    membership = memberships.get(image.project_id) if image.project_id else None
    return membership is not None and membership.can_generate


def memberships_for_images(
    user: AbstractBaseUser, images: Sequence[OutputImage]
) -> dict[int, Membership]:
    """The person's memberships of the projects of the images they did not make (one query, none
    when they made them all)."""
    project_ids = {i.project_id for i in images if i.owner_id != user.pk and i.project_id}
    if not project_ids:
        return {}
    return {
        m.project_id: m
        for m in Membership.objects.filter(user=user, project_id__in=project_ids).select_related(
            "project"
        )
    }
