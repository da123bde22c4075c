"""The gallery grid for a viewer and a set of filters: the filter form, the page of tiles, the
links to the next page and to newer images. The gallery page shows it, and so does a project's
page (filtered to the project).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import QueryDict
from django.utils import timezone

from config.cursors import encode_cursor
from projects.selectors import memberships_of

from .forms import GalleryFilterForm
from .selectors import (
    PAGE_SIZE,
    Filters,
    gallery_authors,
    gallery_newer,
    gallery_page,
    has_any_image,
)


def gallery_grid(*, user: AbstractBaseUser, data: QueryDict | dict[str, str]) -> dict[str, object]:
    """What the gallery grid needs for `data`'s filters, as `user` sees it."""
    # The viewer's memberships, read once: the switcher, the project filter, the authors, the
    # bulk move's targets and the scope of the page query all come from them.
    memberships = memberships_of(user)
    # Where the poll starts when the page shows no tile yet: what is made from now on.
    poll_since = encode_cursor(timezone.now(), 1)
    project_ids = [m.project_id for m in memberships]
    form = GalleryFilterForm(
        data,
        memberships=memberships,
        authors=lambda: gallery_authors(user=user, project_ids=project_ids),
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
        scope = {"user": user, "filters": filters, "project_ids": project_ids}
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
    # A new member with nothing anywhere sees the first step, not chips for empty views; one
    # empty view among full ones keeps them (they lead to the project's images). Asked only
    # when this page is empty.
    chips = form.chips()
    any_image = bool(page is None or page.images or chips) or has_any_image(
        user=user, project_ids=project_ids
    )
    return {
        "any_image": any_image,
        "form": form,
        "chips": chips,
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
