"""`{% fixed_url 'name' %}`: Django's `{% url %}` for URLs whose arguments are constants of the
template (a view's name, a fixed stand-in), reversed once per script prefix.

Django reverses on every render, some 30-40 µs a URL (the resolver, the script prefix and the
language are read from thread-locals each time), and the top bar and the gallery's bar hold
twenty of them: close to a millisecond of a gallery page (bench/gallery.py). Never use it for
arguments that change per object (an image's UUID): those would only fill the cache.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()


@lru_cache(maxsize=256)
def _reversed(prefix: str, name: str, args: tuple[object, ...]) -> str:
    return reverse(name, args=args)


def fixed_reverse(name: str, *args: object) -> str:
    """`reverse(name, args=args)`, remembered."""
    return _reversed(get_script_prefix(), name, args)


@register.simple_tag
def fixed_url(name: str, *args: object) -> str:
    return fixed_reverse(name, *args)
