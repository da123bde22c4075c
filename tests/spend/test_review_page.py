"""The cost review as staff find and use it: the nav link, blurred NSFW thumbnails, series,
and the CSV of every run."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from generations.models import Generation, OutputImage, ResultType
from tests.spend.test_views import spend_run

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_nav_links_the_cost_review_for_staff_only(client, staff, user) -> None:
    link = f'href="{reverse("spend:review")}"'
    client.force_login(user)
    assert link not in client.get(reverse("spend:mine")).content.decode()
    client.force_login(staff)
    html = client.get(reverse("spend:mine")).content.decode()
    nav = html.split('<nav id="main-nav" aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert f"{link}>Cost review</a>" in nav
    review = client.get(reverse("spend:review")).content.decode()
    assert f'{link} aria-current="page">Cost review</a>' in review
    mine = f'href="{reverse("spend:mine")}"'
    assert f"{mine}>Spend</a>" in review  # one current page, not two


def test_nsfw_thumbnails_are_blurred_on_the_review(client, staff, user) -> None:
    flagged = spend_run(user, charge="0.5", prompt="flagged")
    clean = spend_run(user, charge="0.4", prompt="clean")
    OutputImage.objects.filter(generation=flagged).update(nsfw=True)
    client.force_login(staff)
    html = client.get(reverse("spend:review")).content.decode()
    thumb = reverse("spend:review_thumbnail", args=[flagged.uuid])
    row = html.split(thumb, 1)[0].rsplit("<tr", 1)[1]
    assert 'class="thumb review-thumb-link nsfw"' in row
    clean_row = html.split(reverse("spend:review_thumbnail", args=[clean.uuid]), 1)[0]
    assert 'class="thumb review-thumb-link"' in clean_row.rsplit("<tr", 1)[1]
    assert "js/spend.js" in html  # the click that shows it


def test_a_series_shows_the_images_it_delivered(client, staff, user) -> None:
    run = spend_run(user, charge="0.112")
    Generation.objects.filter(pk=run.pk).update(
        result_type=ResultType.SERIES, num_images=1, output_urls=["a", "b", "c", "d"]
    )
    client.force_login(staff)
    review = client.get(reverse("spend:review")).content.decode()
    mine = (client.force_login(user), client.get(reverse("spend:mine")))[1].content.decode()
    for html in (review, mine):
        assert "series · 4 images · 1k" in html
        assert "1 × 1k" not in html


def test_the_csv_exports_every_run_in_the_range(client, staff, user, outsider) -> None:
    runs = [spend_run(user, charge=f"0.{n + 10:03d}") for n in range(14)]
    failed = spend_run(outsider, charge=None, hold="0.028", released=True, status="failed")
    old = spend_run(user, charge="5", at=timezone.now() - timedelta(days=400))
    client.force_login(staff)
    start = timezone.localdate().replace(day=1)
    query = {"start": start.isoformat(), "end": timezone.localdate().isoformat()}

    html = client.get(reverse("spend:review"), query).content.decode()
    assert html.split('id="runs"', 1)[1].split("</table>", 1)[0].count("<tr>") == 11  # head + 10

    rows = _csv(client.get(reverse("spend:review"), {**query, "format": "csv", "table": "runs"}))
    uuids = [row["generation"] for row in rows]
    assert set(uuids) == {str(g.uuid) for g in [*runs, failed]}
    assert str(old.uuid) not in uuids
    assert len(rows) == 15 and len(set(uuids)) == 15
    by_uuid = {row["generation"]: row for row in rows}
    assert by_uuid[str(runs[0].uuid)]["spend_usd"] == "0.0100"
    assert by_uuid[str(failed.uuid)]["status"] == "failed"
    assert by_uuid[str(failed.uuid)]["spend_usd"] == "0.0000"


def test_the_review_draws_a_chart_for_a_long_range(client, staff, user) -> None:
    spend_run(user, charge="0.028")
    client.force_login(staff)
    today = timezone.localdate()
    html = client.get(
        reverse("spend:review"),
        {"start": (today - timedelta(days=199)).isoformat(), "end": today.isoformat()},
    ).content.decode()
    assert '<svg class="spend-chart"' in html and 'data-bucket="month"' in html
    assert '<rect class="bar"' in html


def test_my_spend_compares_with_last_month(client, user) -> None:
    now = timezone.now()
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    spend_run(user, charge="0.5")
    spend_run(
        user, charge="0.25", at=now.replace(year=last_month.year, month=last_month.month, day=1)
    )
    spend_run(
        user, charge="1", at=now.replace(year=last_month.year, month=last_month.month, day=28)
    )
    client.force_login(user)
    html = client.get(reverse("spend:mine")).content.decode()
    comparison = html.split('id="comparison"', 1)[1].split("</dl>", 1)[0]
    values = [part.split("</dd>", 1)[0] for part in comparison.split("<dd>")[1:]]
    day = timezone.localdate().day
    assert values[0] == "$0.50"
    assert values[1] == ("$1.25" if day >= 28 else "$0.25")
    assert values[2] == "$1.25"


def test_the_review_chart_draws_the_organisations_budget_pace(client, staff, user) -> None:
    from decimal import Decimal

    from spend.models import Budget

    spend_run(user, charge="0.028")
    client.force_login(staff)
    assert "budget-line" not in client.get(reverse("spend:review")).content.decode()
    Budget.objects.create(is_organisation=True, monthly_limit=Decimal("365"))
    html = client.get(reverse("spend:review")).content.decode()
    assert '<polyline class="budget-line"' in html and "Budget pace: $12.00 a day" in html
