"""One image: its page, its files (original and thumbnails), moving it (or its whole generation)
to another project, and deleting or restoring it from a run's tile in the studio."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from config import media
from generations.models import OutputImage
from generations.rights import may_edit_image, move_targets
from generations.selectors import generation_for_viewer, image_for_viewer
from imaging.images import THUMBNAIL_SIZES
from projects.models import Membership
from projects.selectors import memberships_of

from ..selectors import ThumbnailFile, image_neighbours, thumbnail_for_viewer
from ..services import trash
from ..services.moving import MoveRefused, project_for_moving
from ..services.moving import generation_move as generation_move_service
from ..services.moving import image_move as image_move_service
from .bulk import safe_next
from .sharing import share_panel


@login_required
@require_GET
def image_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    image = image_for_viewer(user=request.user, uuid=uuid)
    memberships = _memberships(request)
    trashed = image.deleted_at is not None
    return render(
        request,
        "gallery/image_detail.html",
        {
            "image": image,
            # A trashed image stays where it is until it is restored.
            "move_targets": []
            if trashed
            else move_targets(
                request.user,
                owner_id=image.owner_id,
                source=image.project,
                memberships=memberships,
            ),
            "share": share_panel(request, image, memberships),
            "may_trash": may_edit_image(request.user, image, memberships),
            "next": request.get_full_path(),
            # Previous/next and "12 / 48" through the person's gallery, newest first.
            "neighbours": image_neighbours(user=request.user, image=image),
            "starred": image.favourites.filter(user=request.user).exists(),
            # Without JavaScript, "show" on a flagged image is a link to ?reveal=1.
            "reveal": request.GET.get("reveal") == "1",
        },
    )


@login_required
@require_POST
def image_move(request: HttpRequest, uuid: str) -> HttpResponse:
    image = image_for_viewer(user=request.user, uuid=uuid)
    _move(request, image_move_service, image=image)
    return redirect("gallery:image_detail", uuid=image.uuid)


@login_required
@require_POST
def generation_move(request: HttpRequest, uuid: str) -> HttpResponse:
    """The generation's page has the form; the generation and its images move together."""
    generation = generation_for_viewer(user=request.user, uuid=uuid)
    _move(request, generation_move_service, generation=generation)
    return redirect("generations:generation_detail", uuid=generation.uuid)


def _memberships(request: HttpRequest) -> dict[int, Membership]:
    """Project id → the viewer's membership, with its project."""
    return {m.project_id: m for m in memberships_of(request.user)}


def _move(request: HttpRequest, service, **target_kwargs: object) -> None:
    project = project_for_moving(
        memberships=_memberships(request), uuid_text=request.POST.get("project", "")
    )
    if project is None:
        messages.error(request, "Choose a project to move it to.")
        return
    try:
        service(user=request.user, target=project, **target_kwargs)
    except MoveRefused as exc:
        messages.error(request, str(exc))
        return
    messages.success(request, f"Moved to {project.name}.")


@login_required
@require_GET
def image_original(request: HttpRequest, uuid: str) -> HttpResponseBase:
    image = image_for_viewer(user=request.user, uuid=uuid)
    download = request.GET.get("download") == "1"
    return media.file_response(
        image.file.name, image.content_type, download=download, filename=image.download_name
    )


@login_required
@require_GET
def image_thumbnail(request: HttpRequest, uuid: str, size: int) -> HttpResponseBase:
    if size not in THUMBNAIL_SIZES:
        raise Http404
    return thumbnail_response(thumbnail_for_viewer(user=request.user, uuid=uuid, size=size))


def thumbnail_response(found: ThumbnailFile) -> HttpResponseBase:
    """The thumbnail, or the original in its place until the thumbnails are made: then not to be
    kept under this address (the thumbnail will replace it), and `X-Darkroom-Thumbnail` says
    why (`pending`, or `failed` when they cannot be made)."""
    response = media.file_response(found.name, found.content_type)
    if not found.is_thumbnail:
        response["Cache-Control"] = "private, no-cache"
        response["X-Darkroom-Thumbnail"] = found.renditions
    return response


@login_required
@require_POST
def image_trash(request: HttpRequest, uuid: str) -> HttpResponse:
    """Delete one image of a run; htmx gets its tile back as "Deleted" with Undo."""
    image = image_for_viewer(user=request.user, uuid=uuid)
    _act(request, trash.images_trash, image)
    links_note = trash.trashed_links_note(images=[image])
    if request.htmx:
        return render(
            request,
            "gallery/_run_tile_deleted.html",
            {"image": image, "links_note": links_note},
        )
    messages.success(
        request,
        f"Moved to the trash: restorable from the trash for {settings.DARKROOM_TRASH_DAYS} days."
        + links_note,
    )
    return redirect(safe_next(request) or reverse("generations:generate"))


@login_required
@require_POST
def image_restore(request: HttpRequest, uuid: str) -> HttpResponse:
    """Undo: the image comes back from the trash; htmx gets its tile back."""
    image = image_for_viewer(user=request.user, uuid=uuid)
    _act(request, trash.images_restore, image)
    links_note = trash.restored_links_note(images=[image])
    if request.htmx:
        starred = image.favourites.filter(user=request.user).exists()
        notices = [links_note.strip()] if links_note else None
        context = {"image": image, "starred": starred, "notices": notices}
        return render(request, "gallery/_run_tile_restored.html", context)
    messages.success(request, "Restored from the trash." + links_note)
    return redirect(safe_next(request) or reverse("generations:generate"))


def _act(request: HttpRequest, service, image: OutputImage) -> None:
    try:
        service(user=request.user, images=[image])
    except trash.TrashRefused as exc:
        raise PermissionDenied(str(exc)) from exc
