"""The gallery page (with its htmx partials) and the star on an image."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from projects.selectors import memberships_of

from . import selectors
from .bulk_views import safe_next
from .forms_gallery import GalleryFilterForm, author_choices, option_tags
from .gallery import PAGE_SIZE, Filters, encode_cursor, gallery_authors, gallery_newer, gallery_page
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
    if context["newer"] is not None:
        # The page's poll for images newer than its first tile: nothing new, nothing to swap.
        if not context["newer"]:
            return HttpResponse(status=204)
        return render(request, "generations/_gallery_new.html", context, status=status)
    if request.htmx.target == RESULTS_TARGET:  # the filters changed
        return render(request, "generations/_gallery_results.html", context, status=status)
    # The next page, asked for as the sentinel comes into view: its tiles and a new sentinel.
    return render(request, "generations/_gallery_page.html", context, status=status)


def gallery_context(request: HttpRequest, data: QueryDict | dict[str, str]) -> dict[str, object]:
    """What the gallery grid needs for `data`'s filters; also used by a project's page."""
    # The viewer's memberships, read once: the switcher, the project filter, the authors, the
    # bulk move's targets and the scope of the page query all come from them.
    memberships = memberships_of(request.user)
    # Where the poll starts when the page shows no tile yet: what is made from now on.
    poll_since = encode_cursor(timezone.now(), 1)
    project_ids = [m.project_id for m in memberships]
    form = GalleryFilterForm(
        data,
        memberships=memberships,
        authors=lambda: gallery_authors(user=request.user, project_ids=project_ids),
    )
    all_authors = data.get("authors") == "all"  # the no-script way to choose one: list them
    if all_authors:
        form.authors  # noqa: B018 (read now)
    page = None
    newer = None
    next_url = ""
    poll_url = ""
    if form.is_valid():
        filters = form.filters()
        scope = {"user": request.user, "filters": filters, "project_ids": project_ids}
        if form.cleaned_data["newer"]:
            newer = gallery_newer(**scope, than=form.cleaned_data["newer"])
        else:
            page = gallery_page(**scope, after=form.cleaned_data["after"])
            if page.next_cursor:
                next_url = form.url(after=page.next_cursor)
            # The first page asks for images newer than its first tile while it is open.
            if not form.cleaned_data["after"] and not filters.trash:
                poll_url = form.url()
    else:
        filters = Filters()
    return {
        "form": form,
        "chips": form.chips(),
        "clear_url": form.view_url(),
        "filters": filters,
        "page": page,
        "newer": newer,
        "next_url": next_url,
        "poll_url": poll_url,
        "poll_since": poll_since,
        "poll_seconds": settings.DARKROOM_GALLERY_POLL_SECONDS,
        "page_size": PAGE_SIZE,
        "memberships": memberships,
        # Bulk moves go into projects where the viewer may put images: editor or owner.
        "move_targets": [m.project for m in memberships if m.can_generate],
        "trash_days": settings.DARKROOM_TRASH_DAYS,
        "all_authors": all_authors,
        "all_authors_url": form.url(authors="all"),
    }


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
