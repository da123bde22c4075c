"""Bearer authentication with personal access tokens (accounts.AccessToken), scopes and the
per-token rate limits.

Every operation names the scope it needs (`TokenAuth("read")`). A missing, unknown, expired or
revoked token, or one whose owner is deactivated, is a 401; a token without the scope a 403; a
token over its requests per minute a 429 with Retry-After (counted by the site's one
fixed-window counter, accounts.throttling.window_wait). The token only says who calls: each
operation then reads with that person's rights of this moment (api/access.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from accounts.models import TOKEN_PREFIX, AccessToken
from accounts.selectors import token_by_digest
from accounts.services import token_digest, token_used
from accounts.throttling import window_wait
from config.addresses import client_ip

from .errors import ApiError, Unauthenticated

# Longer than any token we make: refuse it before hashing anything.
TOKEN_MAX_LENGTH = 100


@dataclass(frozen=True)
class Caller:
    """Who calls (`request.auth`): the token's owner, through the token."""

    user: AbstractBaseUser
    token: AccessToken

    @property
    def project_id(self) -> int | None:
        """The one project the token is limited to, if any."""
        return self.token.project_id


def rate_limited(key: str, *, limit: int, what: str) -> None:
    """Count one more under `key` in this window (DARKROOM_API_RATE_WINDOW seconds, a minute
    but in tests); a 429 with Retry-After once over `limit`."""
    window = settings.DARKROOM_API_RATE_WINDOW
    if (wait := window_wait(key, limit=limit, window=window)) is not None:
        per = "a minute" if window == 60 else f"per {window} s"
        raise ApiError(
            429,
            f"This token is over its {what} ({limit} {per}): try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )


class TokenAuth(HttpBearer):
    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        if not token.startswith(TOKEN_PREFIX) or len(token) > TOKEN_MAX_LENGTH:
            raise Unauthenticated("This is not a Darkroom token.", code="invalid_token")
        found = token_by_digest(token_digest(token))
        if found is None:
            raise Unauthenticated("No such token.", code="invalid_token")
        if found.revoked_at is not None:
            raise Unauthenticated("This token was revoked.", code="token_revoked")
        if not found.usable_at(timezone.now()):
            raise Unauthenticated("This token has expired.", code="token_expired")
        if not found.user.is_active:
            raise Unauthenticated("This token's account is deactivated.", code="invalid_token")
        rate_limited(
            f"api:requests:{found.pk}",
            limit=settings.DARKROOM_API_REQUESTS_PER_MINUTE,
            what="requests",
        )
        if not found.has_scope(self.scope):
            raise ApiError(
                403,
                f"This token does not have the “{self.scope}” scope.",
                code="insufficient_scope",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope" scope="{self.scope}"'
                },
            )
        token_used(token=found, address=client_ip(request))
        return Caller(user=found.user, token=found)


READ = TokenAuth("read")
GENERATE = TokenAuth("generate")
MANAGE = TokenAuth("manage")
