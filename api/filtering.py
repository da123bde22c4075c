"""The gallery page's filters in a query string, for `GET /images` and `GET /generations`: the
same names, read by the same form (gallery/forms.py), with the same messages in a 422."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from ninja import Field, Schema

from gallery.forms import FilterForm
from gallery.selectors import gallery_authors
from generations.models import AspectRatio, Resolution

from . import access
from .auth import Caller
from .errors import ApiError

Form = TypeVar("Form", bound=FilterForm)


class GalleryFilters(Schema):
    """The filters an image and a run share, under the gallery page's names (`cursor` is its
    `after`). Every field but `limit` goes to the form."""

    cursor: str | None = None
    q: str | None = Field(None, description="Search the prompts (full text on PostgreSQL).")
    project: str | None = Field(None, description="A project's uuid, or `personal`.")
    author: str | None = Field(None, description="A username sharing a project with you.")
    ratio: str | None = Field(None, description=f"One of: {', '.join(AspectRatio.values)}.")
    resolution: str | None = Field(None, description=f"One of: {', '.join(Resolution.values)}.")
    date_from: str | None = Field(None, alias="from", description="YYYY-MM-DD, inclusive.")
    date_to: str | None = Field(None, alias="to", description="YYYY-MM-DD, inclusive.")


@dataclass(frozen=True)
class Filtered(Generic[Form]):
    form: Form  # valid
    project_ids: list[int]  # the caller's projects (the token's only, for a restricted one)


def filter_form(caller: Caller, filters: GalleryFilters, form_class: type[Form]) -> Filtered[Form]:
    """`filters` through `form_class`, with the caller's projects and the people sharing them
    as its choices; a 422 naming each refused value. A token limited to a project filters
    within it: its project unless another is named, and personal work is refused (403)."""
    memberships = access.memberships(caller)
    project_ids = [m.project_id for m in memberships]
    data = filters.model_dump(by_alias=True, exclude={"limit"}, exclude_none=True)
    if "cursor" in data:
        data["after"] = data.pop("cursor")
    if caller.project_id is not None:
        if data.get("project") == "personal":
            access.personal_allowed(caller)
        data.setdefault("project", str(caller.token.project.uuid))  # type: ignore[union-attr]
    form = form_class(
        data,
        memberships=memberships,
        authors=lambda: gallery_authors(user=caller.user, project_ids=project_ids),
    )
    if not form.is_valid():
        errors = {
            ("cursor" if k == "after" else k): [str(m) for m in v] for k, v in form.errors.items()
        }
        raise ApiError(422, "Some values are not valid.", field_errors=errors)
    return Filtered(form=form, project_ids=project_ids)
