"""Reserving, settling and releasing money, and refusing what a budget cannot pay.

A submit holds its quoted amount against every budget that applies (the person's own, or
else the default personal budget; the project's; the organisation's) in the transaction that
creates the paid call (a generation, a use of the prompt enhancer, an element created on
Kling: `PAID`), after locking those budget rows: concurrent submits against one budget queue
on the lock, so a budget is never overspent. Completion turns the hold into a charge for what
the provider billed; a failure releases it.

A submit that takes a budget to 80 % or 100 % of its month mails the budget's owners once per
threshold per month (`BudgetAlert`), after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Case, DecimalField, Exists, F, Model, Q, Sum, Value, When
from django.utils import timezone

from audit.models import Action
from audit.services import record

from . import money
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
    what: str = "This run"
    otherwise: str = ", or generate fewer or smaller images"

    def __str__(self) -> str:
        # Shown to the person whose run it is, so their own budget is "your monthly budget".
        # Every amount is in the prose format, like the quote's "left" just above it.
        who = "an admin or a project owner" if self.budget.project_id else "an admin"
        name = "your monthly budget" if self.budget.person_id else self.budget.scope_label
        needed, left = money.prose(self.needed), money.prose(max(self.left, ZERO))
        if left == money.prose(ZERO):
            short = f"but nothing is left of {name}"
        elif left == needed:  # under a cent apart: both round alike
            short = f"just over what is left of {name}"
        else:
            short = f"but only {left} is left of {name}"
        return (
            f"{self.what} costs {needed}, {short} "
            f"({money.prose(self.budget.monthly_limit)} a month). "
            f"Ask {who} to raise it{self.otherwise}."
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
    """Every budget a run by this person (in this project, or personal) counts against.

    The one place budgets are looked up, so the quote, the submit (`lock`) and the spend pages
    agree: the person's own budget, or else the default personal budget applied to them (see
    `Budget.applied_to`), the project's, and the organisation's."""
    return _budgets_of(
        person_id=person_id, project_ids=[] if project_id is None else [project_id], lock=lock
    )


def personal_budget(*, person_id: int) -> Budget | None:
    """The person's own monthly budget, or else the default personal one applied to them."""
    budgets = _budgets_of(person_id=person_id, project_ids=[], organisation=False)
    return budgets[0] if budgets else None


def _budgets_of(
    *, person_id: int, project_ids: list[int], organisation: bool = True, lock: bool = False
) -> list[Budget]:
    own = Budget.objects.filter(person_id=person_id)
    scope = Q(person_id=person_id) | (Q(is_personal_default=True) & ~Q(Exists(own)))
    if organisation:
        scope |= Q(is_organisation=True)
    if project_ids:
        scope |= Q(project_id__in=project_ids)
    budgets = Budget.objects.filter(scope).select_related("person", "project").order_by("pk")
    if lock:
        # Always in pk order, so two submits never wait on each other's locks crosswise. Like
        # the organisation's, the default's row is shared: submits under it queue on it.
        budgets = budgets.select_for_update(of=("self",))
    return [b.applied_to(person_id) if b.is_personal_default else b for b in budgets]


@dataclass(frozen=True)
class _Paid:
    """How the ledger knows one kind of paid call: its column, the field naming who pays, and
    how a refusal names it (BudgetExceeded's `what` and `otherwise`)."""

    column: str
    payer: str
    wording: dict[str, str]


# Every kind of paid call, by model label. Each has `created_at`, `project_id` and `cost`.
PAID = {
    "generations.Generation": _Paid("generation", "owner_id", {}),
    "generations.PromptEnhancement": _Paid(
        "enhancement", "owner_id", {"what": "The prompt enhancer", "otherwise": ""}
    ),
    # A project's element is the project's, but the person who asked Kling for it pays.
    "elements.Element": _Paid(
        "element", "created_by_id", {"what": "Creating an element on Kling", "otherwise": ""}
    ),
}


def _paid(subject: Model) -> _Paid:
    try:
        return PAID[subject._meta.label]
    except KeyError:
        raise TypeError(f"{subject._meta.label} is not paid for through the ledger") from None


def payer_id(subject: Model) -> int:
    return getattr(subject, _paid(subject).payer)


def reserve(*, subject: Model, amount: Decimal) -> LedgerEntry:
    """Hold `amount` for a paid call being created (a generation, a use of the prompt enhancer,
    an element created on Kling); raises BudgetExceeded, and then the caller's transaction
    (which created it) rolls back."""
    assert transaction.get_connection().in_atomic_block, "reserve inside the creating transaction"
    period = month_of(subject.created_at)
    budgets = applicable_budgets(
        person_id=payer_id(subject), project_id=subject.project_id, lock=True
    )
    found = [Standing(budget=b, used=spent_in(b, period)) for b in budgets]
    if refusal := first_exceeded(found, amount, **_paid(subject).wording):
        raise refusal
    hold = _new_entry(subject, EntryKind.HOLD, amount, project_id=subject.project_id)
    hold.save(force_insert=True)
    for standing in found:
        _alert_if_crossed(standing.budget, period, standing.used + amount)
    return hold


def first_exceeded(found: list[Standing], amount: Decimal, **wording: str) -> BudgetExceeded | None:
    """The refusal for the first budget that `amount` would cross, if any: the one rule that
    both the quote and the submit apply. `wording` sets the refusal's `what` and `otherwise`."""
    for standing in found:
        left = standing.limit - standing.used
        if amount > left:
            return BudgetExceeded(budget=standing.budget, left=left, needed=amount, **wording)
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
    budgets = _budgets_of(person_id=person_id, project_ids=project_ids)
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
    from .notifications import budget_alert_emit, budget_alert_send

    threshold = max(new)
    person_id = _alerted_person_id(budget)
    transaction.on_commit(
        lambda: budget_alert_send(
            budget_id=budget.pk, period=period, threshold=threshold, person_id=person_id
        ),
        robust=True,  # a mail server that is down must not fail a submit already committed
    )
    transaction.on_commit(
        lambda: budget_alert_emit(
            budget_id=budget.pk, period=period, threshold=threshold, person_id=person_id
        ),
        robust=True,
    )


def _alerted_person_id(budget: Budget) -> int | None:
    """The person an alert is for, when the budget alone does not say: the default personal
    budget is one row, and each person's cap."""
    return budget.person_id if budget.is_personal_default else None


def _claim_alert(budget: Budget, period: date, threshold: int) -> bool:
    """True for the one submit that records this alert first."""
    try:
        _, created = BudgetAlert.objects.get_or_create(
            budget_id=budget.pk,
            person_id=_alerted_person_id(budget),
            period=period,
            threshold=threshold,
        )
    except IntegrityError:  # a concurrent submit recorded it between our get and our create
        return False
    return created


def settle(*, subject: Model) -> None:
    """The provider completed: the hold becomes a charge for what it billed.

    Every entry of a run goes where its hold went: a run moved to another project while it ran
    is paid by the project (and budget) that held the money for it, never half by each.

    Two statements (on every completed run): the subject's entries are read at once, and the
    release and the charge that are missing are written in one INSERT. No savepoint of its own:
    inside a caller's transaction an error rolls that back whole."""
    if subject.cost is None:
        return
    with transaction.atomic(savepoint=False):
        hold: tuple[Decimal, date, int | None] | None = None
        kinds: set[str] = set()
        for kind, amount, period, project_id in (
            _entries_of(subject)
            .filter(kind__in=(EntryKind.HOLD, EntryKind.RELEASE, EntryKind.CHARGE))
            .order_by("pk")
            .values_list("kind", "amount", "period", "project_id")
        ):
            kinds.add(kind)
            if kind == EntryKind.HOLD and hold is None:
                hold = (amount, period, project_id)
        missing = []
        if hold is not None and EntryKind.RELEASE not in kinds:
            missing.append(
                _new_entry(subject, EntryKind.RELEASE, hold[0], period=hold[1], project_id=hold[2])
            )
        if EntryKind.CHARGE not in kinds:
            project_id = hold[2] if hold is not None else subject.project_id
            missing.append(
                _new_entry(subject, EntryKind.CHARGE, subject.cost, project_id=project_id)
            )
        if missing:
            LedgerEntry.objects.bulk_create(missing)


@transaction.atomic
def release(*, subject: Model) -> None:
    """It ended without a charge (failed, refused, given up): free its hold."""
    _release_hold(subject)


def _entries_of(subject: Model):
    return LedgerEntry.objects.filter(**{_paid(subject).column: subject})


def _release_hold(subject: Model) -> None:
    hold = _entries_of(subject).filter(kind=EntryKind.HOLD).order_by("pk").first()
    if hold is None:
        return
    if not _entries_of(subject).filter(kind=EntryKind.RELEASE).exists():
        # Where the hold went, as settle does (the run may have moved since).
        _new_entry(
            subject, EntryKind.RELEASE, hold.amount, period=hold.period, project_id=hold.project_id
        ).save(force_insert=True)


def _new_entry(
    subject: Model,
    kind: str,
    amount: Decimal,
    *,
    project_id: int | None,
    period: date | None = None,
) -> LedgerEntry:
    """An entry of `subject`'s, in `project_id`: the subject's project for its hold, the hold's
    for everything after it (settle, _release_hold)."""
    return LedgerEntry(
        **{_paid(subject).column: subject},
        person_id=payer_id(subject),
        project_id=project_id,
        kind=kind,
        amount=amount,
        period=period or month_of(subject.created_at),
    )


class BudgetSetByStaff(Exception):
    """A project owner tried to change or remove a cap that staff set."""

    def __str__(self) -> str:
        return "Staff set this project's budget: only an admin can change or remove it."


@transaction.atomic
def project_budget_set(*, project, monthly_limit: Decimal | None, by: AbstractBaseUser) -> None:
    """Set a project's monthly cap, or remove it (None), as `by` (whom the caller checked may
    manage the project); recorded in the audit trail. A cap staff set is staff's: anyone else
    gets BudgetSetByStaff."""
    current = Budget.objects.select_for_update().filter(project=project).first()
    if current is not None and current.set_by_staff and not by.is_staff:
        raise BudgetSetByStaff
    if monthly_limit is None:
        if current is not None:
            budget_recorded(current, by=by, before=current.monthly_limit, after=None)
            current.delete()
        return
    before = current.monthly_limit if current is not None else None
    budget = current or Budget(project=project)
    budget.monthly_limit = monthly_limit
    budget.set_by = by
    budget.set_by_staff = by.is_staff
    budget.save()
    budget_recorded(budget, by=by, before=before, after=monthly_limit)


def budget_recorded(budget: Budget, *, by, before: Decimal | None, after: Decimal | None) -> None:
    """The audit entry of a budget set, changed or removed (here or in the admin), in the
    trail of its project if it has one. Nothing is recorded when nothing changed."""
    if before == after:
        return
    if before is None:
        action = Action.BUDGET_SET
    elif after is None:
        action = Action.BUDGET_REMOVED
    else:
        action = Action.BUDGET_CHANGED
    record(
        action,
        actor=by,
        target=budget,
        project=budget.project,
        before={"monthly limit": f"${before:.3f}"} if before is not None else None,
        after={"monthly limit": f"${after:.3f}"} if after is not None else None,
    )
