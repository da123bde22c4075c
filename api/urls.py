"""/api/v1/'s URLs: django-ninja's, each answering in the one error shape also where ninja
itself would not (a 405 for a method an operation does not take, a path that names no
operation), so a client never has to read an HTML or plain-text error."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import cast

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, re_path

from .api import api
from .errors import body


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(body(code, message), status=status)


def _one_shape(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def answer(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return _error(404, "not_found", "No such API operation.")
        if response.status_code == 405 and response.get("Content-Type", "").startswith("text/"):
            refused = _error(405, "method_not_allowed", f"{request.method} is not taken here.")
            refused["Allow"] = response["Allow"]
            return refused
        return response

    return answer


def no_such_operation(request: HttpRequest, *args: object) -> HttpResponse:
    return _error(404, "not_found", "No such API operation.")


patterns, app_name, namespace = api.urls
urlpatterns = [
    path(str(pattern.pattern), _one_shape(pattern.callback), name=cast(str, pattern.name))
    for pattern in patterns
    if isinstance(pattern, URLPattern)
]
urlpatterns.append(re_path(r"", no_such_operation))
