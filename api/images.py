"""/api/v1/images: the gallery's images, through the gallery's own form, selectors and services
(gallery/forms.py's filters, gallery/selectors.py's keyset pages, the favourite, move and trash
services) and its files through config/media.py as the image page serves them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from ninja import Field, Query, Router

from config import media
from gallery.forms import GalleryFilterForm
from gallery.selectors import TileRow, gallery_page, thumbnail_for_viewer
from gallery.services import trash
from gallery.services.favourites import favourite_set
from gallery.services.moving import MoveRefused, project_for_moving
from gallery.services.moving import image_move as move_service
from gallery.views.images import thumbnail_response
from generations.models import OutputImage
from imaging.images import THUMBNAIL_SIZES

from . import access, schemas
from .auth import MANAGE, READ, Caller
from .errors import ApiError
from .filtering import GalleryFilters, filter_form

router = Router(tags=["images"])

ERRORS: dict[int, Any] = {code: schemas.Error for code in (400, 401, 403, 404, 409, 422, 429)}
PAGE_SIZE = 48
PAGE_MAX = 100
FILE_RESPONSES: dict[int, Any] = {
    200: None,
    302: None,
    **{code: schemas.Error for code in (401, 403, 404, 422, 429)},
}
V1 = "/api/v1"


def _caller(request: HttpRequest) -> Caller:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _thumbnails(uuid: UUID, sizes: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
    return [
        {"size": s, "width": w, "height": h, "url": f"{V1}/images/{uuid}/thumbnails/{s}"}
        for s, w, h in sizes
    ]


def _tile(row: TileRow) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "created_at": row.created_at,
        "prompt": row.prompt,
        "author": row.username,
        "nsfw": row.nsfw,
        "starred": row.starred,
        "trashed_at": row.deleted_at,
        "original_url": f"{V1}/images/{row.uuid}/original",
        "thumbnails": _thumbnails(row.uuid, row.thumbnails()),
    }


class ImageFilters(GalleryFilters):
    """The gallery page's filters, under the same names (`cursor` is its `after`)."""

    limit: int = Field(PAGE_SIZE, ge=1, le=PAGE_MAX)
    status: str | None = Field(None, description="`trash`: the trash instead of the gallery.")
    starred: str | None = Field(None, description="`1`: your favourites only.")
    nsfw: str | None = Field(None, description="`only` or `hide`.")


@router.get("/images", response={200: schemas.ImagePage, **ERRORS}, auth=READ)
def images(request: HttpRequest, filters: Query[ImageFilters]) -> dict[str, Any]:
    """The images you may see, newest first, with the gallery's filters and search, a page at a
    time: pass `next_cursor` back as `cursor` (a keyset: the same queries at any depth). A token
    limited to a project sees that project's images only."""
    caller = _caller(request)
    found = filter_form(caller, filters, GalleryFilterForm)
    page = gallery_page(
        user=caller.user,
        filters=found.form.filters(),
        after=found.form.cleaned_data["after"],
        size=filters.limit,
        project_ids=found.project_ids,
    )
    return {"items": [_tile(row) for row in page.images], "next_cursor": page.next_cursor}


def _image(caller: Caller, image: OutputImage) -> dict[str, Any]:
    generation = image.generation
    sizes = [(t.size, t.width, t.height) for t in image.thumbnails.order_by("size")]
    return {
        "uuid": image.uuid,
        "url": reverse("gallery:image_detail", kwargs={"uuid": image.uuid}),
        "generation": generation.uuid,
        "project": image.project.uuid if image.project else None,
        "author": image.owner.get_username(),
        "prompt": generation.prompt,
        "aspect_ratio": generation.aspect_ratio,
        "resolution": generation.resolution,
        **schemas.file_facts(image),
        "starred": image.favourites.filter(user_id=caller.user.pk).exists(),
        "created_at": image.created_at,
        "trashed_at": image.deleted_at,
        "original_url": f"{V1}/images/{image.uuid}/original",
        "thumbnails": _thumbnails(image.uuid, sizes),
    }


@router.get("/images/{uuid}", response={200: schemas.Image, **ERRORS}, auth=READ)
def image(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    """One image you may see (also in the trash): what its page shows."""
    caller = _caller(request)
    return _image(caller, access.image(caller, str(uuid)))


@router.get("/images/{uuid}/original", response=FILE_RESPONSES, auth=READ)
def image_original(request: HttpRequest, uuid: UUID, download: bool = False) -> HttpResponseBase:
    """The original file, as the image page serves it: streamed, or (behind nginx) sent by
    nginx, or (on S3) a 302 to a signed URL valid for minutes. `download=true`: as an
    attachment named darkroom-UUID.EXT."""
    found = access.image(_caller(request), str(uuid))
    return media.file_response(
        found.file.name, found.content_type, download=download, filename=found.download_name
    )


@router.get("/images/{uuid}/thumbnails/{size}", response=FILE_RESPONSES, auth=READ)
def image_thumbnail(request: HttpRequest, uuid: UUID, size: int) -> HttpResponseBase:
    """A WebP thumbnail whose longest side is `size` (256, 512 or 1024), served as the original.

    An image is shown as soon as its original is stored; its thumbnails are made moments later.
    Until then (and for the rare image whose thumbnails cannot be made) this answers with the
    original itself, in its own format, with the header `X-Darkroom-Thumbnail: pending` (or
    `failed`) and `Cache-Control: no-cache`: the address always gives a picture of the image.
    The image's `thumbnails` list names only the sizes that exist."""
    if size not in THUMBNAIL_SIZES:
        raise Http404("No thumbnail of that size.")
    caller = _caller(request)
    access.image(caller, str(uuid))
    return thumbnail_response(thumbnail_for_viewer(user=caller.user, uuid=str(uuid), size=size))


@router.put("/images/{uuid}/star", response={200: schemas.Starred, **ERRORS}, auth=MANAGE)
def image_star(request: HttpRequest, uuid: UUID) -> dict[str, bool]:
    """Add the image to your favourites (again: no change)."""
    caller = _caller(request)
    found = access.image(caller, str(uuid))
    return {"starred": favourite_set(user=caller.user, image=found, starred=True)}


@router.delete("/images/{uuid}/star", response={200: schemas.Starred, **ERRORS}, auth=MANAGE)
def image_unstar(request: HttpRequest, uuid: UUID) -> dict[str, bool]:
    """Take the image out of your favourites (again: no change)."""
    caller = _caller(request)
    found = access.image(caller, str(uuid))
    return {"starred": favourite_set(user=caller.user, image=found, starred=False)}


@router.post("/images/{uuid}/move", response={200: schemas.Image, **ERRORS}, auth=MANAGE)
def image_move(request: HttpRequest, uuid: UUID, payload: schemas.MoveIn) -> dict[str, Any]:
    """Move the image into another project, by the image page's rules: from personal its author
    who may generate there; out of a project its owner (or its author while an editor), who
    edits the target. 409 for an image in the trash."""
    caller = _caller(request)
    found = access.image(caller, str(uuid))
    memberships = {m.project_id: m for m in access.memberships(caller)}
    target = project_for_moving(memberships=memberships, uuid_text=str(payload.project))
    if target is None:
        raise Http404("No such project.")
    if found.deleted_at is not None:
        raise ApiError(409, "It is in the trash: restore it first.", code="trashed")
    try:
        move_service(user=caller.user, image=found, target=target)
    except MoveRefused as exc:
        raise PermissionDenied(str(exc)) from None
    return _image(caller, access.image(caller, str(uuid)))


def _trash_action(request: HttpRequest, uuid: UUID, service: Any) -> dict[str, Any]:
    caller = _caller(request)
    found = access.image(caller, str(uuid))
    try:
        service(user=caller.user, images=[found])
    except trash.TrashRefused as exc:
        raise PermissionDenied(str(exc)) from None
    return _image(caller, access.image(caller, str(uuid)))


@router.post("/images/{uuid}/trash", response={200: schemas.Image, **ERRORS}, auth=MANAGE)
def image_trash(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    """Move the image to the trash (its share links are revoked); restorable for the trash
    period. Its author, or an editor of its project. Already there: no change."""
    return _trash_action(request, uuid, trash.images_trash)


@router.post("/images/{uuid}/restore", response={200: schemas.Image, **ERRORS}, auth=MANAGE)
def image_restore(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    """Bring the image back from the trash (its share links stay revoked). Not there: no
    change."""
    return _trash_action(request, uuid, trash.images_restore)
