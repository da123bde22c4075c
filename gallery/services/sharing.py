"""Share links: a read-only public link to one image, revocable, with an optional expiry.

Who may share: see rights.may_edit_image. Who may revoke: whoever made the link, the image's
author (while they may still see it), or an owner of its project.

A link works while it is not revoked or expired, its image is not in the trash, and its maker
could still make it (rights.link_is_honoured: an active account, and the rights over the image
that sharing needs). Links that stop working for a reason someone caused are revoked, with the
reason, and recorded in the audit trail:
- by hand; when their maker leaves the project or becomes a viewer there; when the maker's
  account is deactivated (all of their links, everywhere); when the image moves where its maker
  has no rights;
- when the image goes to the trash. Restoring it does not bring them back: whoever may share it
  makes a new link (a restore must not quietly republish an image).
Expired links are recorded by the scheduler (`share_links_expire`).

Every link that does not work answers the same "no longer shared" page (410), the unknown token
included, so the page tells nobody whether a token ever existed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.services import entry, record, record_all
from generations.models import OutputImage, RevokeReason, ShareLink
from generations.rights import link_is_honoured, may_edit_image, memberships_for_images
from hooks.models import Event
from hooks.services import event_emit
from projects.models import Membership
from projects.selectors import membership_for

# The expiries offered, in days (None: never).
EXPIRY_DAYS = (1, 7, 30)
EXPIRE_BATCH = 500


class ShareRefused(Exception):
    """The message is for the person who asked."""


class LinkGone(Exception):
    """The link does not show its image (any more, or never did)."""


def check_share(
    *,
    user: AbstractBaseUser,
    image: OutputImage,
    memberships: dict[int, Membership] | None = None,
) -> None:
    """Raises ShareRefused. `memberships` (project id → the person's membership) spares the
    query when the caller has them."""
    if image.deleted_at is not None:
        # Its links were revoked when it was trashed: a new one would not work either.
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


@transaction.atomic
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
    link = ShareLink.objects.create(
        image=image, created_by=user, expires_at=expires_at, show_prompt=show_prompt
    )
    record(
        Action.SHARE_CREATED,
        actor=user,
        target=link,
        project=image.project,
        after={
            "expires": f"{expires_at:%Y-%m-%d %H:%M}" if expires_at else "never",
            "prompt shown": "yes" if show_prompt else "no",
        },
    )
    _shared_emit(link, image=image, user=user)
    return link


def _shared_emit(link: ShareLink, *, image: OutputImage, user: AbstractBaseUser) -> None:
    """Tell the project's (or the sharer's own) endpoints: the share link is public, so the
    Slack message may show the image itself."""
    prompt = " ".join(image.generation.prompt.split())
    event_emit(
        kind=Event.IMAGE_SHARED,
        project_id=image.project_id,
        person_id=user.pk,
        data={
            "image": {"id": str(image.uuid), "width": image.width, "height": image.height},
            "share_link": {
                "expires_at": link.expires_at.isoformat() if link.expires_at else None,
                "prompt_shown": link.show_prompt,
            },
            "shared_by": user.get_username(),
        },
        text=f"{user.get_username()} shared an image"
        + (f": “{prompt[:80]}”" if link.show_prompt else "."),
        path=reverse("gallery:shared_image", args=[link.token]),
        image_path=reverse("gallery:shared_image_file", args=[link.token]),
    )


@transaction.atomic
def share_revoke(*, user: AbstractBaseUser, link: ShareLink) -> None:
    """Safe to repeat: a link already revoked keeps its first revocation."""
    check_revoke(user=user, link=link)
    links_revoke(
        ShareLink.objects.filter(pk=link.pk), reason=RevokeReason.BY_HAND, actor=user, why=""
    )
    link.refresh_from_db(fields=["revoked_at", "revoked_reason", "revoked_by"])


def links_revoke(
    links: QuerySet[ShareLink],
    *,
    reason: RevokeReason,
    actor: AbstractBaseUser | None,
    why: str,
) -> int:
    """Revoke the live links among `links`, recording each in the audit trail under its image's
    project (so the project's owners see it) with `why`. Returns how many. Each is claimed by a
    conditional UPDATE, so two revocations at once record it once (there are few live links
    per image or person: one UPDATE each is cheap)."""
    candidates = list(
        links.filter(revoked_at__isnull=True).select_related(
            "image__generation", "image__project", "created_by"
        )
    )
    now = timezone.now()
    claimed = [
        link
        for link in candidates
        if ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason, revoked_by=actor
        )
    ]
    label = RevokeReason(reason).label
    record_all(
        entry(
            Action.SHARE_REVOKED,
            actor=actor,
            target=link,
            project=link.image.project,
            reason=f"{label}{': ' + why if why else ''}",
        )
        for link in claimed
    )
    return len(claimed)


def links_revoke_unhonoured(
    links: QuerySet[ShareLink], *, reason: RevokeReason, actor: AbstractBaseUser | None, why: str
) -> int:
    """Revoke those of `links` whose maker may no longer keep them (rights.link_is_honoured),
    after a change of membership, account or place. Two queries to decide, whatever the count."""
    live = list(links.filter(revoked_at__isnull=True).select_related("image", "created_by"))
    if not live:
        return 0
    memberships = {
        (m.user_id, m.project_id): m
        for m in Membership.objects.filter(
            user_id__in={link.created_by_id for link in live},
            project_id__in={link.image.project_id for link in live if link.image.project_id},
        )
    }
    lost = [
        link.pk
        for link in live
        if not link_is_honoured(link, memberships.get((link.created_by_id, link.image.project_id)))
    ]
    if not lost:
        return 0
    return links_revoke(ShareLink.objects.filter(pk__in=lost), reason=reason, actor=actor, why=why)


def links_revoke_for_images(
    *, images: Sequence[OutputImage], reason: RevokeReason, actor: AbstractBaseUser | None, why: str
) -> int:
    return links_revoke(
        ShareLink.objects.filter(image_id__in=[i.pk for i in images]),
        reason=reason,
        actor=actor,
        why=why,
    )


def links_revoke_of_person(*, person: AbstractBaseUser, actor: AbstractBaseUser | None) -> int:
    """Every live link `person` made, to any image: they were deactivated."""
    return links_revoke(
        ShareLink.objects.filter(created_by=person),
        reason=RevokeReason.DEACTIVATED,
        actor=actor,
        why=person.get_username(),
    )


def links_revoke_of_member(
    *, membership: Membership, demoted: bool, actor: AbstractBaseUser | None
) -> int:
    """The links the member made to the project's images that they may no longer keep: they were
    removed from the project (`demoted` False) or made a viewer (True)."""
    return links_revoke_unhonoured(
        ShareLink.objects.filter(created_by=membership.user, image__project=membership.project),
        reason=RevokeReason.MEMBER_DEMOTED if demoted else RevokeReason.MEMBER_REMOVED,
        actor=actor,
        why=f"{membership.user.get_username()} in {membership.project.name}",
    )


def share_links_expire(*, batch_size: int = EXPIRE_BATCH) -> int:
    """The scheduler: record the links that expired since the last run (they stopped working
    at their expiry already; this makes it part of their record and of the trail)."""
    total = 0
    while True:
        with transaction.atomic():
            due = ShareLink.objects.filter(
                revoked_at__isnull=True, expires_at__lte=timezone.now()
            ).order_by("expires_at", "pk")[:batch_size]
            candidates = list(
                due.select_related("image__generation", "image__project", "created_by")
            )
            claimed = []
            for link in candidates:
                # The time it stopped working is its expiry, not this run's.
                if ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
                    revoked_at=link.expires_at, revoked_reason=RevokeReason.EXPIRED
                ):
                    claimed.append(link)
            record_all(
                entry(Action.SHARE_EXPIRED, target=link, project=link.image.project)
                for link in claimed
            )
        total += len(claimed)
        if len(candidates) < batch_size:
            return total


# Reads.


def share_link_working(*, token: uuid.UUID | str) -> ShareLink:
    """The link with this token if it shows its image now, with image and generation loaded;
    LinkGone otherwise (unknown, revoked, expired, trashed image, or a maker who lost the
    right: one answer for all)."""
    link = (
        ShareLink.objects.live()
        .filter(token=token, image__deleted_at__isnull=True)
        .select_related("image__generation", "created_by")
        .first()
    )
    if link is None:
        raise LinkGone
    membership = None
    if link.image.project_id is not None:
        membership = Membership.objects.filter(
            user_id=link.created_by_id, project_id=link.image.project_id
        ).first()
    if not link_is_honoured(link, membership):
        raise LinkGone
    return link


def share_links_live(*, image: OutputImage) -> list[ShareLink]:
    return list(image.share_links.live().select_related("created_by"))
