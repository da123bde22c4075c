"""Reading the audit trail: everything (staff), or one project's (its owners), newest first in
keyset pages on (at, id), never OFFSET or COUNT: a page costs the same at any depth."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from config.cursors import Cursor, encode_cursor
from generations.models import Generation, OutputImage, ShareLink
from projects.models import Project

from .models import Entry

PAGE_SIZE = 50


@dataclass(frozen=True)
class TrailFilters:
    """What narrows the trail; each empty value means "no filter"."""

    actor_id: int | None = None
    project: Project | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive


@dataclass(frozen=True)
class TrailPage:
    entries: list[Entry]
    next_cursor: str | None


def trail_entries(filters: TrailFilters, *, after: Cursor | None = None) -> QuerySet[Entry]:
    entries = Entry.objects.all()
    if filters.project is not None:
        entries = entries.filter(project=filters.project)
    if filters.actor_id is not None:
        entries = entries.filter(actor_id=filters.actor_id)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.date_from:
        entries = entries.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to:
        entries = entries.filter(at__lt=_start_of(filters.date_to + timedelta(days=1)))
    if after is not None:
        entries = entries.filter(at__lte=after.created_at).filter(
            Q(at__lt=after.created_at) | Q(at=after.created_at, pk__lt=after.pk)
        )
    return entries.order_by("-at", "-id")


def trail_page(
    filters: TrailFilters,
    *,
    after: Cursor | None = None,
    staff: bool,
    size: int | None = None,
) -> TrailPage:
    """One page (of PAGE_SIZE unless `size`), each entry with `url` (a link to its object
    while it exists, else ""). Staff also get links into the admin (people, budgets, prices,
    invitations)."""
    size = size or PAGE_SIZE
    rows = list(trail_entries(filters, after=after)[: size + 1])
    entries = rows[:size]
    attach_links(entries, staff=staff)
    last = entries[-1] if len(rows) > size else None
    return TrailPage(entries=entries, next_cursor=encode_cursor(last.at, last.pk) if last else None)


def trail_rows(filters: TrailFilters) -> Iterator[Entry]:
    """Every matching entry, newest first, read in chunks (the CSV export)."""
    return trail_entries(filters).iterator(chunk_size=2000)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# Links: one query per type of object on the page, whatever its size.


def attach_links(entries: list[Entry], *, staff: bool) -> None:
    ids: dict[str, set[str]] = {}
    for e in entries:
        if e.object_type:
            ids.setdefault(e.object_type, set()).add(e.object_id)
    urls: dict[tuple[str, str], str] = {}
    for object_type, found in ids.items():
        resolve = _APP_LINKS.get(object_type) or (_ADMIN_LINKS.get(object_type) if staff else None)
        if resolve is not None:
            urls.update(((object_type, key), url) for key, url in resolve(found).items())
    for e in entries:
        e.url = urls.get((e.object_type, e.object_id), "")


def _uuids(values: set[str]) -> list[str]:
    valid = []
    for value in values:
        try:
            valid.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return valid


def _pks(values: set[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


def _by_uuid(model, view: str):
    def resolve(values: set[str]) -> dict[str, str]:
        found = model.objects.filter(uuid__in=_uuids(values)).values_list("uuid", flat=True)
        return {str(u): reverse(view, args=[u]) for u in found}

    return resolve


def _share_links(values: set[str]) -> dict[str, str]:
    found = ShareLink.objects.filter(pk__in=_pks(values)).values_list("pk", "image__uuid")
    return {str(pk): reverse("gallery:image_detail", args=[u]) for pk, u in found}


def _admin(model_label: str):
    def resolve(values: set[str]) -> dict[str, str]:
        model = apps.get_model(model_label)
        view = f"admin:{model._meta.app_label}_{model._meta.model_name}_change"
        found = model.objects.filter(pk__in=_pks(values)).values_list("pk", flat=True)
        return {str(pk): reverse(view, args=[pk]) for pk in found}

    return resolve


_APP_LINKS = {
    "image": _by_uuid(OutputImage, "gallery:image_detail"),
    "generation": _by_uuid(Generation, "generations:generation_detail"),
    "project": _by_uuid(Project, "projects:detail"),
    "share link": _share_links,
}
_ADMIN_LINKS = {
    "person": _admin(settings.AUTH_USER_MODEL),
    "budget": _admin("spend.Budget"),
    "price": _admin("spend.Price"),
    "invitation": _admin("projects.ProjectInvite"),
    "account invitation": _admin("accounts.Invitation"),
}
