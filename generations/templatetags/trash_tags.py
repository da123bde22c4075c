"""The image page's trash controls: a Delete button, or the banner of an image in the trash."""

from __future__ import annotations

from django import template

from ..models import OutputImage
from ..services.trash import may_trash, purge_date

register = template.Library()


@register.inclusion_tag("generations/_trash_banner.html", takes_context=True)
def trash_controls(context: template.Context, image: OutputImage) -> dict[str, object]:
    request = context["request"]
    return {
        "image": image,
        "may_trash": may_trash(user=request.user, image=image),
        "purge_at": purge_date(image),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
