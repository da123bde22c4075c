"""The writes of accounts: profiles, joining (by invitation or open sign-up), deactivation.

Joining takes the cleaned data of `forms.SignupForm` (username, email, display_name, password1);
the form has already run Django's password validators. Whether those details are free is checked
here, after the right to join was claimed (an invitation, in the same transaction), so only a
holder of a valid link learns whether a username exists.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record

from . import selectors
from .models import (
    TOKEN_PREFIX,
    AccessToken,
    Invitation,
    InvitationState,
    Profile,
    TokenScope,
)


class InvitationUnusable(Exception):
    """The invitation was used or expired before this accept could claim it."""

    def __init__(self, state: InvitationState) -> None:
        super().__init__(f"This invitation is {state.label.lower()}.")
        self.state = state


class AccountDetailsTaken(Exception):
    """Another account already has some of the details asked for. Raised only after the right
    to join was claimed, and the claim then rolls back with the transaction. `errors` maps sign-up
    form fields to what to tell the person."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = dict(errors)


def profile_get_or_create(*, user: AbstractBaseUser) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


class DisplayNameRefused(Exception):
    """The display name is someone else's (their display name or username); the message says
    which, for the person."""


def profile_update(*, user: AbstractBaseUser, display_name: str) -> Profile:
    """Set the person's display name, unless it would pass them off as someone else."""
    display_name = display_name.strip()
    if refusal := selectors.display_name_refusal(display_name, user_id=user.pk):
        raise DisplayNameRefused(refusal)
    profile = profile_get_or_create(user=user)
    profile.display_name = display_name
    try:
        with transaction.atomic():
            profile.save(update_fields=["display_name"])
    except IntegrityError as exc:  # someone took it between the check and the save
        raise DisplayNameRefused(selectors.DISPLAY_NAME_TAKEN) from exc
    return profile


@transaction.atomic
def invitation_create(*, created_by: AbstractBaseUser, email: str = "") -> Invitation:
    invitation = Invitation.objects.create(created_by=created_by, email=email.strip())
    record(Action.ACCOUNT_INVITED, actor=created_by, target=invitation)
    return invitation


def invitations_revoke(*, invitation_ids: Iterable[int]) -> int:
    """Expire open invitations now; used ones stay as they are. Returns how many changed."""
    now = timezone.now()
    return Invitation.objects.filter(
        pk__in=list(invitation_ids), used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)


@transaction.atomic
def invitation_accept(*, invitation: Invitation, form_data: Mapping[str, Any]) -> AbstractBaseUser:
    """Create the account the invitation allows, and mark the invitation used by it.

    The invitation is claimed with a conditional UPDATE in the same transaction as the new user,
    so two accepts of one link create one account: the second finds `used_at` set (or waits for
    the first's row lock, then finds it set) and raises InvitationUnusable. `invitation` is
    updated in place (`used_at`, `used_by`), so the caller holds both the user and the
    invitation."""
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation.pk, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not claimed:
        invitation.refresh_from_db()
        raise InvitationUnusable(invitation.state_at(now))
    user = user_create(form_data=form_data, how="through a staff invitation")
    Invitation.objects.filter(pk=invitation.pk).update(used_by=user)
    invitation.used_at, invitation.used_by = now, user
    return user


def user_signup(*, form_data: Mapping[str, Any]) -> AbstractBaseUser:
    """Open sign-up (only when DARKROOM_OPEN_SIGNUP is on; the view checks)."""
    with transaction.atomic():
        return user_create(form_data=form_data, how="by open sign-up")


def user_create(*, form_data: Mapping[str, Any], how: str = "") -> AbstractBaseUser:
    """A new account from a valid SignupForm's data. The caller decides who may sign up, and
    calls this inside the transaction that claimed that right: the details are compared with
    other accounts only here (AccountDetailsTaken). `how` goes into its audit entry."""
    if taken := selectors.signup_details_taken(form_data):
        raise AccountDetailsTaken(taken)
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=form_data["username"],
                email=form_data.get("email") or "",
                password=form_data["password1"],
            )
            Profile.objects.create(
                user=user, display_name=(form_data.get("display_name") or "").strip()
            )
    except IntegrityError as exc:
        # Another sign-up took a detail between the check and the insert.
        taken = selectors.signup_details_taken(form_data)
        raise AccountDetailsTaken(taken or {"username": selectors.USERNAME_TAKEN}) from exc
    record(Action.ACCOUNT_CREATED, actor=user, target=user, reason=how)
    return user


@transaction.atomic
def users_deactivate(*, user_ids: Iterable[int], by: AbstractBaseUser) -> int:
    """Stop people from logging in (their sessions stop working too: Django's auth backend
    refuses inactive users on every request). Nothing of theirs is deleted, but their API tokens
    are revoked, and every share
    link they made, to any image, is revoked (a deactivated person's links never work again:
    rights.link_is_honoured refuses them even before this runs). Never `by` themselves, so an
    admin cannot lock themselves out by mistake."""
    # Below the gallery in the layering; the import stays inside the one function that needs it.
    from gallery.services.sharing import links_revoke_of_person

    people = list(
        get_user_model()
        .objects.select_for_update()
        .filter(pk__in=list(user_ids), is_active=True)
        .exclude(pk=by.pk)
    )
    done = (
        get_user_model()
        .objects.filter(pk__in=[p.pk for p in people], is_active=True)
        .update(is_active=False)
    )
    for person in people:
        record(Action.ACCOUNT_DEACTIVATED, actor=by, target=person)
        links_revoke_of_person(person=person, actor=by)
        tokens_revoke(
            tokens=AccessToken.objects.filter(user=person, revoked_at__isnull=True),
            by=by,
            why="account deactivated",
        )
    return done


# --- Personal access tokens (the JSON API's, api/) ------------------------------------------


class TokenRefused(Exception):
    """The token cannot be made as asked; the message is for the person."""


@dataclass(frozen=True)
class NewToken:
    token: AccessToken
    secret: str  # shown once, never stored


def token_digest(secret: str) -> str:
    """The stored form of a token: SHA-256 is enough for 256 random bits (no guessing to slow)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(
    *,
    user: AbstractBaseUser,
    name: str,
    scopes: Iterable[str],
    project_id: int | None = None,
    expires_at: datetime | None = None,
) -> NewToken:
    """A new token for `user`; the secret is in the result and nowhere else. A project
    restriction must name a project the person belongs to now (their rights are checked again
    on every call anyway)."""
    scopes = sorted(set(scopes))
    if not scopes or not set(scopes) <= set(TokenScope.values):
        raise TokenRefused("Pick at least one scope: read, generate or manage.")
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenRefused("The expiry date has passed: pick one in the future.")
    # Through the user's reverse relation: accounts does not import projects (which imports it).
    if project_id is not None and not user.memberships.filter(project_id=project_id).exists():
        raise TokenRefused("You can only limit a token to a project you belong to.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=user,
        name=name.strip(),
        scopes=scopes,
        project_id=project_id,
        expires_at=expires_at,
        digest=token_digest(secret),
        hint=secret[: len(TOKEN_PREFIX) + 4],
    )
    record(
        Action.TOKEN_CREATED,
        actor=user,
        target=token,
        after={"scopes": scopes, "expires": expires_at.isoformat() if expires_at else None},
    )
    return NewToken(token=token, secret=secret)


@transaction.atomic
def tokens_revoke(
    *, tokens: Iterable[AccessToken], by: AbstractBaseUser | None, why: str = ""
) -> int:
    """Revoke the tokens not revoked yet (one conditional UPDATE each); each revoke is recorded.
    Returns how many were revoked now."""
    now = timezone.now()
    done = 0
    for token in tokens:
        if AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            token.revoked_at = now
            record(Action.TOKEN_REVOKED, actor=by, target=token, reason=why)
            done += 1
    return done


def token_used(*, token: AccessToken, address: str | None) -> None:
    """Note the token's last use; written at most once a minute per token and address, so a
    busy script does not write a row per request."""
    now = timezone.now()
    address = address or ""
    recent = now - timedelta(minutes=1)
    if token.last_used_ip == address and token.last_used_at and token.last_used_at > recent:
        return
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=address)
    token.last_used_at, token.last_used_ip = now, address
