"""Moving images and generations into and between projects.

From personal into a project: the author, who may generate in that project. Between projects:
an editor (or owner) of both. Archived projects take nothing in and give nothing out.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from config.parsing import parse_uuid
from projects.models import Membership, Project
from projects.selectors import membership_for

from ..models import Generation, OutputImage


class MoveRefused(Exception):
    """The message is for the person who asked."""


def check_move(
    *,
    user: AbstractBaseUser,
    owner_id: int,
    source: Project | None,
    target: Project,
    memberships: dict[int, Membership] | None = None,
) -> None:
    """Raises MoveRefused. `memberships` (project id → the user's membership) spares a query
    per project when many targets are checked at once."""

    def membership(project: Project) -> Membership | None:
        if memberships is not None:
            return memberships.get(project.pk)
        return membership_for(user, project)

    if source is not None and source.pk == target.pk:
        raise MoveRefused(f"It is already in {target.name}.")
    for project in (source, target):
        if project is not None and project.is_archived:
            raise MoveRefused(f"{project.name} is archived: nothing moves in or out.")
    target_membership = membership(target)
    if target_membership is None or not target_membership.can_generate:
        raise MoveRefused(f"You need to be an editor of {target.name} to move images into it.")
    if source is None:
        if owner_id != user.pk:
            raise MoveRefused("Only its author can move a personal image into a project.")
        return
    source_membership = membership(source)
    if source_membership is None or not source_membership.can_generate:
        raise MoveRefused(f"You need to be an editor of {source.name} to move images out of it.")


def check_image_move(
    *,
    user: AbstractBaseUser,
    image: OutputImage,
    target: Project,
    memberships: dict[int, Membership] | None = None,
) -> None:
    """check_move, and a trashed image stays where it is until it is restored."""
    if image.deleted_at is not None:
        raise MoveRefused("It is in the trash: restore it first.")
    check_move(
        user=user,
        owner_id=image.owner_id,
        source=image.project,
        target=target,
        memberships=memberships,
    )


def project_for_moving(*, memberships: dict[int, Membership], uuid_text: str) -> Project | None:
    """The chosen project if the person belongs to it (None otherwise: a stranger's project is
    not named). `memberships`: project id → the person's membership."""
    if (key := parse_uuid(uuid_text)) is None:
        return None
    return next((m.project for m in memberships.values() if m.project.uuid == key), None)


@transaction.atomic
def image_move(*, user: AbstractBaseUser, image: OutputImage, target: Project) -> None:
    check_image_move(user=user, image=image, target=target)
    OutputImage.objects.filter(pk=image.pk).update(project=target)


@transaction.atomic
def generation_move(*, user: AbstractBaseUser, generation: Generation, target: Project) -> None:
    """The generation and every image of it that is where the generation is."""
    check_move(user=user, owner_id=generation.owner_id, source=generation.project, target=target)
    generation.images.filter(project=generation.project).update(project=target)
    Generation.objects.filter(pk=generation.pk).update(project=target)
