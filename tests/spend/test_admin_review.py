"""The staff cost review (page and CSV) and the Django admin of the spend models."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from generations.models import Status
from spend.models import Budget, LedgerEntry, Price
from tests.factories import make_project
from tests.spend.test_views import spend_run

pytestmark = pytest.mark.django_db

REVIEW = "spend:review"


def test_a_stranger_is_asked_to_log_in(client) -> None:
    response = client.get(reverse(REVIEW))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_ordinary_person_is_told_it_does_not_exist(client, user) -> None:
    spend_run(user, prompt="secret prompt")
    client.force_login(user)
    for query in ({}, {"format": "csv", "table": "runs"}):
        response = client.get(reverse(REVIEW), query)
        assert response.status_code == 404
        assert b"secret prompt" not in response.content


def test_staff_see_totals_by_person_project_and_day(client, staff, user, outsider) -> None:
    project = make_project(user, "Harbour")
    spend_run(user, project=project, charge="0.112")
    spend_run(user, charge=None, hold="0.056")
    spend_run(outsider, charge="0.028")
    spend_run(outsider, charge="5.000", at=timezone.now() - timedelta(days=400))  # out of range
    client.force_login(staff)

    response = client.get(reverse(REVIEW))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="review-total">$0.20<' in html
    assert html.count('<rect class="bar"') == 1
    assert "$5.0000" not in html


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_exports_hold_the_rows_and_totals(client, staff, user, outsider) -> None:
    project = make_project(user, "Harbour, Ltd")  # a comma: the csv module must quote it
    spend_run(user, project=project, charge="0.112")
    spend_run(user, charge="0.028")
    spend_run(outsider, charge="0.056")
    client.force_login(staff)
    url = reverse(REVIEW)
    start = timezone.localdate().replace(day=1)
    end = timezone.localdate()
    query = {"start": start.isoformat(), "end": end.isoformat(), "format": "csv"}

    people = client.get(url, {**query, "table": "people"})
    expected_name = f'attachment; filename="darkroom-people-{start}-to-{end}.csv"'
    assert people["Content-Disposition"] == expected_name
    rows = _csv(people)
    assert rows == [["person", "spend_usd"], ["ada", "0.1400"], ["mallory", "0.0560"]]

    rows = _csv(client.get(url, {**query, "table": "projects"}))
    assert rows[0] == ["project", "spend_usd"]
    assert sorted(rows[1:]) == [["(personal)", "0.0840"], ["Harbour, Ltd", "0.1120"]]

    rows = _csv(client.get(url, {**query, "table": "days"}))
    assert rows == [["day", "spend_usd"], [end.isoformat(), "0.1960"]]

    rows = _csv(client.get(url, {**query, "table": "runs"}))
    assert rows[0][0] == "generation" and rows[0][-1] == "spend_usd"
    assert sorted(r[-1] for r in rows[1:]) == ["0.0280", "0.0560", "0.1120"]
    assert sum(Decimal(r[-1]) for r in rows[1:]) == Decimal("0.196")

    assert client.get(url, {**query, "table": "secrets"}).status_code == 404


def test_the_biggest_runs_are_ten_and_link_to_the_admin(client, staff, user) -> None:
    runs = [spend_run(user, charge=f"0.{n + 10:03d}") for n in range(12)]
    client.force_login(staff)
    html = client.get(reverse(REVIEW)).content.decode()
    runs_table = html.split('id="runs"', 1)[1].split("</table>", 1)[0]
    for generation in runs[2:]:
        assert reverse("admin:generations_generation_change", args=[generation.pk]) in runs_table
    for generation in runs[:2]:  # the two smallest
        assert reverse("admin:generations_generation_change", args=[generation.pk]) not in (
            runs_table
        )


def test_failed_runs_show_whether_anything_was_charged(client, staff, user) -> None:
    free = spend_run(user, charge=None, hold="0.028", released=True, status=Status.FAILED)
    billed = spend_run(user, charge="0.028", status=Status.FAILED, prompt="billed anyway")
    spend_run(user, charge="0.5")  # done: not in the failed table
    client.force_login(staff)
    start = timezone.localdate().replace(day=1)
    query = {"start": start.isoformat(), "end": timezone.localdate().isoformat()}

    rows = _csv(client.get(reverse(REVIEW), {**query, "format": "csv", "table": "failed"}))

    by_uuid = {r[0]: r for r in rows[1:]}
    assert set(by_uuid) == {str(free.uuid), str(billed.uuid)}
    assert by_uuid[str(free.uuid)][-2:] == ["0.0000", "0.0000"]
    assert by_uuid[str(billed.uuid)][-2:] == ["0.0280", "0.0280"]


def test_people_close_to_their_cap_are_listed(client, staff, user, outsider) -> None:
    Budget.objects.create(person=user, monthly_limit=Decimal("0.100"))
    Budget.objects.create(person=outsider, monthly_limit=Decimal("1.000"))
    spend_run(user, charge="0.084")
    spend_run(outsider, charge="0.100")
    client.force_login(staff)
    html = client.get(reverse(REVIEW)).content.decode()
    near = html.split('id="near-caps"', 1)[1].split("</table>", 1)[0]
    assert "ada" in near and "84 %" in near
    assert "mallory" not in near


def test_a_range_in_the_past_and_a_bad_range(client, staff, user) -> None:
    spend_run(user, charge="0.250", at=datetime(2025, 3, 10, 12, tzinfo=UTC))
    spend_run(user, charge="0.028")
    client.force_login(staff)
    html = client.get(reverse(REVIEW), {"start": "2025-03-01", "end": "2025-03-31"}).content
    assert b'id="review-total">$0.25<' in html
    response = client.get(reverse(REVIEW), {"start": "2025-03-31", "end": "2025-03-01"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("start", "end"), [("9999-12-01", "9999-12-31"), ("0001-01-01", "0001-01-31")]
)
def test_dates_outside_the_calendar_we_keep_are_a_form_error(client, staff, start, end) -> None:
    client.force_login(staff)
    for extra in ({}, {"format": "csv", "table": "runs"}):
        response = client.get(reverse(REVIEW), {"start": start, "end": end, **extra})
        assert response.status_code == 400
        assert "Choose a date between 1900-01-01 and 9998-12-31." in response.content.decode()


# The Django admin


def test_ledger_entries_are_read_only_in_the_admin(client, staff, user) -> None:
    generation = spend_run(user, charge="0.028")
    entry = LedgerEntry.objects.filter(generation=generation).first()
    client.force_login(staff)
    changelist = reverse("admin:spend_ledgerentry_changelist")
    assert client.get(changelist, {"kind__exact": "charge", "q": "ada"}).status_code == 200
    assert client.get(reverse("admin:spend_ledgerentry_add")).status_code == 403
    change = reverse("admin:spend_ledgerentry_change", args=[entry.pk])
    assert client.post(change, {"amount": "99"}).status_code == 403
    delete = reverse("admin:spend_ledgerentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.amount == Decimal("0.028")


def test_staff_edit_budgets_in_the_admin(client, staff, user) -> None:
    budget = Budget.objects.create(person=user, monthly_limit=Decimal("1"))
    client.force_login(staff)
    response = client.post(
        reverse("admin:spend_budget_change", args=[budget.pk]),
        {"person": user.pk, "project": "", "monthly_limit": "2.5"},
    )
    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.monthly_limit == Decimal("2.5")


def test_a_price_that_has_applied_cannot_be_edited_but_new_ones_can_be_added(client, staff) -> None:
    applied = Price.objects.filter(valid_from__lte=timezone.now()).first()
    before = applied.per_image
    client.force_login(staff)
    change = reverse("admin:spend_price_change", args=[applied.pk])
    client.post(
        change,
        {
            "model": applied.model,
            "resolution": applied.resolution,
            "per_image": "99",
            "valid_from_0": "2020-01-01",
            "valid_from_1": "00:00:00",
        },
    )
    applied.refresh_from_db()
    assert applied.per_image == before
    assert client.post(reverse("admin:spend_price_delete", args=[applied.pk]), {"post": "yes"})
    assert Price.objects.filter(pk=applied.pk).exists()

    later = timezone.localtime() + timedelta(days=30)
    response = client.post(
        reverse("admin:spend_price_add"),
        {
            "model": applied.model,
            "resolution": applied.resolution,
            "per_image": "0.030",
            "valid_from_0": f"{later:%Y-%m-%d}",
            "valid_from_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    future = Price.objects.get(per_image=Decimal("0.030"))
    form = client.get(reverse("admin:spend_price_change", args=[future.pk])).content.decode()
    assert 'name="per_image"' in form  # not applied yet: still editable


def test_staff_see_each_runs_thumbnail_and_nobody_else_can(client, django_user_model) -> None:
    from tests.factories import make_image

    owner = django_user_model.objects.create_user("owner", password="pw-owner-1234")
    staff = django_user_model.objects.create_user("boss", password="pw-boss-1234", is_staff=True)
    image = make_image(owner)
    url = reverse("spend:review_thumbnail", args=[image.generation.uuid])
    client.force_login(owner)
    assert client.get(url).status_code == 404  # not staff, even as the author
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
