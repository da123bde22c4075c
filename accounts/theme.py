"""The colour theme a browser asked for: "auto" (the system's setting), "light" or "dark".

It lives in a cookie, not on the account, so the login page and the public share pages wear it
too and the server writes `<html data-theme>` before the first paint (no flash of the other
theme). static/js/theme.js writes the same cookie and the localStorage key Django's admin reads.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase

COOKIE = "theme"
THEMES = ("auto", "light", "dark")
DEFAULT = "auto"
# A year; the choice is a preference, not a secret: readable by the page's script (not
# HttpOnly), sent on same-site navigations only.
MAX_AGE = 365 * 24 * 3600


def theme_of(request: HttpRequest) -> str:
    value = request.COOKIES.get(COOKIE, "")
    return value if value in THEMES else DEFAULT


def theme_remember(response: HttpResponseBase, *, theme: str, secure: bool) -> None:
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    response.set_cookie(COOKIE, theme, max_age=MAX_AGE, samesite="Lax", secure=secure)


def theme(request: HttpRequest) -> dict[str, str]:
    """Context processor: `theme` for `<html data-theme>` and the toggle."""
    return {"theme": theme_of(request)}
