"""Share links: a read-only public link to one image, revocable, with an optional expiry.

Who may share: the image's author, or an owner/editor of its project. Who may revoke: whoever
made the link, the image's author, or an owner of its project. A link that is revoked, expired or
unknown is simply not found, the same answer for all three, so tokens cannot be probed.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.shortcuts import get_object_or_404
from django.utils import timezone

from projects.models import Membership
from projects.selectors import membership_for

from ..models import OutputImage, ShareLink
from ..rights import may_edit_image, memberships_for_images

# The expiries offered, in days (None: never).
EXPIRY_DAYS = (1, 7, 30)


class ShareRefused(Exception):
    """The message is for the person who asked."""


def check_share(
    *,
    user: AbstractBaseUser,
    image: OutputImage,
    memberships: dict[int, Membership] | None = None,
) -> None:
    """Raises ShareRefused. `memberships` (project id → the person's membership) spares the
    query when the caller has them."""
    if image.deleted_at is not None:
        # Its links answer 404 while it is in the trash: a new one would not work either.
        raise ShareRefused("This image is in the trash: restore it before sharing it.")
    if memberships is None:
        memberships = memberships_for_images(user, [image])
    if not may_edit_image(user, image, memberships):
        raise ShareRefused("Only its author or an editor of its project can share this image.")


def check_revoke(*, user: AbstractBaseUser, link: ShareLink) -> None:
    if user.pk in (link.created_by_id, link.image.owner_id):
        return
    membership = membership_for(user, link.image.project)
    if membership is None or not membership.can_manage:
        raise ShareRefused(
            "Only whoever made this link, the image's author or an owner of its project "
            "can revoke it."
        )


def share_create(
    *,
    user: AbstractBaseUser,
    image: OutputImage,
    expires_in_days: int | None,
    show_prompt: bool,
) -> ShareLink:
    check_share(user=user, image=image)
    if expires_in_days is not None and expires_in_days not in EXPIRY_DAYS:
        raise ValueError(f"A share link expires after one of {EXPIRY_DAYS} days, or never.")
    expires_at = None
    if expires_in_days is not None:
        expires_at = timezone.now() + timedelta(days=expires_in_days)
    return ShareLink.objects.create(
        image=image, created_by=user, expires_at=expires_at, show_prompt=show_prompt
    )


def share_revoke(*, user: AbstractBaseUser, link: ShareLink) -> None:
    """Safe to repeat: a link already revoked keeps its first revocation time."""
    check_revoke(user=user, link=link)
    now = timezone.now()
    if ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=now):
        link.revoked_at = now


# Reads.


def share_link_live(*, token: uuid.UUID | str) -> ShareLink:
    """The live link with this token, with its image and generation; 404 otherwise. An image in
    the trash is not shown: the same 404 as a revoked link."""
    return get_object_or_404(
        ShareLink.objects.live()
        .filter(image__deleted_at__isnull=True)
        .select_related("image__generation"),
        token=token,
    )


def share_links_live(*, image: OutputImage) -> list[ShareLink]:
    return list(image.share_links.live().select_related("created_by"))
