"""Warnings at 80 % and 100 % of a budget: a banner on the Generate page, and one mail per
threshold per budget per month to whoever answers for the budget."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from generations import services
from generations.services.submission import GenerationParams
from projects.models import Role
from spend.models import Budget, BudgetAlert
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db

TEN_IMAGES = Decimal("0.280")  # ten 1k images at $0.028


@pytest.fixture
def ada(user):
    user.email = "ada@example.com"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def submit(pipeline, django_capture_on_commit_callbacks):
    """Create a generation as the view does, running what waits for the commit."""

    def run(owner, images: int, project=None) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.generation_create(
                owner=owner, params=GenerationParams(prompt="p", num_images=images), project=project
            )

    return run


def _page(client, person) -> str:
    client.force_login(person)
    return " ".join(client.get(reverse("generations:generate")).content.decode().split())


def test_no_banner_below_80_percent(client, ada, submit) -> None:
    Budget.objects.create(person=ada, monthly_limit=TEN_IMAGES)
    submit(ada, 7)
    assert "budget-banner" not in _page(client, ada)


def test_the_banner_at_80_and_at_100_percent(client, ada, submit) -> None:
    Budget.objects.create(person=ada, monthly_limit=Decimal("1.40"))  # fifty images
    submit(ada, 9)
    submit(ada, 9)
    submit(ada, 9)
    submit(ada, 9)
    submit(ada, 6)  # 42 images: $1.176, 84 %
    html = _page(client, ada)
    assert "You have used 84 % of your monthly budget ($1.18 of $1.40)." in html
    assert "budget-warn" in html and "refused" not in html
    submit(ada, 8)  # 50 images: 100 %
    html = _page(client, ada)
    assert "You have used 100 % of your monthly budget ($1.40 of $1.40)." in html
    assert "budget-full" in html and "are refused" in html


def test_the_banner_names_the_project_and_the_organisation(client, ada, outsider, submit) -> None:
    harbour = make_project(ada, "Harbour")
    Budget.objects.create(project=harbour, monthly_limit=TEN_IMAGES)
    Budget.objects.create(is_organisation=True, monthly_limit=TEN_IMAGES)
    submit(ada, 9, project=harbour)
    html = _page(client, ada)
    assert "Harbour has used 90 % of its monthly budget ($0.25 of $0.28)." in html
    assert "The organisation has used 90 % of its monthly budget" in html
    # Someone outside Harbour sees the organisation's warning, not the project's.
    html = _page(client, outsider)
    assert "The organisation has used 90 %" in html and "Harbour" not in html


def test_one_mail_at_80_one_at_100_and_none_again_that_month(ada, submit, mailoutbox) -> None:
    Budget.objects.create(person=ada, monthly_limit=TEN_IMAGES)
    submit(ada, 7)
    assert mailoutbox == []
    submit(ada, 1)  # 80 %
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.com"]
    assert "80 % of your monthly budget" in mailoutbox[0].subject
    assert "$0.22 charged or held, $0.06 left" in mailoutbox[0].body
    submit(ada, 1)  # 90 %: already told
    assert len(mailoutbox) == 1
    submit(ada, 1)  # 100 %
    assert len(mailoutbox) == 2
    assert "used up" in mailoutbox[1].subject
    assert "refused" in mailoutbox[1].body
    assert BudgetAlert.objects.filter(threshold=80).count() == 1
    assert BudgetAlert.objects.filter(threshold=100).count() == 1


def test_a_jump_past_both_thresholds_sends_one_mail(ada, submit, mailoutbox) -> None:
    Budget.objects.create(person=ada, monthly_limit=TEN_IMAGES)
    submit(ada, 1)
    submit(ada, 9)
    assert len(mailoutbox) == 1 and "used up" in mailoutbox[0].subject
    assert BudgetAlert.objects.count() == 2  # 80 % is not mailed later either


def test_the_mail_waits_for_the_commit(ada, pipeline, mailoutbox) -> None:
    Budget.objects.create(person=ada, monthly_limit=TEN_IMAGES)
    services.generation_create(owner=ada, params=GenerationParams(prompt="p", num_images=8))
    assert mailoutbox == []  # the test's transaction never commits


def test_a_project_budget_mails_the_projects_owners(
    ada, django_user_model, submit, mailoutbox
) -> None:
    harbour = make_project(ada, "Harbour")
    editor = django_user_model.objects.create_user("bob", email="bob@example.com")
    co_owner = django_user_model.objects.create_user("cy", email="cy@example.com")
    add_member(harbour, editor, Role.EDITOR)
    add_member(harbour, co_owner, Role.OWNER)
    Budget.objects.create(project=harbour, monthly_limit=TEN_IMAGES)
    Budget.objects.create(person=editor, monthly_limit=Decimal("10"))
    submit(editor, 8, project=harbour)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.com", "cy@example.com"]
    assert "the monthly budget of Harbour" in mailoutbox[0].subject


def test_the_organisation_budget_mails_the_staff(
    ada, django_user_model, submit, mailoutbox
) -> None:
    django_user_model.objects.create_user("root", email="root@example.com", is_staff=True)
    django_user_model.objects.create_user(
        "gone", email="gone@example.com", is_staff=True, is_active=False
    )
    Budget.objects.create(is_organisation=True, monthly_limit=TEN_IMAGES)
    submit(ada, 8)
    assert [m.to for m in mailoutbox] == [["root@example.com"]]
    assert "the organisation's monthly budget" in mailoutbox[0].subject


def test_a_new_month_starts_over_in_the_sites_time_zone(
    ada, submit, mailoutbox, settings, monkeypatch
) -> None:
    settings.TIME_ZONE = "America/New_York"
    new_york = ZoneInfo("America/New_York")
    Budget.objects.create(person=ada, monthly_limit=TEN_IMAGES)
    # 23:30 on 31 March in New York is already April in UTC: it still counts in March.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 31, 23, 30, tzinfo=new_york))
    submit(ada, 8)
    assert len(mailoutbox) == 1 and "March 2026" in mailoutbox[0].subject
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 4, 1, 0, 30, tzinfo=new_york))
    submit(ada, 7)
    assert len(mailoutbox) == 1  # April's 70 %
    submit(ada, 1)
    assert len(mailoutbox) == 2 and "April 2026" in mailoutbox[1].subject
