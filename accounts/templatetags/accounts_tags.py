"""`{% load accounts_tags %}` then `{{ some_user|display_name }}` in any app's templates."""

from __future__ import annotations

import math
from datetime import timedelta

from django import template
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from ..selectors import display_name_of

register = template.Library()


@register.filter
def display_name(user: AbstractBaseUser | None) -> str:
    return display_name_of(user)


@register.filter
def minutes(delta: timedelta | None) -> int:
    """A wait, in whole minutes, rounded up (a 30-second wait reads as 1 minute)."""
    return math.ceil(delta.total_seconds() / 60) if delta else 0


@register.simple_tag
def open_signup() -> bool:
    return settings.DARKROOM_OPEN_SIGNUP
