from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Invitation

STRONG_PASSWORD = "velvet-harbour-lantern-42"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "grace", email="grace@example.com", password="pw-grace-123456", is_staff=True
    )


@pytest.fixture
def make_invitation(staff) -> Callable[..., Invitation]:
    def make(*, email: str = "", expires_in: timedelta = timedelta(days=7)) -> Invitation:
        return Invitation.objects.create(
            created_by=staff, email=email, expires_at=timezone.now() + expires_in
        )

    return make


def signup_data(username: str = "newton", **overrides: str) -> dict[str, str]:
    return {
        "username": username,
        "display_name": "Isaac N.",
        "email": f"{username}@example.com",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
        **overrides,
    }
