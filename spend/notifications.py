"""Mails about budgets: who is told when a budget reaches 80 % or 100 % of its month.

Called after the commit of the submit that crossed the threshold (see `services.reserve`),
with ids and plain values only, so it could move to a task unchanged.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from hooks.models import Event
from hooks.services import event_emit
from projects.models import Role

from .models import Budget
from .services import ZERO, percent_used, spent_in


def budget_alert_send(
    *, budget_id: int, period: date, threshold: int, person_id: int | None = None
) -> int:
    """Mail the budget's owners that `period` has used `threshold` percent of it. Returns the
    number of mails sent (0 when the budget is gone or nobody has an address). `person_id`
    says whose cap the default personal budget was."""
    budget = Budget.objects.select_related("person", "project").filter(pk=budget_id).first()
    if budget is None:
        return 0
    if budget.is_personal_default:
        if person_id is None:
            return 0
        budget = budget.applied_to(person_id)
    recipients = budget_owners_emails(budget)
    if not recipients:
        return 0
    used = spent_in(budget, period)
    context = {
        "budget": budget,
        "name": _name_of(budget),
        "period": period,
        "threshold": threshold,
        "used": used,
        "left": max(budget.monthly_limit - used, ZERO),
        "percent": percent_used(used, budget.monthly_limit),
    }
    subject = " ".join(render_to_string("spend/mail/budget_alert_subject.txt", context).split())
    body = render_to_string("spend/mail/budget_alert.txt", context)
    return send_mail(subject, body, None, recipients)


def budget_alert_emit(
    *, budget_id: int, period: date, threshold: int, person_id: int | None = None
) -> None:
    """Tell the budget's endpoints (the project's, or the person's own) of the alert; the
    organisation's budget has none."""
    budget = Budget.objects.select_related("person", "project").filter(pk=budget_id).first()
    if budget is None:
        return
    if budget.is_personal_default:
        if person_id is None:
            return
        budget = budget.applied_to(person_id)
    if not budget.project_id and not budget.person_id:
        return
    used = spent_in(budget, period)
    event_emit(
        kind=Event.BUDGET_100 if threshold >= 100 else Event.BUDGET_80,
        project_id=budget.project_id,
        person_id=budget.person_id,
        data={
            "budget": {
                "scope": budget.scope_label,
                "project": str(budget.project.uuid) if budget.project else None,
                "month": period.strftime("%Y-%m"),
                "threshold_percent": threshold,
                "monthly_limit": f"{budget.monthly_limit:.3f}",
                "used": f"{used:.3f}",
                "currency": "USD",
            }
        },
        text=f"{budget.scope_label.capitalize()} has used {threshold} % of its month "
        f"(US$ {used:.2f} of {budget.monthly_limit:.2f}).",
        path=reverse("spend:project", args=[budget.project.uuid])
        if budget.project
        else reverse("spend:mine"),
    )


def budget_owners_emails(budget: Budget) -> list[str]:
    """Who answers for a budget: the person for their own, a project's owners for the
    project's, the staff for the organisation's."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if budget.person_id:
        users = users.filter(pk=budget.person_id)
    elif budget.project_id:
        users = users.filter(
            memberships__project_id=budget.project_id, memberships__role=Role.OWNER
        )
    else:
        users = users.filter(is_staff=True)
    return sorted(set(users.values_list("email", flat=True)))


def _name_of(budget: Budget) -> str:
    # A person's budget is mailed to that person only.
    return "your monthly budget" if budget.person_id else budget.scope_label
