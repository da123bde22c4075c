"""The spend pages: my spend, a project's spend and its budget form, and the chart."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from generations import services
from generations.models import Generation, Status
from generations.services.submission import GenerationParams
from projects.models import Role
from reports.charts import daily_bars
from spend.models import Budget, EntryKind, LedgerEntry
from spend.services import month_of
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db

BAR = re.compile(r'<rect class="bar"[^>]*><title>([^<]*)</title></rect>')


def spend_run(
    owner,
    *,
    project=None,
    charge: str | None = "0.028",
    hold: str | None = None,
    released: bool = False,
    at: datetime | None = None,
    resolution: str = "1k",
    status: str = Status.DONE,
    prompt: str = "a red kite",
) -> Generation:
    """A run with one image (and thumbnails) and its ledger entries: a hold, released and
    replaced by a charge when `charge` is given, or released alone when `released`."""
    generation = make_image(owner, project=project, prompt=prompt).generation
    fields: dict = {"resolution": resolution, "status": status}
    if at is not None:
        fields["created_at"] = at
    Generation.objects.filter(pk=generation.pk).update(**fields)
    generation.refresh_from_db()
    period = month_of(generation.created_at)

    def entry(kind: str, amount: str) -> None:
        LedgerEntry.objects.create(
            generation=generation,
            person=owner,
            project=project,
            kind=kind,
            amount=Decimal(amount),
            period=period,
        )

    held = hold or charge or "0"
    entry(EntryKind.HOLD, held)
    if released or charge is not None:
        entry(EntryKind.RELEASE, held)
    if charge is not None:
        entry(EntryKind.CHARGE, charge)
    return generation


def month_param(at: datetime) -> str:
    return f"{month_of(at):%Y-%m}"


# My spend


def test_my_spend_asks_a_stranger_to_log_in(client) -> None:
    response = client.get(reverse("spend:mine"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_my_spend_shows_only_my_generations_and_their_totals(client, user, outsider) -> None:
    project = make_project(user, "Harbour")
    add_member(project, outsider, Role.EDITOR)
    mine = spend_run(user, charge="0.028", prompt="mine personal")
    in_project = spend_run(user, project=project, charge="0.112", resolution="4k", prompt="mine 4k")
    in_flight = spend_run(user, charge=None, hold="0.056", prompt="mine running")
    spend_run(user, charge=None, hold="0.5", released=True, prompt="mine failed")
    theirs = spend_run(outsider, project=project, charge="9.000", prompt="not mine")
    client.force_login(user)

    html = client.get(reverse("spend:mine")).content.decode()

    assert 'id="month-total">$0.20<' in html  # 0.028 + 0.112 + 0.056 (in flight) + 0
    for generation in (mine, in_project, in_flight):
        assert str(generation.uuid) in html
        image = generation.images.get()
        assert reverse("gallery:image_thumbnail", args=[image.uuid, 256]) in html
    assert str(theirs.uuid) not in html and "not mine" not in html
    assert "$9.0000" not in html
    by_resolution = _table(html, "by-resolution")
    assert by_resolution == [["1k", "$0.0840"], ["4k", "$0.1120"]]
    assert _table(html, "by-project") == [["Harbour", "$0.1120"], ["Personal", "$0.0840"]]


def test_my_spend_shows_my_budget_used_and_left(client, user) -> None:
    Budget.objects.create(person=user, monthly_limit=Decimal("0.100"))
    spend_run(user, charge="0.084")
    client.force_login(user)
    html = client.get(reverse("spend:mine")).content.decode()
    assert "84 % used: $0.08 of $0.10, $0.02 left." in html


def test_my_spend_queries_do_not_grow_with_the_runs(client, user) -> None:
    client.force_login(user)

    def queries_for_the_page() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("spend:mine")).content.decode()
        return len(queries), html

    spend_run(user, prompt="the first")
    client.get(reverse("spend:mine"))  # warm the session
    with_one, _ = queries_for_the_page()
    for n in range(5):
        spend_run(user, prompt=f"run {n}")
    with_six, html = queries_for_the_page()
    assert with_six == with_one
    assert html.count('<a class="thumb') == 6


def test_the_month_picker_shows_an_earlier_month(client, user) -> None:
    earlier = datetime(2025, 3, 10, 12, tzinfo=UTC)
    old = spend_run(user, charge="0.250", at=earlier, prompt="back in march")
    now_run = spend_run(user, charge="0.028", prompt="this month")
    client.force_login(user)

    html = client.get(reverse("spend:mine"), {"month": "2025-03"}).content.decode()
    assert str(old.uuid) in html and str(now_run.uuid) not in html
    assert 'id="month-total">$0.25<' in html
    assert '<option value="2025-03" selected>' in html

    html = client.get(reverse("spend:mine"), {"month": "not-a-month"}).content.decode()
    assert str(now_run.uuid) in html and str(old.uuid) not in html


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1899-12", "2025-13", "\x00"])
def test_a_month_that_cannot_be_shown_shows_this_month_and_says_so(client, user, month) -> None:
    run = spend_run(user, charge="0.028")
    project = make_project(user)
    client.force_login(user)
    for url in (reverse("spend:mine"), reverse("spend:project", args=[project.uuid])):
        response = client.get(url, {"month": month})
        assert response.status_code == 200
        html = response.content.decode()
        assert "does not name a month that can be shown (YYYY-MM, from 1900 to 9998)" in html
        assert f'<option value="{month_of(timezone.now()):%Y-%m}" selected>' in html
    assert str(run.uuid) in client.get(reverse("spend:mine"), {"month": month}).content.decode()


def test_month_and_day_boundaries_follow_the_site_time_zone(client, user, settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    # 23:30 UTC on 31 October is 00:30 on 1 November in Berlin.
    late = spend_run(user, charge="0.028", at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    assert LedgerEntry.objects.filter(generation=late).first().period == date(2026, 11, 1)
    client.force_login(user)

    november = client.get(reverse("spend:mine"), {"month": "2026-11"}).content.decode()
    october = client.get(reverse("spend:mine"), {"month": "2026-10"}).content.decode()

    assert str(late.uuid) in november and str(late.uuid) not in october
    assert BAR.findall(november) == ["Sun 1 Nov 2026: $0.0280"]
    assert BAR.findall(october) == []


def test_spend_through_the_pipeline_counts_holds_in_flight(client, user, pipeline) -> None:
    services.generation_create(owner=user, params=GenerationParams(prompt="queued", num_images=2))
    client.force_login(user)
    html = client.get(reverse("spend:mine")).content.decode()
    assert 'id="month-total">$0.06<' in html  # two 1k images held, not yet charged


# The chart


def test_the_chart_has_one_bar_per_day_with_spend() -> None:
    svg = daily_bars(
        {
            date(2026, 11, 2): Decimal("0.028"),
            date(2026, 11, 5): Decimal("0.5"),
            date(2026, 11, 6): Decimal("0"),
        },
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        label="Spend <of> Ada",
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert BAR.findall(svg) == ["Mon 2 Nov 2026: $0.0280", "Thu 5 Nov 2026: $0.5000"]
    assert "<title>Spend &lt;of&gt; Ada, per day</title>" in svg
    heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
    assert heights[1] > heights[0] * 10


def test_an_empty_month_draws_no_bars() -> None:
    svg = daily_bars({}, start=date(2026, 2, 1), end=date(2026, 2, 28), label="Nothing")
    assert BAR.findall(svg) == []


# Project spend


@pytest.fixture
def harbour(django_user_model, user, outsider):
    """ada owns Harbour, bob edits, carol views; mallory (outsider) is in no project."""
    project = make_project(user, "Harbour")
    bob = django_user_model.objects.create_user("bob", password="pw-bob-123456")
    carol = django_user_model.objects.create_user("carol", password="pw-carol-123456")
    add_member(project, bob, Role.EDITOR)
    add_member(project, carol, Role.VIEWER)
    return project, bob, carol


@pytest.mark.parametrize(
    ("who", "expected"),
    [("ada", 200), ("bob", 403), ("carol", 403), ("mallory", 404), (None, "login")],
)
def test_only_owners_see_project_spend(client, harbour, who, expected, django_user_model) -> None:
    project, *_ = harbour
    if who:
        client.force_login(django_user_model.objects.get(username=who))
    response = client.get(reverse("spend:project", args=[project.uuid]))
    if expected == "login":
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code == expected


def test_project_spend_per_member_per_day_and_budget(client, user, harbour) -> None:
    project, bob, _ = harbour
    Budget.objects.create(project=project, monthly_limit=Decimal("1.000"))
    spend_run(user, project=project, charge="0.112")
    spend_run(bob, project=project, charge="0.500")
    spend_run(bob, project=project, charge=None, hold="0.056")
    spend_run(bob, charge="7.000")  # personal: not the project's
    client.force_login(user)

    html = client.get(reverse("spend:project", args=[project.uuid])).content.decode()

    assert _table(html, "by-member") == [["bob", "$0.5560"], ["ada", "$0.1120"]]
    assert 'id="month-total">$0.67<' in html
    assert "66 % used: $0.67 of $1.00, $0.33 left." in html
    today = timezone.localdate()
    assert BAR.findall(html) == [f"{today:%a %-d %b %Y}: $0.6680"]


@pytest.mark.parametrize(("who", "expected"), [("bob", 403), ("carol", 403), ("mallory", 404)])
def test_only_owners_set_the_project_budget(client, harbour, who, expected, django_user_model):
    project, *_ = harbour
    client.force_login(django_user_model.objects.get(username=who))
    url = reverse("spend:project_budget", args=[project.uuid])
    assert client.post(url, {"monthly_limit": "5"}).status_code == expected
    assert not Budget.objects.filter(project=project).exists()


def test_an_owner_sets_changes_and_clears_the_project_budget(client, user, harbour) -> None:
    project, *_ = harbour
    client.force_login(user)
    url = reverse("spend:project_budget", args=[project.uuid])
    settings_url = reverse("projects:settings", args=[project.uuid])

    assert client.post(url, {"monthly_limit": "12.5"})["Location"] == settings_url
    assert Budget.objects.get(project=project).monthly_limit == Decimal("12.5")
    assert 'value="12.500"' in client.get(settings_url).content.decode()

    client.post(url, {"monthly_limit": "3"})
    assert Budget.objects.get(project=project).monthly_limit == Decimal("3")

    client.post(url, {"monthly_limit": "-1"})  # refused
    assert Budget.objects.get(project=project).monthly_limit == Decimal("3")

    client.post(url, {"monthly_limit": ""})
    assert not Budget.objects.filter(project=project).exists()


# Issue 12, finding 6: a project owner could delete a project budget that staff set.


def test_a_project_owner_cannot_change_or_delete_a_budget_staff_set(
    client, staff, user, harbour
) -> None:
    project, *_ = harbour
    client.force_login(staff)
    added = client.post(
        reverse("admin:spend_budget_add"),
        {"person": "", "project": project.pk, "monthly_limit": "20"},
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    budget = Budget.objects.get(project=project)
    assert (budget.set_by, budget.set_by_staff) == (staff, True)

    client.force_login(user)  # ada owns Harbour
    url = reverse("spend:project_budget", args=[project.uuid])
    settings_url = reverse("projects:settings", args=[project.uuid])
    for limit in ("", "500", "0"):
        response = client.post(url, {"monthly_limit": limit}, follow=True)
        assert "only an admin can change or remove it" in response.content.decode()
        assert Budget.objects.get(project=project).monthly_limit == Decimal("20")

    html = client.get(settings_url).content.decode()
    assert "$20.00 a month</strong>, set by staff" in html
    assert 'name="monthly_limit"' not in html  # read-only: no form to send


def test_staff_change_and_remove_a_budget_staff_set(client, staff, user, harbour) -> None:
    project, *_ = harbour
    budget = Budget.objects.create(
        project=project, monthly_limit=Decimal("20"), set_by=staff, set_by_staff=True
    )
    client.force_login(staff)
    response = client.post(
        reverse("admin:spend_budget_change", args=[budget.pk]),
        {"person": "", "project": project.pk, "monthly_limit": "30"},
    )
    assert response.status_code == 302
    assert Budget.objects.get(project=project).monthly_limit == Decimal("30")
    # A member of staff who also owns the project may use its settings page too.
    add_member(project, staff, Role.OWNER)
    url = reverse("spend:project_budget", args=[project.uuid])
    assert (
        'name="monthly_limit"'
        in client.get(reverse("projects:settings", args=[project.uuid])).content.decode()
    )
    client.post(url, {"monthly_limit": ""})
    assert not Budget.objects.filter(project=project).exists()


def test_a_budget_the_owner_set_stays_the_owners(client, user, harbour) -> None:
    project, *_ = harbour
    client.force_login(user)
    client.post(reverse("spend:project_budget", args=[project.uuid]), {"monthly_limit": "4"})
    budget = Budget.objects.get(project=project)
    assert (budget.set_by, budget.set_by_staff) == (user, False)


def test_the_nav_links_to_my_spend(client, user) -> None:
    client.force_login(user)
    html = client.get(reverse("spend:mine")).content.decode()
    assert f'<a href="{reverse("spend:mine")}" aria-current="page">Spend</a>' in html


def _table(html: str, table_id: str) -> list[list[str]]:
    """The body rows of the table with this id, as text cells."""
    body = html.split(f'id="{table_id}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]
