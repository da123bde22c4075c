"""Reference images in the Generate form: uploads as tiles, their files, "use as reference".

Also the Generate view's helpers for references: the no-JS file input, the references a new form
starts with ("generate again", pending "use as reference" picks), and clearing those picks.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config import media
from references.cleaning import MAX_REFERENCES, ReferenceRejected

from .. import selectors
from ..models import OutputImage
from ..references import reference_create, reference_for_viewer, references_from_uploads

# The references picked with "use as reference", waiting for the next generation (uuids).
PENDING_SESSION_KEY = "pending_references"


@login_required
@require_POST
def reference_upload(request: HttpRequest) -> HttpResponse:
    """htmx/fetch: one tile per posted file, a reference or an error naming the file."""
    files = request.FILES.getlist("reference_files")
    if not files:
        return render(
            request,
            "generations/_reference_tiles.html",
            {"tiles": [{"error": "Choose one or more image files."}]},
        )
    references, errors = references_from_uploads(
        owner=request.user, files=files, room=MAX_REFERENCES
    )
    tiles = [{"reference": r} for r in references] + [{"error": e} for e in errors]
    return render(request, "generations/_reference_tiles.html", {"tiles": tiles})


@login_required
@require_GET
def reference_file(request: HttpRequest, uuid: str) -> HttpResponseBase:
    """The reference as sent, or with `?size=preview` its small tile (the full file for a
    reference kept before previews existed)."""
    reference = reference_for_viewer(user=request.user, uuid=uuid)
    if request.GET.get("size") == "preview" and reference.preview:
        return media.file_response(reference.preview.name, "image/webp")
    return media.file_response(reference.file.name, reference.content_type)


@login_required
@require_POST
def reference_unpick(request: HttpRequest, uuid: str) -> HttpResponse:
    """fetch: a tile from "use as reference" was removed; drop it from this session's picks, so
    it does not come back on the next page load. Only this session's own list is touched: a
    uuid that is not in it is not found."""
    if not unpick(request, str(uuid)):
        raise Http404("That reference is not among your picks.")
    return HttpResponse(status=204)


@login_required
@require_POST
def image_use_as_reference(request: HttpRequest, uuid: str) -> HttpResponse:
    """Keep an image the viewer may see as their own reference, for their next generation."""
    image = selectors.image_for_viewer(user=request.user, uuid=uuid)
    pending = list(request.session.get(PENDING_SESSION_KEY, []))
    if len(pending) >= MAX_REFERENCES:
        return _refused(
            request, f"You already picked {MAX_REFERENCES} references, the most Kling takes."
        )
    try:
        with default_storage.open(image.file.name, "rb") as fp:
            reference = reference_create(
                owner=request.user, file=fp, name=image.download_name, source_image=image
            )
    except ReferenceRejected as exc:
        return _refused(request, str(exc), image=image)
    if str(reference.uuid) not in pending:
        pending.append(str(reference.uuid))
        request.session[PENDING_SESSION_KEY] = pending
    if request.htmx:
        # From a run in the studio: the tile joins the form in place.
        tiles = [{"reference": reference}]
        return render(request, "generations/_reference_tiles.html", {"tiles": tiles})
    messages.success(request, "Added as a reference for your next generation.")
    return redirect("generations:generate")


def _refused(request: HttpRequest, message: str, image: OutputImage | None = None) -> HttpResponse:
    if request.htmx:
        return render(request, "generations/_reference_tiles.html", {"tiles": [{"error": message}]})
    messages.error(request, message)
    if image is None:
        return redirect("generations:generate")
    return redirect("gallery:image_detail", uuid=image.uuid)


# --- Helpers of the Generate view -------------------------------------------------------------
def keep_posted_files(request: HttpRequest) -> tuple[QueryDict, list[str]]:
    """The no-JS path: keep each valid file of `reference_files` as a reference and add it to the
    posted `references`, before the form is checked, so another field's error loses nothing;
    and leave out the tiles ticked "Leave out" (the Remove button needs JavaScript), dropping
    them from this session's picks too. Returns the form data and one message per refused file."""
    data = request.POST.copy()
    left_out = set(data.getlist("leave_out_references"))
    for key in left_out:
        unpick(request, key)
    keys = [key for key in data.getlist("references") if key not in left_out]
    # Only as many files as there is room for beside the tiles already picked are decoded.
    references, errors = references_from_uploads(
        owner=request.user,
        files=request.FILES.getlist("reference_files"),
        room=MAX_REFERENCES - len(keys),
    )
    keys.extend(str(reference.uuid) for reference in references)
    data.setlist("references", keys)
    return data, errors


def initial_references(request: HttpRequest, keys: list[str]) -> list[str]:
    """What a new form starts with: `keys` ("generate again": the source's references, which
    the form accepts when the viewer may see them) and then the pending "use as reference"
    picks."""
    result = list(keys)
    for key in request.session.get(PENDING_SESSION_KEY, []):
        if key not in result:
            result.append(key)
    return result


def unpick(request: HttpRequest, key: str) -> bool:
    """Drop `key` from this session's "use as reference" picks. True if it was there."""
    pending = list(request.session.get(PENDING_SESSION_KEY, []))
    if key not in pending:
        return False
    pending.remove(key)
    request.session[PENDING_SESSION_KEY] = pending
    return True


def clear_pending(request: HttpRequest) -> None:
    """A generation was created: the "use as reference" picks went with it."""
    request.session.pop(PENDING_SESSION_KEY, None)
