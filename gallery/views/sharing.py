"""Share links: made and revoked from the image page; the public page shows the image only."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseGone
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config import media
from generations.models import OutputImage
from generations.selectors import image_for_viewer
from projects.models import Membership

from ..metadata import NotStrippable
from ..services import renditions, sharing

logger = logging.getLogger(__name__)

# The shared image may stay in this browser's cache for five minutes at most: a revoked link can
# show a stale copy that long, but no shared (proxy, CDN) cache may keep it, since `public`
# would go on serving the image after its link was revoked.
SHARED_IMAGE_CACHE_CONTROL = "private, max-age=300"


class ShareForm(forms.Form):
    expires_in_days = forms.TypedChoiceField(
        choices=[
            ("", "Never"),
            *((str(d), f"{d} day{'s' if d > 1 else ''}") for d in sharing.EXPIRY_DAYS),
        ],
        coerce=int,
        empty_value=None,
        required=False,
        label="Expires",
    )
    show_prompt = forms.BooleanField(required=False, label="Show the prompt")


def share_panel(
    request: HttpRequest, image: OutputImage, memberships: dict[int, Membership]
) -> dict[str, object] | None:
    """The image page's Share section, or None for a viewer who may neither share nor revoke.
    `memberships`: project id → the viewer's membership."""
    try:
        sharing.check_share(user=request.user, image=image, memberships=memberships)
        can_share = True
    except sharing.ShareRefused:
        can_share = False
    links = []
    for link in sharing.share_links_live(image=image):
        try:
            sharing.check_revoke(user=request.user, link=link)
            revocable = True
        except sharing.ShareRefused:
            revocable = False
        # Someone who may not share sees only the links they may revoke (a token is a secret).
        if can_share or revocable:
            url = request.build_absolute_uri(reverse("gallery:shared_image", args=[link.token]))
            links.append({"link": link, "url": url, "revocable": revocable})
    if not can_share and not links:
        return None
    return {"can_share": can_share, "form": ShareForm(), "links": links}


@login_required
@require_POST
def image_share(request: HttpRequest, uuid: str) -> HttpResponse:
    image = image_for_viewer(user=request.user, uuid=uuid)
    form = ShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose when the link expires: never, or after 1, 7 or 30 days.")
        return redirect("gallery:image_detail", uuid=image.uuid)
    try:
        sharing.share_create(
            user=request.user,
            image=image,
            expires_in_days=form.cleaned_data["expires_in_days"],
            show_prompt=form.cleaned_data["show_prompt"],
        )
    except sharing.ShareRefused as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, "Share link created: anyone with it can see this image.")
    return redirect("gallery:image_detail", uuid=image.uuid)


@login_required
@require_POST
def share_revoke(request: HttpRequest, uuid: str, token: str) -> HttpResponse:
    image = image_for_viewer(user=request.user, uuid=uuid)
    link = get_object_or_404(image.share_links, token=token)
    try:
        sharing.share_revoke(user=request.user, link=link)
    except sharing.ShareRefused as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, "Share link revoked: it no longer shows the image.")
    return redirect("gallery:image_detail", uuid=image.uuid)


# Public: no login. A link that does not show its image (revoked, expired, trashed, a maker who
# lost the right, or a token that never existed) gets the same "no longer shared" page, 410.


@never_cache
@require_GET
def shared_image(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = sharing.share_link_working(token=token)
    except sharing.LinkGone:
        response = render(request, "gallery/share_gone.html", status=410)
        response["Referrer-Policy"] = "no-referrer"
        return response
    image = link.image
    response = render(
        request,
        "gallery/shared_image.html",
        {
            # Only what the page shows: never the author, parameters, cost or ids.
            "token": link.token,
            "width": image.width,
            "height": image.height,
            "prompt": image.generation.prompt if link.show_prompt else "",
        },
    )
    # The token is the whole secret: keep it out of the Referer of anything the page loads.
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def shared_image_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """The shared image without the metadata the provider embedded in it (a prompt in a PNG
    text chunk, EXIF, XMP): its shared rendition, never the original."""
    try:
        link = sharing.share_link_working(token=token)
    except sharing.LinkGone:
        response = HttpResponseGone("This image is no longer shared.", content_type="text/plain")
        response["Cache-Control"] = "no-store"
        return response
    try:
        rendition = renditions.shared_rendition_get(image=link.image)
    except NotStrippable as exc:
        logger.error("Image %s is not served to its share link: %s", link.image.pk, exc)
        raise Http404("This image cannot be shown.") from exc
    response = media.file_response(rendition.file.name, link.image.content_type)
    # Keep a stricter answer (the signed S3 redirect says no-store); relax nothing.
    if "no-store" not in response.get("Cache-Control", ""):
        response["Cache-Control"] = SHARED_IMAGE_CACHE_CONTROL
    response["Referrer-Policy"] = "no-referrer"
    return response
