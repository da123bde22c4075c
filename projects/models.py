"""Projects: shared galleries with members in roles."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"

    @property
    def can_generate(self) -> bool:
        """Generate into the project, organise (move in and out), share, delete their own."""
        return self in (Role.OWNER, Role.EDITOR)

    @property
    def can_manage(self) -> bool:
        """Members, roles, invitations, name, archive (and, later, the budget)."""
        return self == Role.OWNER


class Project(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=80)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Membership(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=8, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_person")
        ]
        indexes = [models.Index(fields=["user", "project"], name="membership_by_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"

    @property
    def can_generate(self) -> bool:
        return Role(self.role).can_generate and not self.project.is_archived

    @property
    def can_manage(self) -> bool:
        return Role(self.role).can_manage


def default_invite_expiry():
    return timezone.now() + timedelta(days=7)


class ProjectInvite(models.Model):
    """A single-use, expiring link that makes whoever opens it (signed in) a member."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.EDITOR)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=default_invite_expiry)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invite to {self.project} as {self.role}"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def creates_accounts(self) -> bool:
        """Whether a signed-out visitor may create a new account through this link (else it
        adds people who already have one)."""
        return links_create_accounts(self.created_by)


def links_create_accounts(maker: AbstractBaseUser) -> bool:
    """Whether project links made by `maker` let new people create an account: always with open
    sign-up; otherwise only if the maker is (still) active staff, unless staff let every
    owner's link do it (DARKROOM_PROJECT_LINKS_CREATE_ACCOUNTS). Anyone may create a project and
    a link to it, so without this rule closed sign-up would be open to anyone with an account."""
    return (
        settings.DARKROOM_OPEN_SIGNUP
        or settings.DARKROOM_PROJECT_LINKS_CREATE_ACCOUNTS
        or (maker.is_active and maker.is_staff)
    )
