"""A person's profile, and the single-use links that let new people join the site."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


class Profile(models.Model):
    """What Darkroom knows about a person beyond Django's user. Created on first need
    (`services.profile_get_or_create`), so a user without one is normal."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(
        max_length=80, blank=True, help_text="Shown beside your work; your username if empty."
    )

    class Meta:
        constraints = [
            # Nobody is shown by another person's name (nor by their username: that rule spans
            # two tables, so `selectors.display_name_refusal` keeps it, with this one).
            models.UniqueConstraint(
                Lower("display_name"),
                condition=~models.Q(display_name=""),
                name="one_person_per_display_name",
                violation_error_message="Someone else is already shown by that name.",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


def _default_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.DARKROOM_INVITATION_DAYS)


class InvitationState(models.TextChoices):
    OPEN = "open", "Open"
    USED = "used", "Used"
    EXPIRED = "expired", "Expired"


class Invitation(models.Model):
    """A link that lets one new person create an account, once, before it expires.

    The token is the secret: whoever holds the link may join. `email` is only a note (and the
    sign-up form's initial value)."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    email = models.EmailField(blank=True, help_text="Optional: who the link is meant for.")
    expires_at = models.DateTimeField(default=_default_expiry)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="invitations_used",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation {self.token} ({self.state_at(timezone.now()).label.lower()})"

    def get_absolute_url(self) -> str:
        return reverse("accounts:join", kwargs={"token": self.token})

    def state_at(self, now: datetime) -> InvitationState:
        if self.used_at is not None:
            return InvitationState.USED
        if self.expires_at <= now:
            return InvitationState.EXPIRED
        return InvitationState.OPEN

    @property
    def state(self) -> InvitationState:
        return self.state_at(timezone.now())


class TokenScope(models.TextChoices):
    """What a personal access token may do through the API (api/): each operation names one."""

    READ = "read", "Read: projects, generations, images, references, spend, elements"
    GENERATE = "generate", "Generate: start runs (they cost money)"
    MANAGE = "manage", "Manage: star, move, trash and restore images; add elements by Kling id"


TOKEN_PREFIX = "drk_"


class AccessToken(models.Model):
    """A personal access token for the JSON API (api/). The secret is shown once, when it is
    made (`services.token_create`); only its SHA-256 is kept, and a request's token is found by
    that digest (a unique index: the lookup is the comparison). It acts as its owner with the
    owner's rights at the time of each call, narrowed to `scopes` and, when set, to one project.

    Here and not in api/: deactivating an account revokes its tokens (services.users_deactivate),
    and accounts sits below the apps the API reads from."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=80)
    scopes = models.JSONField(default=list)  # TokenScope values
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="When set, the token sees and acts in this project only.",
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The secret's first characters, so a person can tell their tokens apart.
    hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.CharField(max_length=45, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class WindowCount(models.Model):
    """One fixed window's count under a key (throttling.window_wait), when the cache is
    Django's database cache: its incr() is a read and then a write, so requests at the same
    moment would each read the same count and all get through. Here one upsert counts and
    answers the new count in a single statement. Rows outlive their window by a second and are
    deleted as new windows open."""

    key = models.CharField(max_length=250, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
