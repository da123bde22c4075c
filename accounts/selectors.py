"""The reads of accounts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .models import Invitation, Profile

OPEN_INVITATIONS_LIMIT = 50
USERNAME_TAKEN = "A user with that username already exists."


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
    return taken
