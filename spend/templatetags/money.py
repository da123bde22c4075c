"""`{% load money %}`: `{{ amount|money }}` in prose ($0.76), `{{ amount|money_exact }}` in
tables ($0.0280). See spend/money.py."""

from __future__ import annotations

from django import template

from spend import money as formats

register = template.Library()


@register.filter
def money(value: object) -> str:
    return formats.prose(value)


@register.filter
def money_exact(value: object) -> str:
    return formats.exact(value)
