"""Writes on projects: creating, renaming, archiving, members, roles and invite links.

Each is recorded in the audit trail. Someone who leaves a project or becomes a viewer there
loses every right over its images at once (generations/rights.py); the share links they made to
the project's images are revoked here, with the reason, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.services import user_create
from audit.models import Action
from audit.services import record
from gallery.services.sharing import links_revoke_of_member

from .models import Membership, Project, ProjectInvite, Role


class ProjectError(Exception):
    """A refused change; the message is for the person who asked."""


@transaction.atomic
def project_create(*, user: AbstractBaseUser, name: str) -> Project:
    project = Project.objects.create(name=name.strip(), created_by=user)
    Membership.objects.create(project=project, user=user, role=Role.OWNER)
    record(Action.PROJECT_CREATED, actor=user, target=project, project=project)
    return project


@transaction.atomic
def project_rename(*, project: Project, name: str, by: AbstractBaseUser | None = None) -> None:
    before = project.name
    project.name = name.strip()
    project.save(update_fields=["name"])
    if project.name != before:
        record(
            Action.PROJECT_RENAMED,
            actor=by,
            target=project,
            project=project,
            before={"name": before},
            after={"name": project.name},
        )


@transaction.atomic
def project_set_archived(
    *, project: Project, archived: bool, by: AbstractBaseUser | None = None
) -> None:
    was_archived = project.is_archived
    project.archived_at = timezone.now() if archived else None
    project.save(update_fields=["archived_at"])
    if archived != was_archived:
        action = Action.PROJECT_ARCHIVED if archived else Action.PROJECT_UNARCHIVED
        record(action, actor=by, target=project, project=project)


@transaction.atomic
def invite_create(
    *, project: Project, role: str, created_by: AbstractBaseUser, days: int = 7
) -> ProjectInvite:
    invite = ProjectInvite.objects.create(
        project=project,
        role=role,
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=days),
    )
    record(
        Action.MEMBER_INVITED,
        actor=created_by,
        target=invite,
        project=project,
        after={"role": role, "valid for": f"{days} days"},
    )
    return invite


@transaction.atomic
def invite_revoke(*, invite: ProjectInvite, by: AbstractBaseUser | None = None) -> None:
    if ProjectInvite.objects.filter(
        pk=invite.pk, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now()):
        record(Action.MEMBER_INVITE_WITHDRAWN, actor=by, target=invite, project=invite.project)


@transaction.atomic
def invite_accept(*, token: str, user: AbstractBaseUser) -> Membership:
    invite = _usable_invite(token)
    existing = Membership.objects.filter(project=invite.project, user=user).first()
    if existing is not None:
        # Already in: the link stays unused for the person it was meant for.
        return existing
    _claim(invite, user)
    return _join(invite, user)


@transaction.atomic
def invite_accept_new_account(*, token: str, form_data: Mapping[str, Any]) -> Membership:
    """A new person joins through a project's link: the account and the membership come
    together, or neither. The link is claimed first, so only someone whose claim succeeded
    learns that a username is taken (`AccountDetailsTaken`), and the claim then rolls back: the
    link stays unused."""
    invite = _usable_invite(token)
    if not invite.creates_accounts:
        raise ProjectError(
            "This link adds people who already have an account: log in, then open it again."
        )
    _claim(invite, None)
    user = user_create(form_data=form_data, how=f"through an invitation to {invite.project.name}")
    ProjectInvite.objects.filter(pk=invite.pk).update(used_by=user)
    return _join(invite, user)


def _join(invite: ProjectInvite, user: AbstractBaseUser) -> Membership:
    membership = Membership.objects.create(project=invite.project, user=user, role=invite.role)
    record(
        Action.MEMBER_JOINED,
        actor=user,
        target=user,
        project=invite.project,
        after={"role": invite.role},
        reason=f"through an invitation link made by {invite.created_by.get_username()}",
    )
    return membership


def _usable_invite(token: str) -> ProjectInvite:
    invite = (
        ProjectInvite.objects.select_related("project", "created_by").filter(token=token).first()
    )
    if invite is None or not invite.is_usable:
        raise ProjectError("This invitation link has been used, has expired or was withdrawn.")
    return invite


def _claim(invite: ProjectInvite, user: AbstractBaseUser | None) -> None:
    now = timezone.now()
    claimed = ProjectInvite.objects.filter(
        pk=invite.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(used_at=now, used_by=user)
    if not claimed:
        raise ProjectError("This invitation link has just been used by someone else.")


@transaction.atomic
def member_set_role(
    *, membership: Membership, role: str, by: AbstractBaseUser | None = None
) -> None:
    """A new role. Becoming a viewer ends every right over the project's images: the share
    links the person made to them are revoked."""
    if membership.role == Role.OWNER and role != Role.OWNER:
        _refuse_if_last_owner(membership)
    before = membership.role
    if role == before:
        return
    membership.role = role
    membership.save(update_fields=["role"])
    record(
        Action.MEMBER_ROLE_CHANGED,
        actor=by,
        target=membership.user,
        project=membership.project,
        before={"role": before},
        after={"role": role},
    )
    if not Role(role).can_generate:
        links_revoke_of_member(membership=membership, demoted=True, actor=by)


@transaction.atomic
def member_remove(*, membership: Membership, by: AbstractBaseUser | None = None) -> None:
    """Out of the project: no right over its images is left (their own included), and the
    share links they made to its images are revoked. Their images stay in the project."""
    if membership.role == Role.OWNER:
        _refuse_if_last_owner(membership)
    membership.delete()
    record(
        Action.MEMBER_REMOVED,
        actor=by,
        target=membership.user,
        project=membership.project,
        before={"role": membership.role},
    )
    links_revoke_of_member(membership=membership, demoted=False, actor=by)


def _refuse_if_last_owner(membership: Membership) -> None:
    # Lock the project's owner rows so two owners demoting each other at once cannot both win.
    owners = list(
        Membership.objects.select_for_update()
        .filter(project_id=membership.project_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    if owners == [membership.pk]:
        raise ProjectError(
            "A project always keeps at least one owner: make someone else owner first."
        )
