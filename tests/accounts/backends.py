"""Test-only authentication backend (config/settings/test.py)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class AxesBackendAllowingClientLogin(AxesStandaloneBackend):
    """django-axes' backend, except that an authenticate() without a request (Django's test
    `Client.login()`) is not refused: it is no login attempt from the outside world."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
