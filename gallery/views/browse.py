"""The gallery page (with its htmx partials) and the star on an image."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from generations.selectors import image_for_viewer

from ..forms import author_choices, option_tags
from ..grid import gallery_grid
from ..selectors import gallery_authors
from ..services.favourites import favourite_set
from .bulk import safe_next

# The htmx swap targets of the gallery page (ids in gallery/_results.html, gallery/_grid.html).
RESULTS_TARGET = "gallery-results"


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    context = gallery_grid(user=request.user, data=request.GET)
    status = 200 if context["form"].is_valid() else 400
    htmx = request.htmx and not request.htmx.history_restore_request
    if not htmx:
        return render(request, "gallery/gallery.html", context, status=status)
    if context["newer"] is not None:
        # The page's poll for images newer than its first tile: nothing new, nothing to swap.
        if not context["newer"]:
            return HttpResponse(status=204)
        return render(request, "gallery/_new.html", context, status=status)
    if request.htmx.target == RESULTS_TARGET:  # the filters changed
        return render(request, "gallery/_results.html", context, status=status)
    # The next page, asked for as the sentinel comes into view: its tiles and a new sentinel.
    return render(request, "gallery/_page.html", context, status=status)


@login_required
@require_GET
def gallery_author_options(request: HttpRequest) -> HttpResponse:
    """The Filters panel's authors, fetched when it opens (the gallery page itself does not read
    them: a query saved on every page)."""
    authors = gallery_authors(user=request.user)
    return HttpResponse(option_tags(author_choices(authors), request.GET.get("author", "")))


@login_required
@require_POST
def image_favourite(request: HttpRequest, uuid: str) -> HttpResponse:
    image = image_for_viewer(user=request.user, uuid=uuid)
    wanted = {"1": True, "0": False}.get(request.POST.get("star", ""))
    starred = favourite_set(user=request.user, image=image, starred=wanted)
    if request.htmx:
        return render(
            request,
            "gallery/_favourite_button.html",
            {"image": image, "starred": starred, "next": request.POST.get("next", "")},
        )
    return redirect(safe_next(request) or reverse("gallery:image_detail", args=[image.uuid]))
