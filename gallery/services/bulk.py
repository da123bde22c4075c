"""Acting on many images at once: the selection, and moving it into a project.

A selection is all or nothing: if any image in it is not visible to the viewer the whole request
is a 404, so nobody learns which of the ids exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import Http404

from config.parsing import parse_uuid
from generations.models import OutputImage
from projects.models import Membership, Project

from .moving import MoveRefused, check_image_move, images_relocate

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
        if (key := parse_uuid(value)) is None:
            raise Http404("No such image.")
        uuids[key] = None
    if not uuids:
        raise SelectionRefused("Select at least one image first.")
    if len(uuids) > MAX_SELECTION:
        raise SelectionRefused(
            f"{len(uuids)} images are selected; at most {MAX_SELECTION} can be handled at once. "
            "Select fewer and try again."
        )
    return list(uuids)


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


@transaction.atomic
def images_move(
    *,
    user: AbstractBaseUser,
    images: Sequence[OutputImage],
    target: Project,
    memberships: dict[int, Membership],
) -> MoveReport:
    """Each image on its own (one refusal does not stop the others), by the same rules as the
    image page's Move; the accepted ones move in one UPDATE. `memberships`: project id → the
    person's membership (the images need `generation` and `project` loaded). Every move is
    recorded (moving.images_relocate)."""
    report = MoveReport()
    accepted = []
    for image in images:
        try:
            check_image_move(user=user, image=image, target=target, memberships=memberships)
        except MoveRefused as exc:
            reason = str(exc)
            report.refusals[reason] = report.refusals.get(reason, 0) + 1
        else:
            accepted.append(image)
    images_relocate(user=user, images=accepted, target=target)
    report.moved = len(accepted)
    return report
