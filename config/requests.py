"""Request types for views, for the type checker."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """A request past `login_required`: its user is a signed-in person, never anonymous."""

    user: User
