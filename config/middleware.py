"""Site-wide response rules that no single view should have to remember."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What a signed-in person sees is theirs: no browser disk or shared cache may keep it, so it is
# gone once they log out (a shared computer) and never served to someone else (a proxy).
SIGNED_IN_CACHE_CONTROL = "no-store, private"


class SignedInNoStoreMiddleware:
    """Every answer to a signed-in request says `Cache-Control: no-store, private`, whatever the
    view set: pages, htmx partials, redirects. Image files served after the access check keep
    their own `private, immutable` header (a response marked `keeps_cache_control`): they never
    change under a name, only the viewer's browser may keep them, and the gallery would fetch
    every thumbnail again on each visit. Answers to people signed out keep their own headers
    (the public share pages, login), and static files never reach this middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # Read after the view: a login in this request counts, a logout does not.
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not getattr(response, "keeps_cache_control", False)
        ):
            response["Cache-Control"] = SIGNED_IN_CACHE_CONTROL
        return response
