"""Budgets that cannot be overspent, even by submits fired at once."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from generations import services
from generations.models import Generation
from generations.services.submission import GenerationParams
from spend.models import Budget, LedgerEntry
from spend.services import BudgetExceeded
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def test_a_submit_over_the_persons_cap_is_refused_with_what_is_left(user, pipeline) -> None:
    Budget.objects.create(person=user, monthly_limit=Decimal("0.10"))
    services.generation_create(owner=user, params=GenerationParams(prompt="a", num_images=3))
    with pytest.raises(BudgetExceeded) as caught:
        services.generation_create(owner=user, params=GenerationParams(prompt="b", num_images=1))
    message = str(caught.value)
    assert "costs $0.03" in message and "$0.02 is left" in message
    assert "your monthly budget" in message and "Ask an admin" in message
    assert Generation.objects.count() == 1  # nothing reached the provider or the database
    assert pipeline.names() == ["submit_due"]


def test_the_projects_cap_and_the_organisations_cap_apply_too(user, pipeline) -> None:
    project = make_project(user, "Harbour")
    Budget.objects.create(project=project, monthly_limit=Decimal("0.05"))
    with pytest.raises(BudgetExceeded, match="the monthly budget of Harbour"):
        services.generation_create(
            owner=user, params=GenerationParams(prompt="a", num_images=2), project=project
        )
    services.generation_create(owner=user, params=GenerationParams(prompt="personal", num_images=2))
    Budget.objects.create(is_organisation=True, monthly_limit=Decimal("0.06"))
    with pytest.raises(BudgetExceeded, match="organisation"):
        services.generation_create(owner=user, params=GenerationParams(prompt="c", num_images=1))


def test_the_form_shows_the_refusal_and_keeps_the_input(client, user, pipeline) -> None:
    Budget.objects.create(person=user, monthly_limit=Decimal("0.05"))
    client.force_login(user)
    response = client.post(
        reverse("generations:generate"),
        {
            "prompt": "too big",
            "aspect_ratio": "1:1",
            "resolution": "4k",
            "result_type": "single",
            "num_images": 1,
        },
    )
    html = response.content.decode()
    # Said once: by the quote beside the button, not again above the form.
    assert html.count("only $0.05 is left") == 1
    assert '<p class="error" id="quote-refusal">This run costs' in html
    assert "too big</textarea>" in html
    assert Generation.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_twenty_submits_at_once_against_a_budget_for_ten(django_user_model, pipeline) -> None:
    person = django_user_model.objects.create_user("racer", password="pw-racer-1234")
    Budget.objects.create(person=person, monthly_limit=Decimal("0.280"))  # ten 1k images
    start = threading.Barrier(20)
    outcomes: list[str] = []

    def submit(n: int) -> None:
        try:
            start.wait()
            services.generation_create(owner=person, params=GenerationParams(prompt=f"run {n}"))
            outcomes.append("reserved")
        except BudgetExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused"] * 10 + ["reserved"] * 10
    assert Generation.objects.filter(owner=person).count() == 10
    assert LedgerEntry.objects.filter(person=person).count() == 10
