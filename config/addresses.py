"""The client's address, as every part of Darkroom reads it: login throttling (django-axes'
AXES_CLIENT_IP_CALLABLE, the password-reset limits) and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address logins and reset mails are counted by (AXES_CLIENT_IP_CALLABLE): REMOTE_ADDR,
    unless Darkroom sits behind DARKROOM_TRUSTED_PROXY_COUNT reverse proxies.

    Then the client is the address the outermost trusted proxy appended to X-Forwarded-For:
    the N-th from the right. Entries further left were written by the client and could be
    anything, so they are never used (a guesser could otherwise pick a new address per try)."""
    proxies = settings.DARKROOM_TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
