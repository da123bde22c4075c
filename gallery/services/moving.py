"""Moving images and generations into and between projects, and undoing moves out.

An image in a project is the project's. From personal into a project: the author, who may
generate in that project. Out of a project (into another): an owner of the source, or the
image's author while still an editor there (rights.may_move_out), who is also an editor of the
target. Archived projects take nothing in and give nothing out.

Every move is recorded: an ImageMove per image (one `batch` per request) and an audit entry.
The owners of the project an image left may undo the batch (`moves_undo`); share links whose
maker has no rights where the image went are revoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from audit.models import Action
from audit.services import entry, record_all
from config.parsing import parse_uuid
from generations.models import Generation, ImageMove, OutputImage, RevokeReason, ShareLink
from generations.rights import MoveRefused, check_move
from projects.models import Membership, Project

from .sharing import links_revoke_unhonoured

__all__ = [
    "MoveRefused",
    "check_image_move",
    "generation_move",
    "image_move",
    "images_relocate",
    "move_batch_of",
    "moves_out_of",
    "moves_undo",
    "project_for_moving",
]


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
    images_relocate(user=user, images=[image], target=target)


@transaction.atomic
def generation_move(*, user: AbstractBaseUser, generation: Generation, target: Project) -> None:
    """The generation and every image of it that is where the generation is."""
    check_move(user=user, owner_id=generation.owner_id, source=generation.project, target=target)
    images = list(
        generation.images.filter(project=generation.project).select_related("generation", "project")
    )
    images_relocate(user=user, images=images, target=target)
    Generation.objects.filter(pk=generation.pk).update(project=target)


def images_relocate(
    *,
    user: AbstractBaseUser,
    images: Sequence[OutputImage],
    target: Project,
    undoing: dict[int, ImageMove] | None = None,
) -> uuid.UUID:
    """Move images already checked: one UPDATE, an ImageMove and an audit entry each (one
    INSERT each), then revoke the links whose makers have no rights where the images went.
    `undoing`: image id → the move each one undoes. Returns the batch. The images need
    `generation` and `project` loaded; the caller holds the transaction."""
    batch = uuid.uuid4()
    if not images:
        return batch
    now = timezone.now()
    undoing = undoing or {}
    OutputImage.objects.filter(pk__in=[i.pk for i in images]).update(project=target)
    ImageMove.objects.bulk_create(
        ImageMove(
            batch=batch,
            image=image,
            image_uuid=image.uuid,
            from_project=image.project,
            to_project=target,
            moved_by=user,
            moved_at=now,
            undoes=undoing.get(image.pk),
        )
        for image in images
    )
    action = Action.IMAGE_MOVE_UNDONE if undoing else Action.IMAGE_MOVED
    record_all(
        entry(
            action,
            actor=user,
            target=image,
            # The trail of the project the image left (whose owners may undo it); an undo, and
            # a move from personal, go to the trail of the project it joined.
            project=target if undoing else (image.project or target),
            before={"project": image.project.name if image.project else "(personal)"},
            after={"project": target.name},
        )
        for image in images
    )
    links_revoke_unhonoured(
        ShareLink.objects.filter(image_id__in=[i.pk for i in images]),
        reason=RevokeReason.MOVED,
        actor=user,
        why=f"moved to {target.name}",
    )
    for image in images:
        image.project = target
    return batch


# Moves out of a project, as its owners see and undo them.


@dataclass(frozen=True)
class MoveBatch:
    """The images one request took out of a project."""

    batch: uuid.UUID
    moved_by: str
    to_project: str
    moved_at: object
    count: int
    undone: int

    @property
    def undoable(self) -> bool:
        return self.undone < self.count


def moves_out_of(*, project: Project, limit: int = 30) -> list[MoveBatch]:
    """The latest batches of moves that took images out of `project` (undos are not listed:
    an undo is never undone), newest first."""
    return _batches(ImageMove.objects.filter(from_project=project, undoes__isnull=True), limit)


def move_batch_of(*, project: Project, batch: uuid.UUID) -> MoveBatch | None:
    """One batch that took images out of `project`; None if there is no such batch there."""
    found = _batches(
        ImageMove.objects.filter(from_project=project, batch=batch, undoes__isnull=True), 1
    )
    return found[0] if found else None


def _batches(moves, limit: int) -> list[MoveBatch]:
    rows = (
        moves.values("batch", "moved_by__username", "to_project__name")
        .annotate(
            moved_at=Max("moved_at"),
            count=Count("pk"),
            undone=Count("pk", filter=Q(undone_by__isnull=False)),
        )
        .order_by("-moved_at")[:limit]
    )
    return [
        MoveBatch(
            batch=row["batch"],
            moved_by=row["moved_by__username"] or "",
            to_project=row["to_project__name"] or "(a project since deleted)",
            moved_at=row["moved_at"],
            count=row["count"],
            undone=row["undone"],
        )
        for row in rows
    ]


@dataclass
class UndoReport:
    moved_back: int = 0
    refusals: dict[str, int] = field(default_factory=dict)  # reason → how many

    def __str__(self) -> str:
        text = f"Moved {self.moved_back} image{'s' if self.moved_back != 1 else ''} back."
        if self.refusals:
            reasons = "; ".join(f"{reason} ({count})" for reason, count in self.refusals.items())
            text += f" Not moved back: {reasons}."
        return text


@transaction.atomic
def moves_undo(*, user: AbstractBaseUser, project: Project, batch: uuid.UUID) -> UndoReport:
    """An owner of `project` brings back the images one batch took out of it, each one whose
    current place allows: it still exists, is still where that move put it (and not in the
    trash), and was not brought back already. `project` must not be archived; the project the
    images went to may be (archiving must not be a way to keep what was taken). The caller
    checked that `user` owns `project`."""
    if project.is_archived:
        raise MoveRefused(f"{project.name} is archived: restore it first to move images back.")
    # Lock the batch's rows, then read what else may have changed since (a concurrent undo
    # of the same batch, later moves) only once the lock is held.
    moves = list(
        ImageMove.objects.select_for_update()
        .filter(from_project=project, batch=batch, undoes__isnull=True)
        .order_by("pk")
    )
    already = set(ImageMove.objects.filter(undoes__in=moves).values_list("undoes_id", flat=True))
    images = OutputImage.objects.select_related("generation", "project").in_bulk(
        [m.image_id for m in moves if m.image_id]
    )
    report = UndoReport()
    back: list[OutputImage] = []
    undoing: dict[int, ImageMove] = {}

    def refuse(reason: str) -> None:
        report.refusals[reason] = report.refusals.get(reason, 0) + 1

    for move in moves:
        image = images.get(move.image_id)
        if move.pk in already:
            continue
        if image is None:
            refuse("removed for good")
        elif image.deleted_at is not None:
            refuse("in the trash")
        elif image.project_id != move.to_project_id:
            refuse("moved again since")
        else:
            back.append(image)
            undoing[image.pk] = move
    images_relocate(user=user, images=back, target=project, undoing=undoing)
    report.moved_back = len(back)
    return report
