"""Bulk actions on a selection of images: download as a ZIP, move, delete to the trash, restore.

All POST, with `images` (repeated image uuids) and `next` (where to go back to). The image page's
Delete and Restore buttons post one uuid to the same routes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from generations.models import OutputImage
from projects.selectors import memberships_of

from ..selectors import images_for_viewer
from ..services import archives, trash
from ..services.bulk import SelectionRefused, images_move, parse_selection
from ..services.moving import project_for_moving


@login_required
@require_POST
def bulk_zip(request: HttpRequest) -> HttpResponse:
    try:
        images = _selection(request)
    except SelectionRefused as exc:
        return _refused(request, exc)
    response = StreamingHttpResponse(
        archives.archive_download(user=request.user, images=images),
        content_type="application/zip",
    )
    filename = archives.archive_name(timezone.localtime())
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def bulk_move(request: HttpRequest) -> HttpResponse:
    try:
        images = _selection(request)
    except SelectionRefused as exc:
        return _refused(request, exc)
    memberships = {m.project_id: m for m in memberships_of(request.user)}
    target = project_for_moving(memberships=memberships, uuid_text=request.POST.get("project", ""))
    if target is None:
        messages.error(request, "Choose a project to move them to.")
        return _back(request)
    report = images_move(user=request.user, images=images, target=target, memberships=memberships)
    level = messages.SUCCESS if not report.refused else messages.WARNING
    if not report.moved:
        level = messages.ERROR
    messages.add_message(request, level, str(report))
    return _back(request)


@login_required
@require_POST
def bulk_trash(request: HttpRequest) -> HttpResponse:
    try:
        images = _selection(request)
        count = _act(request, trash.images_trash, images)
    except SelectionRefused as exc:
        return _refused(request, exc)
    if count:
        messages.success(
            request,
            f"Moved {_images(count)} to the trash: restorable from the trash for "
            f"{settings.DARKROOM_TRASH_DAYS} days.{trash.trashed_links_note(images=images)}",
        )
    else:
        messages.info(request, "Already in the trash.")
    return _back(request)


@login_required
@require_POST
def bulk_restore(request: HttpRequest) -> HttpResponse:
    try:
        images = _selection(request)
        count = _act(request, trash.images_restore, images)
    except SelectionRefused as exc:
        return _refused(request, exc)
    if count:
        note = trash.restored_links_note(images=images)
        messages.success(request, f"Restored {_images(count)} from the trash.{note}")
    else:
        messages.info(request, "Not in the trash: nothing to restore.")
    return _back(request)


def _selection(request: HttpRequest) -> list[OutputImage]:
    """The selected images (Http404 if any is not visible); SelectionRefused for an empty or too
    large selection."""
    uuids = parse_selection(request.POST.getlist("images"))
    return images_for_viewer(user=request.user, uuids=uuids)


def _refused(request: HttpRequest, exc: SelectionRefused) -> HttpResponseRedirect:
    """A refused selection loses nothing: the person goes back with the reason."""
    messages.error(request, str(exc))
    return _back(request)


def _act(request: HttpRequest, service, images: list[OutputImage]) -> int:
    try:
        return service(user=request.user, images=images)
    except trash.TrashRefused as exc:
        raise PermissionDenied(str(exc)) from exc


def _images(count: int) -> str:
    return f"{count} image{'s' if count != 1 else ''}"


def safe_next(request: HttpRequest) -> str:
    """The posted `next` if it is a URL of this site, else ""."""
    url = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe else ""


def _back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request) or reverse("gallery:gallery"))
