"""Who may act on an image beyond seeing it (seeing is selectors.visible_to), in one place.

An image in a project is the project's: every right over it comes from the person's current
membership and role there, whether they made it or not. Someone removed from the project has
none left; a viewer (also one demoted from editor) only looks and downloads. A personal image
is its author's alone. Whether work may move between projects (check_move) is decided here too:
the generation's page and the gallery both offer the move.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser

from projects.models import Membership, Project, Role
from projects.selectors import membership_for

from .models import OutputImage, ShareLink


def acts_in_project(membership: Membership | None) -> bool:
    """An owner or editor right now (archived or not: archiving freezes what comes in and goes
    out, not who belongs)."""
    return membership is not None and Role(membership.role).can_generate


def may_edit_image(
    user: AbstractBaseUser, image: OutputImage, memberships: dict[int, Membership]
) -> bool:
    """Trash, restore or share it. A personal image: its author. A project image: an owner or
    editor of its project, and in an archived project only the author among them (it is
    frozen). `memberships`: project id → the person's membership, with its project loaded;
    only the image's project is looked up."""
    if image.project_id is None:
        return image.owner_id == user.pk
    membership = memberships.get(image.project_id)
    if not acts_in_project(membership):
        return False
    return image.owner_id == user.pk or not membership.project.is_archived


def may_move_out(user: AbstractBaseUser, owner_id: int, membership: Membership | None) -> bool:
    """Take an image (by `owner_id`) out of the project of `membership` (the mover's): an owner
    of the project, or its author while they are still an editor there."""
    if membership is None:
        return False
    if Role(membership.role).can_manage:
        return True
    return owner_id == user.pk and acts_in_project(membership)


def link_is_honoured(link: ShareLink, membership: Membership | None) -> bool:
    """A share link works only while its maker could still make it: an active account and, for
    a project image, a current owner or editor of the image's project (`membership`: the
    maker's membership there); for a personal image, its author. This holds however the maker
    lost the right (removed, demoted, deactivated, the image moved), also when the change did
    not pass through a service that revokes the link."""
    maker = link.created_by
    if not maker.is_active:
        return False
    image = link.image
    if image.project_id is None:
        return image.owner_id == maker.pk
    return acts_in_project(membership)


def memberships_for_images(
    user: AbstractBaseUser, images: Sequence[OutputImage]
) -> dict[int, Membership]:
    """The person's memberships of the images' projects (one query, none for personal images
    only)."""
    project_ids = {i.project_id for i in images if i.project_id}
    if not project_ids:
        return {}
    return {
        m.project_id: m
        for m in Membership.objects.filter(user=user, project_id__in=project_ids).select_related(
            "project"
        )
    }


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
    """Whether `user` may move work of `owner_id` from `source` (None: personal) into
    `target`; raises MoveRefused. `memberships` (project id → the user's membership) spares a query
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
    if not may_move_out(user, owner_id, source_membership):
        raise MoveRefused(
            f"Images in {source.name} belong to the project: only its owners can move "
            "other people's images out of it."
        )


def move_targets(
    user: AbstractBaseUser,
    *,
    owner_id: int,
    source: Project | None,
    memberships: dict[int, Membership],
) -> list[Project]:
    """The projects `user` could move this work into (an empty list hides the form).
    `memberships`: project id → the person's membership, with its project loaded."""
    targets = []
    for membership in memberships.values():
        try:
            check_move(
                user=user,
                owner_id=owner_id,
                source=source,
                target=membership.project,
                memberships=memberships,
            )
        except MoveRefused:
            continue
        targets.append(membership.project)
    return targets
