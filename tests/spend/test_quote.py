"""The quote before submit: what each applicable budget has left, and a refusal foretold."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from generations import services
from generations.services.submission import GenerationParams
from projects.models import Role
from spend.models import Budget
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db


def _quote(client, **params: object) -> str:
    query = {"resolution": "2k", "num_images": 4, "result_type": "single", **params}
    return " ".join(client.get(reverse("generations:quote"), query).content.decode().split())


def test_without_budgets_the_quote_has_no_clause(client, user) -> None:
    client.force_login(user)
    html = _quote(client)
    assert "4 × 2k × $0.0280 = <strong>$0.1120</strong>" in html
    assert "left" not in html
    assert 'class="error"' not in html


def test_the_quote_says_what_is_left_of_the_persons_budget(client, user, pipeline) -> None:
    Budget.objects.create(person=user, monthly_limit=Decimal("3.50"))
    services.generation_create(owner=user, params=GenerationParams(prompt="a", num_images=4))
    client.force_login(user)
    html = _quote(client)
    # $3.50 - 4 × $0.0280 held = $3.3880
    assert '$0.1120</strong> — <span class="quote-left">$3.39 left of your monthly budget' in html
    assert 'class="error"' not in html


def test_one_clause_per_budget_person_project_organisation(client, user, pipeline) -> None:
    harbour = make_project(user, "Harbour")
    Budget.objects.create(is_organisation=True, monthly_limit=Decimal("100"))
    Budget.objects.create(project=harbour, monthly_limit=Decimal("41.20"))
    Budget.objects.create(person=user, monthly_limit=Decimal("3.40"))
    client.force_login(user)
    html = _quote(client, project=str(harbour.uuid))
    person = html.index("$3.40 left of your monthly budget")
    project = html.index("$41.20 left in Harbour")
    organisation = html.index("$100.00 left in the organisation's monthly budget")
    assert person < project < organisation


def test_the_project_select_changes_the_quote(client, user, outsider, pipeline) -> None:
    harbour = make_project(user, "Harbour")
    Budget.objects.create(project=harbour, monthly_limit=Decimal("5"))
    services.generation_create(
        owner=user, params=GenerationParams(prompt="a", num_images=2), project=harbour
    )
    client.force_login(user)
    assert "$4.94 left in Harbour" in _quote(client, project=str(harbour.uuid))
    assert "Harbour" not in _quote(client, project="")
    # Someone else's project (or one they only view) counts as personal, and stays unnamed.
    secret = make_project(outsider, "Secret")
    Budget.objects.create(project=secret, monthly_limit=Decimal("1"))
    add_member(secret, user, Role.VIEWER)
    assert "Secret" not in _quote(client, project=str(secret.uuid))


def test_the_quote_warns_before_a_run_would_cross_a_cap(client, user, pipeline) -> None:
    Budget.objects.create(person=user, monthly_limit=Decimal("0.10"))
    client.force_login(user)
    html = _quote(client)
    assert (
        '<p class="error" id="quote-refusal">This run costs $0.11, but only $0.10 is left' in html
    )
    assert "Ask an admin" in html
    assert 'class="error"' not in _quote(client, num_images=3)  # $0.0840 fits


def test_a_series_is_checked_against_what_it_holds(client, user) -> None:
    Budget.objects.create(person=user, monthly_limit=Decimal("0.20"))
    client.force_login(user)
    html = _quote(client, result_type="series", num_images=1)
    assert "This run costs $0.25" in html  # nine images held


def test_the_generate_page_quotes_for_the_remembered_project(client, user, pipeline) -> None:
    harbour = make_project(user, "Harbour")
    Budget.objects.create(project=harbour, monthly_limit=Decimal("2"))
    services.generation_create(owner=user, params=GenerationParams(prompt="a"), project=harbour)
    client.force_login(user)
    html = client.get(reverse("generations:generate")).content.decode()
    assert "$1.97 left in Harbour" in html
    assert "#generate-form [name=project]" in html  # the live quote sends the project too


def test_the_quote_needs_a_login(client) -> None:
    response = client.get(reverse("generations:quote"))
    assert response.status_code == 302
