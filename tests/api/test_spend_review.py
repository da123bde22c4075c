"""GET /api/v1/spend/review: the cost review page's tables (reports/selectors.py: review,
every_run, budgets_near_cap) for staff, with the page's own range form; to anyone else it does
not exist, as the page does not."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from accounts.services import token_create
from generations.models import PromptEnhancement
from projects.models import Role
from spend.models import Budget, EntryKind, LedgerEntry
from spend.services import month_of
from tests.factories import add_member
from tests.spend.test_views import spend_run

V1 = "/api/v1/spend/review"


def test_staff_read_the_pages_tables(api, world):
    alice, bob = world.users["alice"], world.users["bob"]
    big = spend_run(bob, project=world.project, charge="0.5", prompt="big harbour")
    spend_run(alice, charge="0.028")
    failed = spend_run(alice, charge=None, hold="0.028", released=True, status="failed")
    old = spend_run(alice, charge="5", at=timezone.now() - timedelta(days=400))
    use = PromptEnhancement.objects.create(owner=alice, text="a kite", price=Decimal("0.001"))
    LedgerEntry.objects.create(
        enhancement=use,
        person=alice,
        kind=EntryKind.CHARGE,
        amount=Decimal("0.001"),
        period=month_of(use.created_at),
    )
    Budget.objects.create(person=alice, monthly_limit=Decimal("0.03"))

    response = api.get(V1, as_="staff")
    assert response.status_code == 200
    review = response.json()
    this_month = timezone.localdate().replace(day=1)
    assert review["start"] == this_month.isoformat()
    assert review["total"] == "0.5290"
    assert review["by_person"] == [
        {"name": "bob", "total": "0.5000"},
        {"name": "alice", "total": "0.0290"},
    ]
    assert review["by_project"] == [
        {"name": "Harbour", "total": "0.5000"},
        {"name": "Personal", "total": "0.0290"},
    ]
    assert [row["total"] for row in review["by_day"]] == ["0.5290"]
    first = review["runs"][0]
    assert first["uuid"] == str(big.uuid)
    assert (first["kind"], first["person"], first["project"], first["prompt"]) == (
        "generation",
        "bob",
        "Harbour",
        "big harbour",
    )
    assert (first["resolution"], first["images"], first["status"]) == ("1k", 1, "done")
    assert (first["charged"], first["spend"]) == ("0.5000", "0.5000")
    enhancer = next(r for r in review["runs"] if r["kind"] == "prompt enhancer")
    assert (enhancer["prompt"], enhancer["resolution"], enhancer["images"]) == (
        "a kite",
        None,
        None,
    )
    assert [r["uuid"] for r in review["failed"]] == [str(failed.uuid)]
    assert review["failed"][0]["spend"] == "0.0000"
    assert review["near_caps"] == [
        {"person": "alice", "percent": 96, "used": "0.0290", "limit": "0.0300", "left": "0.0010"}
    ]
    assert str(old.uuid) not in {r["uuid"] for r in review["runs"]}


def test_the_same_total_as_the_page_for_the_same_range(api, world, client):
    spend_run(world.users["bob"], project=world.project, charge="0.25")
    spend_run(world.users["alice"], charge="0.125", at=timezone.now() - timedelta(days=40))
    today = timezone.localdate()
    query = {"start": (today - timedelta(days=60)).isoformat(), "end": today.isoformat()}
    client.force_login(world.users["staff"])
    page = client.get(reverse("spend:review"), query)
    review = api.get(V1, as_="staff", **query).json()
    assert review["total"] == "0.3750" == f"{page.context['review'].total:.4f}"
    assert len(review["by_day"]) == len(page.context["review"].days) == 2


def test_every_run_as_the_pages_csv(api, world):
    runs = [spend_run(world.users["alice"], charge=f"0.{n + 10:03d}") for n in range(12)]
    biggest = api.get(V1, as_="staff").json()["runs"]
    assert len(biggest) == 10
    every = api.get(V1, as_="staff", runs="all").json()["runs"]
    # Every generation asked for in the range, oldest first: the world's two (no spend) too.
    world_runs = [world.project_image.generation, world.personal_image.generation]
    assert {r["uuid"] for r in every} == {str(g.uuid) for g in [*runs, *world_runs]}
    ours = [r["uuid"] for r in every if r["uuid"] in {str(g.uuid) for g in runs}]
    assert ours == [str(g.uuid) for g in runs]
    assert api.get(V1, as_="staff", runs="some").status_code == 422


def test_every_run_names_an_element_made_on_kling_and_who_paid(api, world):
    from tests.factories import make_element

    made = make_element(world.users["bob"], project=world.project, name="Gull")
    LedgerEntry.objects.create(
        element=made,
        person=world.users["bob"],
        project=world.project,
        kind=EntryKind.CHARGE,
        amount=Decimal("0.1"),
        period=month_of(made.created_at),
    )
    every = api.get(V1, as_="staff", runs="all").json()["runs"]
    [row] = [r for r in every if r["uuid"] == str(made.uuid)]
    assert (row["kind"], row["prompt"], row["person"], row["project"]) == (
        "kling element",
        "Gull",
        "bob",
        "Harbour",
    )
    assert (row["resolution"], row["images"], row["status"], row["spend"]) == (
        None,
        None,
        None,
        "0.1000",
    )


def test_the_range_forms_messages(api, world):
    today = timezone.localdate()
    cases = [
        ({"start": today.isoformat()}, {"end": ["This field is required."]}),
        (
            {"start": today.isoformat(), "end": (today - timedelta(days=1)).isoformat()},
            {"__all__": ["The end comes before the start."]},
        ),
        (
            {"start": (today - timedelta(days=400)).isoformat(), "end": today.isoformat()},
            {"__all__": ["Choose at most a year."]},
        ),
    ]
    for query, errors in cases:
        response = api.get(V1, as_="staff", **query)
        assert response.status_code == 422, query
        assert response.json()["error"]["field_errors"] == errors
    bad = api.get(V1, as_="staff", start="99999-01-01", end="x")
    assert bad.status_code == 422
    assert set(bad.json()["error"]["field_errors"]) == {"start", "end"}


def test_a_staff_token_limited_to_a_project_is_refused(api, world):
    staff = world.users["staff"]
    add_member(world.other_project, staff, Role.VIEWER)
    made = token_create(
        user=staff, name="one project", scopes=["read"], project_id=world.other_project.pk
    )
    response = api.get(V1, as_=made.secret)
    assert response.status_code == 403
    assert "spans them all" in response.json()["error"]["message"]


def test_someone_who_stops_being_staff_stops_reading_it(api, world):
    staff = world.users["staff"]
    assert api.get(V1, as_="staff").status_code == 200
    staff.is_staff = False
    staff.save(update_fields=["is_staff"])
    assert api.get(V1, as_="staff").status_code == 404


def test_the_page_and_the_api_read_the_range_alike(api, world, client):
    from reports.selectors import month_end

    client.force_login(world.users["staff"])
    this_month = month_of(timezone.now())
    page = client.get(reverse("spend:review"))
    data = page.context["form"].cleaned_data
    review = api.get(V1, as_="staff").json()
    expected = (this_month.isoformat(), month_end(this_month).isoformat())
    assert (data["start"].isoformat(), data["end"].isoformat()) == expected
    assert (review["start"], review["end"]) == expected
    # Either date alone is the range asked for, and the other is missing on both.
    for given in ({"start": "2026-01-01"}, {"end": "2026-01-31"}, {"start": ""}):
        missing = "end" if "start" in given else "start"
        page = client.get(reverse("spend:review"), given)
        assert page.status_code == 400 and missing in page.context["form"].errors, given
        refused = api.get(V1, as_="staff", **given)
        assert refused.status_code == 422, given
        assert missing in refused.json()["error"]["field_errors"], given
