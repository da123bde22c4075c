"""How the signed-in person is read on each request."""

from __future__ import annotations

from django.contrib.auth import backends, get_user_model
from django.contrib.auth.models import AbstractBaseUser


class ModelBackend(backends.ModelBackend):
    """Django's, except that the person is read with their profile in the same query: every
    page shows their display name in the top bar (one query fewer per request)."""

    def get_user(self, user_id: object) -> AbstractBaseUser | None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("profile").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
