"""The prompt enhancer's price for its button, from the dated price table."""

from __future__ import annotations

from django import template

from ..services.enhancing import STYLES, enhancement_price

register = template.Library()


@register.simple_tag
def enhancer_price() -> str:
    return enhancement_price()


@register.simple_tag
def enhancer_styles() -> tuple[str, ...]:
    return STYLES
