"""Logins and lockouts: Django and django-axes announce them only through signals, so these two
receivers are the one place the trail listens instead of being called by a service."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .models import Action
from .services import record


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(Action.LOGIN, actor=user, target=user)


@receiver(user_locked_out, dispatch_uid="audit_lockout")
def _locked_out(
    sender: Any,
    request: HttpRequest | None,
    username: str | None,
    ip_address: str | None,
    **kwargs: Any,
) -> None:
    # Nobody is logged in: the entry names the username tried (and the person, if it is one).
    username = username or ""
    person = get_user_model().objects.filter(username=username).first() if username else None
    record(
        Action.LOCKOUT,
        target=person,
        reason=f"too many failed logins for “{username[:100]}” from {ip_address}",
    )
