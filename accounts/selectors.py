"""The reads of accounts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from .models import AccessToken, Invitation, Profile

OPEN_INVITATIONS_LIMIT = 50
USERNAME_TAKEN = "A user with that username already exists."
EMAIL_TAKEN = "Another account already uses this e-mail address."
DISPLAY_NAME_TAKEN = "Someone else is already shown by that name: choose another display name."
DISPLAY_NAME_IS_A_USERNAME = "That is someone else's username: choose a display name of your own."
USERNAME_IS_A_DISPLAY_NAME = "Someone else is shown by that name: choose another username."


def display_name_of(user: AbstractBaseUser | None) -> str:
    """The name to show for a person: their display name, else their username.

    Reads `user.profile`, so lists of authors should `select_related("<user>__profile")` to
    avoid a query per row (a missing profile is cached as missing by Django too)."""
    if user is None:
        return ""
    if getattr(user, "pk", None) is not None:
        try:
            profile = user.profile
        except Profile.DoesNotExist:
            profile = None
        if profile is not None and profile.display_name:
            return profile.display_name
    return user.get_username()


def profile_of(user: AbstractBaseUser) -> Profile | None:
    return Profile.objects.filter(user=user).first()


def invitation_by_token(token: uuid.UUID) -> Invitation | None:
    return Invitation.objects.filter(token=token).first()


def invitations_open(*, limit: int = OPEN_INVITATIONS_LIMIT) -> list[Invitation]:
    return list(
        Invitation.objects.filter(used_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    )


def signup_details_taken(details: Mapping[str, Any]) -> dict[str, str]:
    """What of a sign-up's details another account already has, as {form field: message}.

    Only for someone who holds the right to join (the services call it after claiming an
    invitation): anyone else could use it to learn who has an account."""
    taken: dict[str, str] = {}
    username = details.get("username") or ""
    if get_user_model().objects.filter(username__iexact=username).exists():
        taken["username"] = USERNAME_TAKEN
    elif _display_names_like(username).exists():
        # With no display name of their own, they would be shown by someone else's.
        taken["username"] = USERNAME_IS_A_DISPLAY_NAME
    if email_in_use(details.get("email") or ""):
        taken["email"] = EMAIL_TAKEN
    if refusal := display_name_refusal(details.get("display_name") or "", user_id=None):
        taken["display_name"] = refusal
    return taken


def display_name_refusal(name: str, *, user_id: int | None) -> str | None:
    """Why the person `user_id` (None: someone not yet signed up) may not be shown as `name`,
    or None: nobody else is shown by it, and it is nobody else's username (both compared
    case-insensitively), so no one can pass for someone else beside their work."""
    name = name.strip()
    if not name:
        return None
    others = _display_names_like(name)
    users = get_user_model().objects.filter(username__iexact=name)
    if user_id is not None:
        others = others.exclude(user_id=user_id)
        users = users.exclude(pk=user_id)
    if others.exists():
        return DISPLAY_NAME_TAKEN
    if users.exists():
        return DISPLAY_NAME_IS_A_USERNAME
    return None


def username_refusal(username: str, *, user_id: int) -> str | None:
    """Why the person `user_id` may not be renamed `username` (by staff, in the admin)."""
    if _display_names_like(username).exclude(user_id=user_id).exists():
        return USERNAME_IS_A_DISPLAY_NAME
    return None


def _display_names_like(name: str):
    """Profiles shown by `name`, compared as the database's unique index compares them."""
    if not name.strip():
        return Profile.objects.none()
    return Profile.objects.alias(shown=Lower("display_name")).filter(
        shown=Lower(Value(name.strip()))
    )


def email_in_use(email: str, *, exclude_user_id: int | None = None) -> bool:
    """Whether an active account (other than `exclude_user_id`) has this e-mail address,
    compared as the database's unique index compares them (lower-cased; see
    accounts/migrations/0002): one person, one active account, one personal budget."""
    if not email:
        return False
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .alias(address=Lower("email"))
        .filter(address=Lower(Value(email)))
    )
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


def tokens_of(user: AbstractBaseUser) -> list[AccessToken]:
    """The person's API tokens, newest first, with the project each is limited to."""
    return list(AccessToken.objects.filter(user=user).select_related("project"))


def token_projects(user: AbstractBaseUser) -> list[tuple[int, str]]:
    """(id, name) of the projects a token may be limited to: the person's, through the user's
    reverse relation (projects imports accounts, not the other way)."""
    return list(
        user.memberships.order_by("project__name", "project_id").values_list(
            "project_id", "project__name"
        )
    )


def token_by_digest(digest: str) -> AccessToken | None:
    return AccessToken.objects.filter(digest=digest).select_related("user", "project").first()


def token_of(user: AbstractBaseUser, uuid: uuid.UUID) -> AccessToken | None:
    """One of the person's own tokens (anyone else's is not found)."""
    return AccessToken.objects.filter(user=user, uuid=uuid).first()
