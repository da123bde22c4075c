"""Reads of the ledger: what a person, a project or everyone spent, grouped for the spend pages.

Spend is charges plus holds still in flight (holds - releases + charges), as in
`spend.services.spent`. A month is a budget `period`; a day is the local date (site time zone)
on which the generation was submitted, so a charge that lands after midnight stays on its run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from config.parsing import date_in_range
from elements.models import Element
from generations.models import Generation, OutputImage, PromptEnhancement, Status, Thumbnail
from projects.models import Project
from spend.models import Budget, EntryKind, LedgerEntry
from spend.services import SIGNED, WARN_AT, Standing, month_of, personal_budget, spent_in

ZERO = Decimal("0")
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=6)
TOP_RUNS = 10
ENHANCER = "Prompt enhancer"


def _total() -> Sum:
    return Sum(SIGNED, default=Value(ZERO, output_field=MONEY_FIELD))


def _submit_day() -> TruncDate:
    # An entry is for a generation, a use of the prompt enhancer or an element created on
    # Kling: the day it was asked for.
    return TruncDate(
        Coalesce("generation__created_at", "enhancement__created_at", "element__created_at"),
        tzinfo=timezone.get_current_timezone(),
    )


def month_parse(value: str) -> date | None:
    """`YYYY-MM` from a query string, as the month's first day; None for anything else, and for
    a month that reaches outside the dates a person may choose (9999-12 has no end)."""
    try:
        period = datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a date, not a moment
    except ValueError:
        return None
    return period if date_in_range(period) and date_in_range(month_end(period)) else None


def month_end(period: date) -> date:
    """The last day of the month that starts on `period`."""
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def months_with_spend(*, entries: QuerySet[LedgerEntry], current: date) -> list[date]:
    """The months to pick from: every month with entries, and this month, newest first."""
    months = set(entries.values_list("period", flat=True).distinct())
    months.add(month_of(timezone.now()))
    months.add(current)
    return sorted(months, reverse=True)


def _budget_use(budget: Budget | None, period: date) -> Standing | None:
    return None if budget is None else Standing(budget=budget, used=spent_in(budget, period))


def _per_day(entries: QuerySet[LedgerEntry]) -> dict[date, Decimal]:
    rows = entries.annotate(day=_submit_day()).values("day").annotate(total=_total())
    return {row["day"]: row["total"] for row in rows.order_by("day")}


@dataclass(frozen=True)
class Comparison:
    """A month so far against the month before: "are we on track?"."""

    period: date
    through: date  # the last day counted in `period`: today in this month, else its last day
    so_far: Decimal
    previous: date  # the month before
    previous_same_day: Decimal  # the month before, up to the same day of the month
    previous_total: Decimal

    @property
    def same_day(self) -> date:
        return min(
            self.previous.replace(day=1) + timedelta(days=self.through.day - 1),
            month_end(self.previous),
        )


def previous_month(period: date) -> date:
    return (period.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_comparison(entries: QuerySet[LedgerEntry], period: date) -> Comparison:
    """`entries` (everything of a person or a project) in `period` up to today (or to its end
    for a past month), against the month before: up to the same day, and in all."""
    today = timezone.localdate()
    through = today if period <= today <= month_end(period) else month_end(period)
    previous = previous_month(period)
    this = _per_day(entries.filter(period=period))
    before = _per_day(entries.filter(period=previous))
    comparison = Comparison(
        period=period,
        through=through,
        so_far=sum((v for d, v in this.items() if d <= through), ZERO),
        previous=previous,
        previous_same_day=ZERO,
        previous_total=sum(before.values(), ZERO),
    )
    same_day = comparison.same_day
    return Comparison(
        **{
            **comparison.__dict__,
            "previous_same_day": sum((v for d, v in before.items() if d <= same_day), ZERO),
        }
    )


@dataclass(frozen=True)
class PerUseSpend:
    """Calls priced per use in a month, as one line: the prompt enhancer's uses, or the
    elements created on Kling."""

    uses: int
    total: Decimal


@dataclass
class PersonMonth:
    period: date
    total: Decimal
    per_day: dict[date, Decimal]
    by_resolution: list[tuple[str, Decimal]]  # generations only (see `enhancer`, `elements`)
    by_project: list[tuple[str, Decimal]]
    generations: list[Generation]  # each with `.spend`
    budget: Standing | None
    months: list[date] = field(default_factory=list)
    enhancer: PerUseSpend | None = None
    elements: PerUseSpend | None = None
    comparison: Comparison | None = None

    @property
    def nothing_yet(self) -> bool:
        """Nothing spent this month, nor in any month before: a first visit."""
        return len(self.months) <= 1 and not (
            self.total or self.generations or self.enhancer or self.elements
        )


def _per_use_spend(entries: QuerySet[LedgerEntry], column: str) -> tuple[PerUseSpend | None, dict]:
    """The share of `entries` paid for one kind of per-use call (`column`: "enhancement" or
    "element"): its line, and its spend per project name."""
    mine = entries.filter(**{f"{column}__isnull": False})
    # A use whose hold was released cost nothing, and is not counted.
    spent = (
        mine.values(f"{column}_id")
        .annotate(net=_total())
        .exclude(net=ZERO)
        .aggregate(uses=Count(f"{column}_id"), total=Sum("net"))
    )
    if not spent["uses"]:
        return None, {}
    by_project = dict(
        mine.values(name=F("project__name")).annotate(total=_total()).values_list("name", "total")
    )
    return PerUseSpend(uses=spent["uses"], total=spent["total"]), by_project


def person_month(*, user: AbstractBaseUser, period: date) -> PersonMonth:
    """A person's own spend in one month: their generations (wherever they live), their uses
    of the prompt enhancer and the elements they created on Kling."""
    entries = LedgerEntry.objects.filter(person=user, period=period)
    enhancer, enhancer_by_project = _per_use_spend(entries, "enhancement")
    elements, elements_by_project = _per_use_spend(entries, "element")
    spend_by_generation = dict(
        entries.filter(generation__isnull=False)
        .values("generation_id")
        .annotate(total=_total())
        .values_list("generation_id", "total")
    )
    images = OutputImage.objects.order_by("index").prefetch_related(
        Prefetch("thumbnails", queryset=Thumbnail.objects.order_by("size"))
    )
    generations = list(
        Generation.objects.filter(owner=user, pk__in=list(spend_by_generation))
        .select_related("project")
        .prefetch_related(Prefetch("images", queryset=images))
        .order_by("-created_at", "-id")
    )
    by_resolution: dict[str, Decimal] = defaultdict(Decimal)
    by_project: dict[str, Decimal] = defaultdict(Decimal)
    for generation in generations:
        generation.spend = spend_by_generation[generation.pk]
        by_resolution[generation.resolution] += generation.spend
        by_project[generation.project.name if generation.project else "Personal"] += (
            generation.spend
        )
    for name, total in (*enhancer_by_project.items(), *elements_by_project.items()):
        by_project[name or "Personal"] += total
    per_use = sum((line.total for line in (enhancer, elements) if line is not None), ZERO)
    return PersonMonth(
        period=period,
        total=sum(spend_by_generation.values(), ZERO) + per_use,
        per_day=_per_day(entries),
        by_resolution=sorted(by_resolution.items()),
        by_project=sorted(by_project.items(), key=lambda item: (-item[1], item[0])),
        generations=generations,
        budget=_budget_use(personal_budget(person_id=user.pk), period),
        months=months_with_spend(entries=LedgerEntry.objects.filter(person=user), current=period),
        enhancer=enhancer,
        elements=elements,
        comparison=month_comparison(LedgerEntry.objects.filter(person=user), period),
    )


@dataclass
class ProjectMonth:
    period: date
    total: Decimal
    per_day: dict[date, Decimal]
    by_member: list[dict]  # username, total
    budget: Standing | None
    months: list[date] = field(default_factory=list)
    comparison: Comparison | None = None


def project_month(*, project: Project, period: date) -> ProjectMonth:
    entries = LedgerEntry.objects.filter(project=project, period=period)
    by_member = list(
        entries.values("person_id", username=F("person__username"))
        .annotate(total=_total())
        .order_by("-total", "username")
    )
    return ProjectMonth(
        period=period,
        total=sum((row["total"] for row in by_member), ZERO),
        per_day=_per_day(entries),
        by_member=by_member,
        budget=_budget_use(Budget.objects.filter(project=project).first(), period),
        months=months_with_spend(
            entries=LedgerEntry.objects.filter(project=project), current=period
        ),
        comparison=month_comparison(LedgerEntry.objects.filter(project=project), period),
    )


@dataclass
class Review:
    start: date
    end: date
    total: Decimal
    people: list[dict]  # person_id, username, total
    projects: list[dict]  # project_id, name (None: personal), total
    days: list[dict]  # day, total
    runs: list  # the biggest generations and enhancer uses, each with `.spend` and `.charged`
    failed: list[Generation]  # each with `.spend` and `.charged`
    near_caps: list[Standing]


def _range_filter(start: date, end: date, prefix: str = "") -> Q:
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return Q(**{f"{prefix}created_at__gte": since, f"{prefix}created_at__lt": until})


def _run_spend(prefix: str = "ledger_entries__") -> tuple[Sum, Sum]:
    """(spend, charged) of each run, summed over its ledger entries."""
    charged = Sum(
        f"{prefix}amount",
        filter=Q(**{f"{prefix}kind": EntryKind.CHARGE}),
        default=Value(ZERO, output_field=MONEY_FIELD),
    )
    spend = Sum(
        Case(
            When(**{f"{prefix}kind": EntryKind.RELEASE}, then=-F(f"{prefix}amount")),
            default=F(f"{prefix}amount"),
            output_field=MONEY_FIELD,
        ),
        default=Value(ZERO, output_field=MONEY_FIELD),
    )
    return spend, charged


def _nsfw() -> Exists:
    """Whether any image of the run was flagged NSFW: its thumbnail is then blurred."""
    return Exists(OutputImage.objects.filter(generation=OuterRef("pk"), nsfw=True))


def _biggest_runs(start: date, end: date) -> list:
    """The TOP_RUNS biggest generations and enhancer uses together; an enhancer use is marked
    `is_enhancer` so the table can name it."""
    spend, charged = _run_spend()
    runs = list(
        Generation.objects.filter(_range_filter(start, end))
        .select_related("owner", "project")
        .annotate(spend=spend, charged=charged, nsfw=_nsfw())
        .filter(spend__gt=0)
        .order_by("-spend", "-created_at")[:TOP_RUNS]
    )
    uses = list(
        PromptEnhancement.objects.filter(_range_filter(start, end))
        .select_related("owner", "project")
        .annotate(spend=spend, charged=charged)
        .filter(spend__gt=0)
        .order_by("-spend", "-created_at")[:TOP_RUNS]
    )
    for use in uses:
        use.is_enhancer = True
    both = sorted(runs + uses, key=lambda run: (-run.spend, -run.created_at.timestamp()))
    return both[:TOP_RUNS]


def review(*, start: date, end: date) -> Review:
    """Everyone's spend on generations (and enhancer uses, and elements created on Kling)
    asked for between two local dates (both included)."""
    entries = LedgerEntry.objects.filter(
        _range_filter(start, end, "generation__")
        | _range_filter(start, end, "enhancement__")
        | _range_filter(start, end, "element__")
    )
    people = list(
        entries.values("person_id", username=F("person__username"))
        .annotate(total=_total())
        .order_by("-total", "username")
    )
    projects = list(
        entries.values("project_id", name=F("project__name"))
        .annotate(total=_total())
        .order_by("-total", "name")
    )
    days = [{"day": day, "total": total} for day, total in _per_day(entries).items()]
    spend, charged = _run_spend()
    in_range = Generation.objects.filter(_range_filter(start, end)).select_related(
        "owner", "project"
    )
    failed = list(
        in_range.filter(status=Status.FAILED)
        .annotate(spend=spend, charged=charged, nsfw=_nsfw())
        .order_by("-created_at", "-id")
    )
    return Review(
        start=start,
        end=end,
        total=sum((row["total"] for row in people), ZERO),
        people=people,
        projects=projects,
        days=days,
        runs=_biggest_runs(start, end),
        failed=failed,
        near_caps=budgets_near_cap(period=month_of(timezone.now())),
    )


def every_run(*, start: date, end: date) -> list:
    """Every paid call asked for between two local dates (both included), oldest first, each
    with `.spend` and `.charged`: the generations (whatever their status), the uses of the
    prompt enhancer (`is_enhancer`) and the elements created on Kling (`is_element`). The
    review's CSV of runs; the page shows only the biggest."""
    spend, charged = _run_spend()
    generations = list(
        Generation.objects.filter(_range_filter(start, end))
        .select_related("owner", "project")
        .annotate(spend=spend, charged=charged)
    )
    uses = list(
        PromptEnhancement.objects.filter(_range_filter(start, end))
        .filter(Exists(LedgerEntry.objects.filter(enhancement=OuterRef("pk"))))
        .select_related("owner", "project")
        .annotate(spend=spend, charged=charged)
    )
    for use in uses:
        use.is_enhancer = True
    elements = list(
        Element.objects.filter(_range_filter(start, end))
        .filter(Exists(LedgerEntry.objects.filter(element=OuterRef("pk"))))
        .select_related("created_by", "project")
        .annotate(spend=spend, charged=charged)
    )
    for element in elements:
        element.is_element = True
        element.payer = element.created_by  # the person who asked pays
    return sorted(generations + uses + elements, key=lambda run: (run.created_at, run.pk))


def budgets_near_cap(*, period: date) -> list[Standing]:
    """People's budgets at WARN_AT percent or more in a month, fullest first: their own, and
    the default personal budget as it applies to each person without one who spent."""
    budgets = list(Budget.objects.filter(person__isnull=False).select_related("person"))
    used = dict(
        LedgerEntry.objects.filter(period=period)
        .values("person_id")
        .annotate(total=_total())
        .values_list("person_id", "total")
    )
    default = Budget.objects.filter(is_personal_default=True).first()
    if default is not None:
        own = {b.person_id for b in budgets}
        people = get_user_model().objects.filter(pk__in=[p for p in used if p not in own])
        for person in people:
            applied = default.applied_to(person.pk)
            applied.person = person
            budgets.append(applied)
    uses = [Standing(budget=b, used=used.get(b.person_id, ZERO)) for b in budgets]
    return sorted(
        (u for u in uses if u.percent >= WARN_AT),
        key=lambda u: (-u.percent, u.budget.pk, u.budget.person_id),
    )
