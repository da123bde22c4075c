"""The gallery page (with its htmx partials) and the star on an image."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from projects.selectors import memberships_of

from . import selectors
from .bulk_views import safe_next
from .forms_gallery import GalleryFilterForm
from .gallery import Filters, gallery_authors, gallery_page
from .services.favourites import favourite_set

# The htmx swap targets of the gallery page (ids in _gallery_results.html, _gallery_grid.html).
RESULTS_TARGET = "gallery-results"


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    context = gallery_context(request, request.GET)
    status = 200 if context["form"].is_valid() else 400
    htmx = request.htmx and not request.htmx.history_restore_request
    if not htmx:
        return render(request, "generations/gallery.html", context, status=status)
    if request.htmx.target == RESULTS_TARGET:  # the filters changed
        return render(request, "generations/_gallery_results.html", context, status=status)
    # The next page, asked for as the sentinel comes into view: its tiles and a new sentinel.
    return render(request, "generations/_gallery_page.html", context, status=status)


def gallery_context(request: HttpRequest, data: QueryDict | dict[str, str]) -> dict[str, object]:
    """What the gallery grid needs for `data`'s filters; also used by a project's page."""
    # The viewer's memberships, read once: the switcher, the project filter, the authors, the
    # bulk move's targets and the scope of the page query all come from them.
    memberships = memberships_of(request.user)
    project_ids = [m.project_id for m in memberships]
    form = GalleryFilterForm(
        data,
        memberships=memberships,
        authors=lambda: gallery_authors(user=request.user, project_ids=project_ids),
    )
    page = None
    next_url = ""
    if form.is_valid():
        filters = form.filters()
        page = gallery_page(
            user=request.user,
            filters=filters,
            after=form.cleaned_data["after"],
            project_ids=project_ids,
        )
        if page.next_cursor:
            next_url = form.url(after=page.next_cursor)
    else:
        filters = Filters()
    return {
        "form": form,
        "chips": form.chips(),
        "clear_url": form.view_url(),
        "filters": filters,
        "page": page,
        "next_url": next_url,
        "memberships": memberships,
        # Bulk moves go into projects where the viewer may put images: editor or owner.
        "move_targets": [m.project for m in memberships if m.can_generate],
        "trash_days": settings.DARKROOM_TRASH_DAYS,
    }


@login_required
@require_POST
def image_favourite(request: HttpRequest, uuid: str) -> HttpResponse:
    image = selectors.image_for_viewer(user=request.user, uuid=uuid)
    wanted = {"1": True, "0": False}.get(request.POST.get("star", ""))
    starred = favourite_set(user=request.user, image=image, starred=wanted)
    if request.htmx:
        return render(
            request,
            "generations/_favourite_button.html",
            {"image": image, "starred": starred, "next": request.POST.get("next", "")},
        )
    return redirect(safe_next(request) or reverse("generations:image_detail", args=[image.uuid]))
