"""The client address of the request being answered, for the entries its services record.

Set by `RequestAddressMiddleware` for the length of a request; empty anywhere else (a Celery
worker, the scheduler, a management command), which is what an entry by Darkroom itself shows.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from config.addresses import client_ip

_address: ContextVar[str] = ContextVar("audit_address", default="")


def current_address() -> str:
    return _address.get()


class RequestAddressMiddleware:
    """Keeps the address as config/addresses.py computes it (the one django-axes counts by:
    REMOTE_ADDR, or the trusted proxy's entry in X-Forwarded-For)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _address.set((client_ip(request) or "")[:45])
        try:
            return self.get_response(request)
        finally:
            _address.reset(token)
