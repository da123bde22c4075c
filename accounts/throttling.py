"""Throttling logins and password-reset mails.

Logins: django-axes counts failures per (username, address) and locks that pair after
AXES_FAILURE_LIMIT. Axes can also count per address or per username alone
(AXES_LOCKOUT_PARAMETERS), but with one limit for every combination, and a guesser who spreads
over usernames or over addresses needs wider limits than a person mistyping their password.
So `LoginThrottle` (AXES_HANDLER) keeps axes' pair limit and adds two of its own over the same
records (axes' AccessAttempt rows, within the same cool-off):

- per address, across usernames: DARKROOM_LOGIN_ADDRESS_FAILURE_LIMIT;
- per username, across addresses: DARKROOM_LOGIN_USERNAME_FAILURE_LIMIT. Anyone who knows a
  username could otherwise keep its owner locked out, so this one does not apply from an
  address the account logged in from successfully in the last KNOWN_ADDRESS_DAYS.

`window_wait` is the one fixed-window counter of the site: the reset mails below and the API's
per-token limits (api/auth.py) count with it. It counts atomically, so a burst of requests at
the same moment lets exactly the limit through: with Redis by SET NX and INCR; with Django's
database cache (no Redis; the tests), whose incr() is a read and then a write, in a table of
its own by one upsert (WindowCount).

Password-reset mails: at most DARKROOM_PASSWORD_RESETS_PER_ADDRESS an hour from one address and
DARKROOM_PASSWORD_RESETS_PER_ACCOUNT an hour to one e-mail address, counted in Django's cache
(settings: the database or Redis, shared by every process; never a per-process memory cache).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from datetime import timedelta

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessLog
from axes.signals import user_locked_out
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from .models import WindowCount

logger = logging.getLogger(__name__)

KNOWN_ADDRESS_DAYS = 30


# --- Logins ---------------------------------------------------------------------------------------


class Lockout:
    """Which limit locked a login (`request.darkroom_lockout`, read by the lockout page)."""

    PAIR = "pair"
    ADDRESS = "address"
    USERNAME = "username"


class LoginThrottle(AxesDatabaseHandler):
    """django-axes' database handler, with the wider limits described above."""

    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            request.darkroom_lockout = Lockout.PAIR
            return True
        if scope := wider_lockout(request, credentials):
            request.darkroom_lockout = scope
            return True
        return False

    def user_login_failed(
        self, sender: object, credentials: dict, request: HttpRequest | None = None, **kwargs
    ) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            if request is not None and not hasattr(request, "darkroom_lockout"):
                request.darkroom_lockout = Lockout.PAIR
            return
        # The failure that reaches a wider limit gets the lockout page at once, as axes does
        # for its own.
        if scope := wider_lockout(request, credentials):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            request.darkroom_lockout = scope
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )


def wider_lockout(request: HttpRequest, credentials: dict | None) -> str | None:
    """Lockout.ADDRESS or Lockout.USERNAME when this attempt is over one of our own limits."""
    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
    address = getattr(request, "axes_ip_address", None)
    if address and _failures(recent.filter(ip_address=address)) >= (
        settings.DARKROOM_LOGIN_ADDRESS_FAILURE_LIMIT
    ):
        return Lockout.ADDRESS
    username = get_client_username(request, credentials)
    if (
        username
        and _failures(recent.filter(username=username))
        >= settings.DARKROOM_LOGIN_USERNAME_FAILURE_LIMIT
        and not _known_address(username, address)
    ):
        return Lockout.USERNAME
    return None


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def _known_address(username: str, address: str | None) -> bool:
    """Whether this account logged in successfully from this address lately (axes' AccessLog)."""
    if not address:
        return False
    since = timezone.now() - timedelta(days=KNOWN_ADDRESS_DAYS)
    return AccessLog.objects.filter(
        username=username, ip_address=address, attempt_time__gte=since
    ).exists()


# --- Password-reset mails -------------------------------------------------------------------------

RESET_WINDOW_SECONDS = 3600


def password_reset_allowed(*, address: str | None, email: str) -> bool:
    """Count a request for a reset mail; False once its address or its account has had its
    hour's share. A request the address limit refuses is not counted against the account, so
    one address cannot use up somebody's resets."""
    if not _within(
        f"pwreset:address:{_digest(address or '-')}",
        settings.DARKROOM_PASSWORD_RESETS_PER_ADDRESS,
    ):
        logger.warning("Password reset mails from %s are over the hourly limit", address)
        return False
    if not _within(
        f"pwreset:account:{_digest(email.strip().casefold())}",
        settings.DARKROOM_PASSWORD_RESETS_PER_ACCOUNT,
    ):
        logger.warning("Password reset mails to one account are over the hourly limit")
        return False
    return True


def _within(key: str, limit: int) -> bool:
    return window_wait(key, limit=limit, window=RESET_WINDOW_SECONDS) is None


def window_wait(key: str, *, limit: int, window: int) -> int | None:
    """Count one more under `key` in the current fixed window of `window` seconds (windows
    start at multiples of it, so every process agrees on them). None while the count is within
    `limit`; else how many seconds until the next window opens (a Retry-After). The key should
    already name what is counted; the window's number is added here."""
    now = time.time()
    key = f"{key}:{int(now // window)}"
    left = window - now % window + 1
    if isinstance(caches["default"], DatabaseCache):
        count = _count_in_table(key, timeout=left)
    else:
        count = _count_in_cache(key, timeout=left)
    return None if count <= limit else max(1, math.ceil(window - now % window))


def _count_in_cache(key: str, *, timeout: float) -> int:
    """One more under `key` by the cache's own atomic operations (Redis: SET NX, INCR)."""
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        count: int = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=timeout)
        return 1
    return count


def _count_in_table(key: str, *, timeout: float) -> int:
    """One more under `key` in WindowCount, by one statement (PostgreSQL and SQLite alike): a
    concurrent request waits on the row and then adds to the count this one left."""
    now = timezone.now()
    table, key_column, count_column, expires_column = (
        connection.ops.quote_name(name)
        for name in (WindowCount._meta.db_table, "key", "count", "expires_at")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key_column}, {count_column}, {expires_column}) "
            f"VALUES (%s, 1, %s) ON CONFLICT ({key_column}) DO UPDATE "
            f"SET {count_column} = {table}.{count_column} + 1 RETURNING {count_column}",
            [key, now + timedelta(seconds=timeout)],
        )
        count: int = cursor.fetchone()[0]
    if count == 1:  # a window opened: forget the ones over
        WindowCount.objects.filter(expires_at__lt=now).delete()
    return count


def _digest(value: str) -> str:
    # Cache keys carry no addresses or e-mail addresses, and no characters a backend refuses.
    return hashlib.sha256(value.encode()).hexdigest()[:32]
