"""Writes to element libraries. Callers check rights through elements.selectors first."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from imaging.images import process_image
from projects.models import Project

from .models import Creation, Element

PREVIEW_SIZE = 512
# Pixels decoded at most for a preview, against decompression bombs.
PREVIEW_MAX_PIXELS = 40_000_000


class ElementNameTaken(ValueError):
    """Another live element of the same library has this name."""


def preview_from_upload(fp: BinaryIO) -> bytes:
    """A ≤512 px WebP of the uploaded picture, upright, with no metadata (no EXIF, no GPS).

    Raises imaging.images.NotAnImage (with a message for the person) for anything that is
    not a complete PNG, JPEG or WebP, or is too large to decode."""
    processed = process_image(fp, max_pixels=PREVIEW_MAX_PIXELS)
    return next(t.data for t in processed.thumbnails if t.size == PREVIEW_SIZE)


def _library_of(element: Element) -> dict[str, object]:
    if element.project_id is not None:
        return {"project_id": element.project_id}
    return {"owner_id": element.owner_id}


def check_name_free(element: Element) -> None:
    """Raise ElementNameTaken if another live element of its library has its name."""
    taken = (
        Element.objects.live()
        .filter(**_library_of(element), name__iexact=element.name)
        .exclude(pk=element.pk)
        .exists()
    )
    if taken:
        raise ElementNameTaken(
            f"This library already has an element called “{element.name}”: "
            "names must differ so the prompt can tell them apart."
        )


def _save(element: Element, preview: bytes | None) -> Element:
    """Save the row (and a new preview), refusing a name taken in the same library.

    The database constraint settles a race between two saves; old files go after commit."""
    old_preview = element.preview.name if element.pk else ""
    if element.archived_at is None:
        check_name_free(element)
    if preview is not None:
        element.preview.save(f"{uuid.uuid4().hex}.webp", ContentFile(preview), save=False)
    try:
        with transaction.atomic():
            element.save()
    except IntegrityError as exc:
        if preview is not None:
            default_storage.delete(element.preview.name)
        raise ElementNameTaken(
            f"This library already has an element called “{element.name}”."
        ) from exc
    if preview is not None and old_preview:
        transaction.on_commit(lambda: default_storage.delete(old_preview))
    return element


def element_create(
    *,
    created_by: AbstractBaseUser,
    project: Project | None,
    name: str,
    kling_element_id: str,
    note: str = "",
    preview: bytes | None = None,
    creation: str = Creation.NONE,
    creation_inputs: dict[str, object] | None = None,
    price: Decimal | None = None,
) -> Element:
    """An element in `project`'s library, or in `created_by`'s own when `project` is None.

    `creation`, `creation_inputs` and `price` are for elements made on Kling
    (elements.creation)."""
    element = Element(
        owner=None if project else created_by,
        project=project,
        created_by=created_by,
        name=name,
        kling_element_id=kling_element_id,
        note=note,
        creation=creation,
        creation_inputs=creation_inputs or {},
        price=price,
    )
    return _save(element, preview)


def element_update(
    *,
    element: Element,
    name: str,
    kling_element_id: str,
    note: str,
    preview: bytes | None = None,
) -> Element:
    """Change an element; a new preview replaces the old one (kept when `preview` is None)."""
    element.name = name
    element.kling_element_id = kling_element_id
    element.note = note
    if element.creation == Creation.FAILED and kling_element_id:
        # Its creation on Kling failed, and the person entered an id by hand instead.
        element.creation, element.creation_error = Creation.NONE, ""
    return _save(element, preview)


def element_set_archived(*, element: Element, archived: bool) -> Element:
    """Archive (hidden from the picker, kept for the generations that used it) or bring back.

    Bringing one back whose name another live element took since raises ElementNameTaken."""
    if archived == element.is_archived:
        return element
    element.archived_at = timezone.now() if archived else None
    return _save(element, None)
