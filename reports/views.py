from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from config import media
from config.csv_writer import csv_response
from config.parsing import EARLIEST_DATE, LATEST_DATE
from generations.models import OutputImage, Thumbnail
from projects.selectors import project_for_member
from spend import money
from spend.models import Budget
from spend.services import BudgetSetByStaff, month_of, project_budget_set

from . import selectors
from .charts import spend_chart, track, track_chart
from .forms import DateRangeForm, ProjectBudgetForm

MONTH_UNREADABLE = (
    "The link does not name a month that can be shown (YYYY-MM, from "
    f"{EARLIEST_DATE.year} to {LATEST_DATE.year}): here is this month."
)


@login_required
@require_GET
def my_spend(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    month = selectors.person_month(user=request.user, period=period)
    return render(
        request,
        "spend/my_spend.html",
        {"month": month, "chart": _month_chart(month, "Your spend"), **_track(month, "Your")},
    )


@login_required
@require_GET
def project_spend(request: HttpRequest, uuid: str) -> HttpResponse:
    project, _ = project_for_member(request.user, uuid, manage=True)
    period = _period(request)
    month = selectors.project_month(project=project, period=period)
    return render(
        request,
        "spend/project_spend.html",
        {
            "project": project,
            "month": month,
            "chart": _month_chart(month, f"Spend in {project.name}"),
            **_track(month, f"{project.name}'s"),
        },
    )


@login_required
@require_POST
def project_budget(request: HttpRequest, uuid: str) -> HttpResponse:
    """Set (or, left empty, remove) the project's monthly budget. Owners only."""
    project, _ = project_for_member(request.user, uuid, manage=True)
    form = ProjectBudgetForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter an amount of zero or more dollars, or leave it empty.")
        return redirect("projects:settings", uuid=project.uuid)
    limit = form.cleaned_data["monthly_limit"]
    try:
        project_budget_set(project=project, monthly_limit=limit, by=request.user)
    except BudgetSetByStaff as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Project budget removed."
            if limit is None
            else f"Project budget set to {money.prose(limit)} a month.",
        )
    return redirect("projects:settings", uuid=project.uuid)


CSV_TABLES = ("people", "projects", "days", "runs", "failed")


@login_required
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    """Staff only; to everyone else the page does not exist."""
    if not request.user.is_staff:
        raise Http404("No such page.")
    form = DateRangeForm.this_month_unless(request.GET)
    if not form.is_valid():
        return render(request, "spend/review.html", {"form": form}, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    data = selectors.review(start=start, end=end)
    if request.GET.get("format") == "csv":
        table = request.GET.get("table")
        if table not in CSV_TABLES:
            raise Http404("No such table.")
        return csv_response(f"darkroom-{table}-{start}-to-{end}.csv", _csv_rows(data, table))
    days = {row["day"]: row["total"] for row in data.days}
    return render(
        request,
        "spend/review.html",
        {
            "form": form,
            "review": data,
            "chart": spend_chart(
                days, start=start, end=end, label="Spend", budget_per_day=_organisation_pace()
            ),
            "query": request.GET.urlencode() or f"start={start}&end={end}",
        },
    )


def _organisation_pace() -> Decimal | None:
    """The organisation's monthly budget spread over an average month's days (the review's
    range may span months of 28 to 31), or None without one."""
    budget = Budget.objects.filter(is_organisation=True).first()
    return None if budget is None else budget.monthly_limit * 12 / 365


def _period(request: HttpRequest) -> date:
    """The month of `?month=YYYY-MM`, else this month (saying so when the link names a month
    that cannot be shown)."""
    value = request.GET.get("month")
    period = selectors.month_parse(value) if value else None
    if value and period is None:
        messages.warning(request, MONTH_UNREADABLE)
    return period or month_of(timezone.now())


def _month_chart(month: selectors.PersonMonth | selectors.ProjectMonth, label: str):
    """A month's chart, with the budget's even pace when a budget applies."""
    end = selectors.month_end(month.period)
    pace = None
    if month.budget is not None:
        pace = Decimal(month.budget.limit) / ((end - month.period).days + 1)
    return spend_chart(month.per_day, start=month.period, end=end, label=label, budget_per_day=pace)


def _track(month: selectors.PersonMonth | selectors.ProjectMonth, whose: str) -> dict:
    """ "Are we on track?": the month so far against its cap, projected to its end."""
    found = track(
        month.per_day,
        start=month.period,
        end=selectors.month_end(month.period),
        today=timezone.localdate(),
        cap=month.budget.limit if month.budget is not None else None,
    )
    if found is None:
        return {"track": None, "track_chart": ""}
    label = f"{whose} spend added up over the month" + (
        ", against the monthly cap" if found.cap is not None else ""
    )
    return {"track": found, "track_chart": track_chart(month.per_day, found, label=label)}


_money = money.exact_number


def _csv_rows(data: selectors.Review, table: str) -> Iterator[list]:
    if table == "people":
        yield ["person", "spend_usd"]
        for row in data.people:
            yield [row["username"], _money(row["total"])]
    elif table == "projects":
        yield ["project", "spend_usd"]
        for row in data.projects:
            yield [row["name"] or "(personal)", _money(row["total"])]
    elif table == "days":
        yield ["day", "spend_usd"]
        for row in data.days:
            yield [row["day"].isoformat(), _money(row["total"])]
    else:
        runs = (
            selectors.every_run(start=data.start, end=data.end) if table == "runs" else data.failed
        )
        yield [
            "generation",
            "what",
            "submitted_at",
            "person",
            "project",
            "resolution",
            "images",
            "status",
            "charged_usd",
            "spend_usd",
        ]
        for g in runs:
            # A use of the prompt enhancer or an element created on Kling has its own uuid,
            # and neither size nor images.
            enhancer = getattr(g, "is_enhancer", False)
            element = getattr(g, "is_element", False)
            per_use = enhancer or element
            yield [
                str(g.uuid),
                "prompt enhancer" if enhancer else "kling element" if element else "generation",
                timezone.localtime(g.created_at).isoformat(),
                (g.payer if element else g.owner).get_username(),
                g.project.name if g.project else "(personal)",
                "" if per_use else g.resolution,
                "" if per_use else g.billed_images,
                getattr(g, "status", ""),
                _money(g.charged),
                _money(g.spend),
            ]


@login_required
@require_GET
def review_thumbnail(request: HttpRequest, uuid: str) -> HttpResponseBase:
    """The first thumbnail of any generation, for the staff cost review only: reviewing costs
    is a right staff have over every generation, and nobody else reaches this (404)."""
    if not request.user.is_staff:
        raise Http404
    thumbnail = (
        Thumbnail.objects.filter(image__generation__uuid=uuid, size=256)
        .order_by("image__index")
        .first()
    )
    if thumbnail is not None:
        return media.file_response(thumbnail.file.name, "image/webp")
    # Thumbnails not made yet (or impossible): the first original stands in.
    image = OutputImage.objects.filter(generation__uuid=uuid).order_by("index").first()
    if image is None:
        raise Http404
    response = media.file_response(image.file.name, image.content_type)
    response["Cache-Control"] = "private, no-cache"
    return response
