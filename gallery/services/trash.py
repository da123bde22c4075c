"""The trash: delete (restorable), restore, and the periodic purge that removes for good.

Who may trash or restore an image: rights.may_edit_image (a personal image's author; a current
owner or editor of a project image's project, and in an archived project only the author among
them). Every move in and out is recorded in a TrashRecord, which outlives the image.

Trashed images stay visible to whoever could see them (so they can be found and restored), but
leave galleries and the recent list. Trashing revokes the image's share links, and restoring
does not bring them back (a restore must not quietly republish an image: share it again). After
settings.DARKROOM_TRASH_DAYS the purge deletes the rows, then (after commit) the files. Each
step is also in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from audit.models import Action
from audit.services import entry, record_all
from config.media import delete_files
from generations.models import (
    OutputImage,
    RevokeReason,
    SharedRendition,
    ShareLink,
    Thumbnail,
    TrashAction,
    TrashRecord,
)
from generations.rights import may_edit_image, memberships_for_images

from .sharing import links_revoke_for_images

PURGE_BATCH = 500
PROMPT_START = TrashRecord._meta.get_field("prompt").max_length


class TrashRefused(Exception):
    """The message is for the person who asked."""


def check_trash(*, user: AbstractBaseUser, images: Sequence[OutputImage]) -> None:
    """Raises TrashRefused unless the person may trash (and restore) every one of the images."""
    memberships = memberships_for_images(user, images)
    if not all(may_edit_image(user, image, memberships) for image in images):
        raise TrashRefused(
            "Only an image's author or an editor of its project can delete or restore it."
        )


@transaction.atomic
def images_trash(*, user: AbstractBaseUser, images: Sequence[OutputImage]) -> int:
    """Moves the images to the trash; returns how many moved (already trashed ones don't)."""
    check_trash(user=user, images=images)
    claimed = _claim(images, trashed=False)
    OutputImage.objects.filter(pk__in=[i.pk for i in claimed], deleted_at__isnull=True).update(
        deleted_at=timezone.now(), deleted_by=user
    )
    _record(claimed, TrashAction.TRASHED, actor=user)
    links_revoke_for_images(
        images=claimed, reason=RevokeReason.TRASHED, actor=user, why="moved to the trash"
    )
    return len(claimed)


@transaction.atomic
def images_restore(*, user: AbstractBaseUser, images: Sequence[OutputImage]) -> int:
    """Takes the images out of the trash; returns how many came back."""
    check_trash(user=user, images=images)
    claimed = _claim(images, trashed=True)
    OutputImage.objects.filter(pk__in=[i.pk for i in claimed], deleted_at__isnull=False).update(
        deleted_at=None, deleted_by=None
    )
    _record(claimed, TrashAction.RESTORED, actor=user)
    return len(claimed)


def trashed_links_note(*, images: Sequence[OutputImage]) -> str:
    """What the person who just trashed `images` is told about the share links that trashing
    revoked ("" when none were live): whoever holds one now finds the image gone."""
    count = (
        _revoked_by_trash(images)
        # This trashing, not an earlier one (those links were revoked before `deleted_at`),
        # and links still live then, not ones already past their expiry.
        .filter(image__deleted_at__isnull=False, revoked_at__gte=F("image__deleted_at"))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=F("revoked_at")))
        .count()
    )
    if not count:
        return ""
    if len(images) == 1:
        return f" Its share link{_s(count)} stopped working."
    return f" {count} share link{_s(count)} to {'it' if count == 1 else 'them'} stopped working."


def restored_links_note(*, images: Sequence[OutputImage]) -> str:
    """What the person who restored `images` is told about the links trashing revoked: they
    stay revoked (a restore must not quietly republish an image)."""
    count = _revoked_by_trash(images).count()
    if not count:
        return ""
    return (
        f" {count} share link{_s(count)} revoked when it went to the trash "
        f"{'stays' if count == 1 else 'stay'} revoked: share it again for a new link."
    )


def _revoked_by_trash(images: Sequence[OutputImage]) -> QuerySet[ShareLink]:
    return ShareLink.objects.filter(
        image_id__in=[i.pk for i in images], revoked_reason=RevokeReason.TRASHED
    )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _claim(images: Sequence[OutputImage], *, trashed: bool) -> list[OutputImage]:
    """The images still in the state to leave, locked: a double submit (two requests at once)
    finds them gone the second time, so each move is recorded once. SQLite serialises the
    whole transaction instead (BEGIN IMMEDIATE)."""
    pks = set(
        OutputImage.objects.select_for_update()
        .filter(pk__in=[image.pk for image in images], deleted_at__isnull=not trashed)
        .values_list("pk", flat=True)
    )
    return [image for image in images if image.pk in pks]


AUDIT_ACTIONS = {
    TrashAction.TRASHED: Action.IMAGE_TRASHED,
    TrashAction.RESTORED: Action.IMAGE_RESTORED,
    TrashAction.PURGED: Action.IMAGE_PURGED,
}


def _record(images: Sequence[OutputImage], action: str, *, actor: AbstractBaseUser | None) -> None:
    record_all(
        entry(
            AUDIT_ACTIONS[action],
            actor=actor,
            target=image,
            project=image.project,
            reason="its share links stay revoked" if action == TrashAction.RESTORED else "",
        )
        for image in images
    )
    TrashRecord.objects.bulk_create(
        TrashRecord(
            image=image,
            image_uuid=image.uuid,
            owner_id=image.owner_id,
            project_id=image.project_id,
            action=action,
            actor=actor,
            prompt=image.generation.prompt[:PROMPT_START],
        )
        for image in images
    )


# The purge.


def trash_purge(*, batch_size: int = PURGE_BATCH) -> int:
    """Removes every image trashed more than DARKROOM_TRASH_DAYS ago; returns how many.

    In batches, each its own transaction; files go only after their rows are committed, so a
    failure leaves a row (retried next run) rather than a row without its file. Safe to run
    twice, also at once: rows another run holds are skipped."""
    cutoff = timezone.now() - timedelta(days=settings.DARKROOM_TRASH_DAYS)
    total = 0
    while True:
        purged = _purge_batch(cutoff=cutoff, limit=batch_size)
        total += purged
        if purged < batch_size:
            return total


@transaction.atomic
def _purge_batch(*, cutoff: datetime, limit: int) -> int:
    images = list(
        OutputImage.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(deleted_at__lt=cutoff)
        .select_related("generation", "project")
        .order_by("deleted_at", "pk")[:limit]
    )
    if not images:
        return 0
    pks = [image.pk for image in images]
    names = {image.file.name for image in images}
    names.update(Thumbnail.objects.filter(image_id__in=pks).values_list("file", flat=True))
    # Files a killed thumbnail task was writing (generations/services/thumbnailing.py).
    for pending in (image.renditions_pending_files or [] for image in images):
        names.update(pending)
    names.update(SharedRendition.objects.filter(image_id__in=pks).values_list("file", flat=True))
    _record(images, TrashAction.PURGED, actor=None)
    # Thumbnails, shared renditions, stars and share links cascade.
    OutputImage.objects.filter(pk__in=pks).delete()
    # A file other rows still point at stays (the seeded gallery shares its files).
    names -= set(OutputImage.objects.filter(file__in=names).values_list("file", flat=True))
    names -= set(Thumbnail.objects.filter(file__in=names).values_list("file", flat=True))
    transaction.on_commit(partial(delete_files, sorted(names)))
    return len(images)
