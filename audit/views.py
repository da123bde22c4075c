"""The staff trail: everything, filterable, in keyset pages, and as CSV."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from config.csv_writer import csv_lines

from . import selectors
from .forms import TrailFilterForm
from .models import Entry

CSV_HEADER = [
    "at",
    "who",
    "action",
    "action_label",
    "project",
    "object_type",
    "object_id",
    "object",
    "before",
    "after",
    "reason",
    "address",
]


@login_required
@require_GET
def trail(request: HttpRequest) -> HttpResponse:
    """Staff only; to everyone else the page does not exist."""
    if not request.user.is_staff:
        raise Http404("No such page.")
    form = TrailFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/trail.html", {"form": form}, status=400)
    filters = form.filters()
    if request.GET.get("format") == "csv":
        return _csv(selectors.trail_rows(filters))
    page = selectors.trail_page(filters, after=form.cleaned_data["after"], staff=True)
    next_url = ""
    if page.next_cursor:
        query = request.GET.copy()
        query["after"] = page.next_cursor
        next_url = f"{reverse('audit:trail')}?{query.urlencode()}"
    csv_query = request.GET.copy()
    csv_query.pop("after", None)
    csv_query["format"] = "csv"
    return render(
        request,
        "audit/trail.html",
        {
            "form": form,
            "page": page,
            "next_url": next_url,
            "csv_url": f"{reverse('audit:trail')}?{csv_query.urlencode()}",
        },
    )


def _csv(entries: Iterator[Entry]) -> StreamingHttpResponse:
    def rows() -> Iterator[list[object]]:
        yield CSV_HEADER
        for e in entries:
            yield [
                timezone.localtime(e.at).isoformat(),
                e.who,
                e.action,
                e.get_action_display(),
                e.project_name,
                e.object_type,
                e.object_id,
                e.object_repr,
                _json(e.before),
                _json(e.after),
                e.reason,
                e.address,
            ]

    response = StreamingHttpResponse(csv_lines(rows()), content_type="text/csv; charset=utf-8")
    name = f"darkroom-audit-{timezone.localtime():%Y-%m-%d-%H%M%S}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _json(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
