"""Reserving, settling and releasing money, and refusing what a budget cannot pay.

A submit holds its quoted amount against every budget that applies (the person's, the
project's, the organisation's) in the transaction that creates the generation, after locking
those budget rows: concurrent submits against one budget queue on the lock, so a budget is
never overspent. Completion turns the hold into a charge for what the provider billed; a
failure releases it.

A submit that takes a budget to 80 % or 100 % of its month mails the budget's owners once per
threshold per month (`BudgetAlert`), after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, DecimalField, F, Q, Sum, Value, When
from django.utils import timezone

from .models import Budget, BudgetAlert, EntryKind, LedgerEntry, Price

ZERO = Decimal("0")
WARN_AT = 80  # percent of a monthly limit: a banner, and a mail the first time in a month
THRESHOLDS = (WARN_AT, 100)


class NoPrice(Exception):
    pass


@dataclass
class BudgetExceeded(Exception):
    budget: Budget
    left: Decimal
    needed: Decimal

    def __str__(self) -> str:
        who = "an admin or a project owner" if self.budget.project_id else "an admin"
        return (
            f"This run costs ${self.needed:.3f}, but only ${max(self.left, ZERO):.3f} is left of "
            f"{self.budget.scope_label} (${self.budget.monthly_limit:.2f}). "
            f"Ask {who} to raise it, or generate fewer or smaller images."
        )


def price_for(*, model: str, resolution: str, at: datetime | None = None) -> Decimal:
    """The price per image that applies at `at` (now by default)."""
    price = (
        Price.objects.filter(
            model=model, resolution=resolution, valid_from__lte=at or timezone.now()
        )
        .order_by("-valid_from")
        .values_list("per_image", flat=True)
        .first()
    )
    if price is None:
        raise NoPrice(f"No price for {model} at {resolution}.")
    return price


def month_of(at: datetime) -> date:
    """The budget month of a moment: calendar months in the site's time zone."""
    return timezone.localtime(at).date().replace(day=1)


SIGNED = Case(
    When(kind=EntryKind.RELEASE, then=-F("amount")),
    default=F("amount"),
    output_field=DecimalField(max_digits=14, decimal_places=6),
)


def spent(*, period: date, person_id: int | None = None, project_id: int | None = None) -> Decimal:
    """Charges plus holds still in flight, in one month, for a person, a project or everyone."""
    entries = LedgerEntry.objects.filter(period=period)
    if person_id is not None:
        entries = entries.filter(person_id=person_id)
    if project_id is not None:
        entries = entries.filter(project_id=project_id)
    return entries.aggregate(total=Sum(SIGNED, default=Value(ZERO)))["total"] or ZERO


def applicable_budgets(
    *, person_id: int, project_id: int | None, lock: bool = False
) -> list[Budget]:
    scope = Q(person_id=person_id) | Q(is_organisation=True)
    if project_id is not None:
        scope |= Q(project_id=project_id)
    budgets = Budget.objects.filter(scope).select_related("person", "project").order_by("pk")
    if lock:
        # Always in pk order, so two submits never wait on each other's locks crosswise.
        budgets = budgets.select_for_update(of=("self",))
    return list(budgets)


def reserve(*, generation, amount: Decimal) -> LedgerEntry:
    """Hold `amount` for a generation being created; raises BudgetExceeded, and then the
    caller's transaction (which created the generation) rolls back."""
    assert transaction.get_connection().in_atomic_block, "reserve inside the creating transaction"
    period = month_of(generation.created_at)
    budgets = applicable_budgets(
        person_id=generation.owner_id, project_id=generation.project_id, lock=True
    )
    found = [Standing(budget=b, used=spent_in(b, period)) for b in budgets]
    if refusal := first_exceeded(found, amount):
        raise refusal
    hold = _entry(generation, EntryKind.HOLD, amount)
    for standing in found:
        _alert_if_crossed(standing.budget, period, standing.used + amount)
    return hold


def first_exceeded(found: list[Standing], amount: Decimal) -> BudgetExceeded | None:
    """The refusal for the first budget that `amount` would cross, if any: the one rule that
    both the quote and the submit apply."""
    for standing in found:
        left = standing.limit - standing.used
        if amount > left:
            return BudgetExceeded(budget=standing.budget, left=left, needed=amount)
    return None


@dataclass(frozen=True)
class Standing:
    """How much of one budget a month has used, as the person generating sees it."""

    budget: Budget
    used: Decimal

    @property
    def limit(self) -> Decimal:
        return self.budget.monthly_limit

    @property
    def left(self) -> Decimal:
        return max(self.limit - self.used, ZERO)

    @property
    def percent(self) -> int:
        """Whole percent used, rounded down (so 79.9 % is not yet a warning)."""
        return percent_used(self.used, self.limit)

    @property
    def kind(self) -> str:
        if self.budget.person_id:
            return "person"
        return "project" if self.budget.project_id else "organisation"


def percent_used(used: Decimal, limit: Decimal) -> int:
    if limit <= ZERO:
        return 100
    return int(used * 100 // limit)


def standings(
    *, person_id: int, project_id: int | None, at: datetime | None = None
) -> list[Standing]:
    """Every budget that a run by this person (in this project, or personal) would count
    against, with what this month has used of it: the person's, the project's, the
    organisation's, in that order."""
    period = month_of(at or timezone.now())
    budgets = applicable_budgets(person_id=person_id, project_id=project_id)
    return _standings_of(budgets, period)


def warnings_for(
    *, person_id: int, project_ids: list[int], at: datetime | None = None
) -> list[Standing]:
    """The budgets this person generates against (theirs, their projects', the organisation's)
    that this month has taken to WARN_AT percent or more."""
    period = month_of(at or timezone.now())
    scope = Q(person_id=person_id) | Q(is_organisation=True) | Q(project_id__in=project_ids)
    budgets = list(Budget.objects.filter(scope).select_related("person", "project"))
    return [s for s in _standings_of(budgets, period) if s.percent >= WARN_AT]


def _standings_of(budgets: list[Budget], period: date) -> list[Standing]:
    order = {"person": 0, "project": 1, "organisation": 2}
    found = [Standing(budget=b, used=spent_in(b, period)) for b in budgets]
    return sorted(found, key=lambda s: (order[s.kind], str(s.budget.project or ""), s.budget.pk))


def spent_in(budget: Budget, period: date) -> Decimal:
    return spent(period=period, person_id=budget.person_id, project_id=budget.project_id)


def _alert_if_crossed(budget: Budget, period: date, used: Decimal) -> None:
    """Record each threshold this month has now reached for the first time, and mail the
    highest of them after the commit (a jump from 50 % to 100 % sends one mail, not two)."""
    if budget.monthly_limit <= ZERO:
        return  # a zero cap refuses everything; there is nothing to warn about
    reached = [t for t in THRESHOLDS if used * 100 >= budget.monthly_limit * t]
    new = [t for t in reached if _claim_alert(budget, period, t)]
    if not new:
        return
    from .notifications import budget_alert_send

    threshold = max(new)
    transaction.on_commit(
        lambda: budget_alert_send(budget_id=budget.pk, period=period, threshold=threshold),
        robust=True,  # a mail server that is down must not fail a submit already committed
    )


def _claim_alert(budget: Budget, period: date, threshold: int) -> bool:
    """True for the one submit that records this alert first."""
    try:
        _, created = BudgetAlert.objects.get_or_create(
            budget=budget, period=period, threshold=threshold
        )
    except IntegrityError:  # a concurrent submit recorded it between our get and our create
        return False
    return created


@transaction.atomic
def settle(*, generation) -> None:
    """The provider completed: the hold becomes a charge for what it billed."""
    if generation.cost is None:
        return
    _release_hold(generation)
    if not LedgerEntry.objects.filter(generation=generation, kind=EntryKind.CHARGE).exists():
        _entry(generation, EntryKind.CHARGE, generation.cost)


@transaction.atomic
def release(*, generation) -> None:
    """The generation ended without a charge (failed, refused, given up): free its hold."""
    _release_hold(generation)


def _release_hold(generation) -> None:
    hold = LedgerEntry.objects.filter(generation=generation, kind=EntryKind.HOLD).first()
    if hold is None:
        return
    if not LedgerEntry.objects.filter(generation=generation, kind=EntryKind.RELEASE).exists():
        _entry(generation, EntryKind.RELEASE, hold.amount, period=hold.period)


def _entry(generation, kind: str, amount: Decimal, period: date | None = None) -> LedgerEntry:
    return LedgerEntry.objects.create(
        generation=generation,
        person_id=generation.owner_id,
        project_id=generation.project_id,
        kind=kind,
        amount=amount,
        period=period or month_of(generation.created_at),
    )


def project_budget_set(*, project, monthly_limit: Decimal | None) -> None:
    """Set a project's monthly cap, or remove it (None)."""
    if monthly_limit is None:
        Budget.objects.filter(project=project).delete()
    else:
        Budget.objects.update_or_create(project=project, defaults={"monthly_limit": monthly_limit})
