"""Acting on many images at once: the selection, and moving it into a project.

A selection is all or nothing: if any image in it is not visible to the viewer the whole request
is a 404, so nobody learns which of the ids exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404

from projects.models import Project
from projects.selectors import member_project_ids

from ..models import OutputImage
from ..selectors import _visible
from .moving import MoveRefused, image_move

# The most images one request may act on: a page of the gallery is 48, "select all" on ten
# loaded pages stays under it, and a ZIP of 500 originals is already gigabytes at 4k.
MAX_SELECTION = 500


class SelectionRefused(Exception):
    """The message is for the person who asked."""


def parse_selection(values: Sequence[str]) -> list[uuid.UUID]:
    """Distinct uuids in the order given; raises SelectionRefused (empty, too many) or Http404
    (something that cannot be an image's id)."""
    uuids: dict[uuid.UUID, None] = {}
    for value in values:
        try:
            uuids[uuid.UUID(value)] = None
        except ValueError as exc:
            raise Http404("No such image.") from exc
    if not uuids:
        raise SelectionRefused("Select at least one image first.")
    if len(uuids) > MAX_SELECTION:
        raise SelectionRefused(
            f"{len(uuids)} images are selected; at most {MAX_SELECTION} can be handled at once. "
            "Select fewer and try again."
        )
    return list(uuids)


def images_selected(*, user: AbstractBaseUser, uuids: Sequence[uuid.UUID]) -> list[OutputImage]:
    """The images, in the order asked for; Http404 unless the viewer may see every one.

    Trashed images are included: they stay visible to those who could see them."""
    found = {
        image.uuid: image
        for image in OutputImage.objects.filter(_visible(user), uuid__in=uuids).select_related(
            "generation", "project", "owner__profile"
        )
    }
    if len(found) != len(set(uuids)):
        raise Http404("No such image.")
    return [found[u] for u in uuids]


def project_for_moving(*, user: AbstractBaseUser, uuid_text: str) -> Project | None:
    """A project the person belongs to (None otherwise: a stranger's project is not named)."""
    try:
        key = uuid.UUID(uuid_text)
    except ValueError:
        return None
    return Project.objects.filter(uuid=key, pk__in=member_project_ids(user)).first()


@dataclass
class MoveReport:
    moved: int = 0
    refusals: dict[str, int] = field(default_factory=dict)  # reason → how many

    @property
    def refused(self) -> int:
        return sum(self.refusals.values())

    def __str__(self) -> str:
        text = f"Moved {self.moved} image{'s' if self.moved != 1 else ''} to the project."
        if self.refusals:
            reasons = "; ".join(
                reason if count == 1 else f"{reason} ({count} images)"
                for reason, count in self.refusals.items()
            )
            text = f"Moved {self.moved}; {self.refused} could not be moved: {reasons}"
        return text


def images_move(
    *, user: AbstractBaseUser, images: Sequence[OutputImage], target: Project
) -> MoveReport:
    """Each image on its own (one refusal does not stop the others), by the same rules as the
    image page's Move."""
    report = MoveReport()
    for image in images:
        try:
            if image.deleted_at is not None:
                raise MoveRefused("It is in the trash: restore it first.")
            image_move(user=user, image=image, target=target)
        except MoveRefused as exc:
            reason = str(exc)
            report.refusals[reason] = report.refusals.get(reason, 0) + 1
        else:
            report.moved += 1
    return report
