"""Reference images as the generations use them: kept from a person's upload or from the
gallery, and which of them a viewer may see (their own, and those of generations they may see).

Checking and keeping a picture is the references app's (references/cleaning.py,
references/services.py).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from references.cleaning import MAX_REFERENCES, ReferenceRejected, normalise
from references.models import ReferenceImage
from references.services import reference_store

from .models import Generation, GenerationReference, OutputImage
from .selectors import visible_to


# --- Storing ----------------------------------------------------------------------------------
def reference_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    file: BinaryIO | None = None,
    data: bytes | None = None,
    source_image: OutputImage | None = None,
) -> ReferenceImage:
    """Check, normalise and keep one reference for `owner` (from `file` or `data`).

    The same picture kept twice by one person is one row: the existing one is returned.
    Raises `ReferenceRejected` with a message for the person.
    """
    fp = file if file is not None else io.BytesIO(data or b"")
    image = normalise(fp, name=name)
    return reference_store(
        owner=owner,
        image=image,
        name=name,
        source_image_id=source_image.pk if source_image is not None else None,
    )


def references_from_uploads(
    *, owner: AbstractBaseUser, files: Sequence[UploadedFile], room: int
) -> tuple[list[ReferenceImage], list[str]]:
    """Keep the first `room` of `files` as `owner`'s references; the rest are not even decoded.
    Returns the references and one message per file refused or left over, for the person."""
    references, errors = [], []
    for position, upload in enumerate(files):
        name = (upload.name or "unnamed file")[:100]
        if position >= room:
            errors.append(
                f"“{name}” was not added: a generation takes at most {MAX_REFERENCES} references."
            )
            continue
        try:
            references.append(reference_create(owner=owner, file=upload, name=name))
        except ReferenceRejected as exc:
            errors.append(str(exc))
    return references, errors


# --- Reading ----------------------------------------------------------------------------------
def references_visible_to(user: AbstractBaseUser) -> QuerySet[ReferenceImage]:
    """The references `user` may see: their own, and those used by a generation they may see."""
    used_in_visible = GenerationReference.objects.filter(
        generation__in=Generation.objects.filter(visible_to(user))
    ).values("reference_id")
    return ReferenceImage.objects.filter(Q(owner=user) | Q(pk__in=used_in_visible))


def reference_for_viewer(*, user: AbstractBaseUser, uuid: str) -> ReferenceImage:
    """A reference its owner may see, and anyone who may see a generation that uses it; else 404."""
    return get_object_or_404(references_visible_to(user), uuid=uuid)
