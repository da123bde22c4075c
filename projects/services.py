"""Writes on projects: creating, renaming, archiving, members, roles and invite links."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.services import user_create

from .models import Membership, Project, ProjectInvite, Role


class ProjectError(Exception):
    """A refused change; the message is for the person who asked."""


@transaction.atomic
def project_create(*, user: AbstractBaseUser, name: str) -> Project:
    project = Project.objects.create(name=name.strip(), created_by=user)
    Membership.objects.create(project=project, user=user, role=Role.OWNER)
    return project


def project_rename(*, project: Project, name: str) -> None:
    project.name = name.strip()
    project.save(update_fields=["name"])


def project_set_archived(*, project: Project, archived: bool) -> None:
    project.archived_at = timezone.now() if archived else None
    project.save(update_fields=["archived_at"])


def invite_create(
    *, project: Project, role: str, created_by: AbstractBaseUser, days: int = 7
) -> ProjectInvite:
    return ProjectInvite.objects.create(
        project=project,
        role=role,
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=days),
    )


def invite_revoke(*, invite: ProjectInvite) -> None:
    ProjectInvite.objects.filter(pk=invite.pk, used_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def invite_accept(*, token: str, user: AbstractBaseUser) -> Membership:
    invite = _usable_invite(token)
    existing = Membership.objects.filter(project=invite.project, user=user).first()
    if existing is not None:
        # Already in: the link stays unused for the person it was meant for.
        return existing
    _claim(invite, user)
    return Membership.objects.create(project=invite.project, user=user, role=invite.role)


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
    user = user_create(form_data=form_data)
    ProjectInvite.objects.filter(pk=invite.pk).update(used_by=user)
    return Membership.objects.create(project=invite.project, user=user, role=invite.role)


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
def member_set_role(*, membership: Membership, role: str) -> None:
    if membership.role == Role.OWNER and role != Role.OWNER:
        _refuse_if_last_owner(membership)
    membership.role = role
    membership.save(update_fields=["role"])


@transaction.atomic
def member_remove(*, membership: Membership) -> None:
    if membership.role == Role.OWNER:
        _refuse_if_last_owner(membership)
    membership.delete()


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
