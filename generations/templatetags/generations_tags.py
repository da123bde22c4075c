from __future__ import annotations

from collections.abc import Iterable

from django import template

from ..models import Generation

register = template.Library()


@register.filter
def any_active(generations: Iterable[Generation]) -> bool:
    return any(generation.is_active for generation in generations)


@register.filter
def seconds(milliseconds: int | None) -> str:
    return "—" if milliseconds is None else f"{milliseconds / 1000:.1f} s"
