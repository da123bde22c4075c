"""The prompt enhancer's cost in the ledger, its budgets, and the spend pages that show it."""

from __future__ import annotations

import csv
import io
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from generations.models import PromptEnhancement
from generations.services.enhancing import EnhancementRefused, enhancement_create
from spend.models import Budget, EntryKind, LedgerEntry
from spend.published import PER_USE, PROMPT_OPTIMIZER
from spend.services import month_of, price_for, spent
from tests.factories import make_project
from tests.spend.test_views import spend_run

pytestmark = pytest.mark.django_db

PROMPT = "a red kite over the harbour"


def finish(pipeline, enhancement: PromptEnhancement) -> PromptEnhancement:
    pipeline.run_until(
        lambda: PromptEnhancement.objects.get(pk=enhancement.pk).status in ("done", "failed")
    )
    enhancement.refresh_from_db()
    return enhancement


def entries(enhancement: PromptEnhancement) -> list[tuple[str, Decimal]]:
    return sorted((e.kind, e.amount) for e in LedgerEntry.objects.filter(enhancement=enhancement))


def enhanced(user, pipeline, *, project=None) -> PromptEnhancement:
    return finish(
        pipeline, enhancement_create(owner=user, project=project, text=PROMPT, style="default")
    )


def test_the_enhancer_has_a_dated_price_of_a_tenth_of_a_cent() -> None:
    assert price_for(model=PROMPT_OPTIMIZER, resolution=PER_USE) == Decimal("0.001")


def test_a_use_holds_its_price_then_is_charged_it(user, sim, pipeline) -> None:
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")
    period = month_of(enhancement.created_at)
    assert entries(enhancement) == [(EntryKind.HOLD, Decimal("0.001"))]
    assert spent(period=period, person_id=user.pk) == Decimal("0.001")

    enhancement = finish(pipeline, enhancement)

    assert enhancement.cost == Decimal("0.001")
    assert entries(enhancement) == [
        (EntryKind.CHARGE, Decimal("0.001")),
        (EntryKind.HOLD, Decimal("0.001")),
        (EntryKind.RELEASE, Decimal("0.001")),
    ]
    assert spent(period=period, person_id=user.pk) == Decimal("0.001")
    assert not LedgerEntry.objects.filter(generation__isnull=False).exists()


def test_a_failed_use_releases_its_hold(user, sim, pipeline) -> None:
    sim.fault("fail_prediction", model=PROMPT_OPTIMIZER)
    enhancement = enhanced(user, pipeline)
    assert entries(enhancement) == [
        (EntryKind.HOLD, Decimal("0.001")),
        (EntryKind.RELEASE, Decimal("0.001")),
    ]
    assert spent(period=month_of(enhancement.created_at), person_id=user.pk) == 0


def test_a_use_counts_for_its_project(user, sim, pipeline) -> None:
    project = make_project(user)
    enhancement = enhanced(user, pipeline, project=project)
    period = month_of(enhancement.created_at)
    assert spent(period=period, project_id=project.pk) == Decimal("0.001")


def test_a_budget_with_too_little_left_refuses_the_enhancer(client, user, sim, pipeline) -> None:
    Budget.objects.create(person=user, monthly_limit=Decimal("0.028"))
    spend_run(user, charge="0.028")
    client.force_login(user)

    response = client.post(reverse("generations:enhance"), {"prompt": PROMPT})

    html = response.content.decode()
    assert response.status_code == 200
    assert "The prompt enhancer costs less than $0.01, but nothing is left" in html
    assert "Ask an admin to raise it." in html
    assert not PromptEnhancement.objects.exists()
    assert not LedgerEntry.objects.filter(enhancement__isnull=False).exists()
    assert not pipeline.queued
    assert not sim.requests("prompt-optimizer")


def test_a_project_budget_refuses_it_too(user, sim, pipeline) -> None:
    project = make_project(user)
    Budget.objects.create(project=project, monthly_limit=Decimal("0"))
    with pytest.raises(EnhancementRefused, match="monthly budget of Harbour"):
        enhancement_create(owner=user, project=project, text=PROMPT, style="default")
    enhancement_create(owner=user, project=None, text=PROMPT, style="default")  # personal: fine


@pytest.mark.django_db(transaction=True)
def test_ten_clicks_at_once_against_a_budget_for_five(django_user_model, pipeline) -> None:
    person = django_user_model.objects.create_user("racer", password="pw-racer-1234")
    Budget.objects.create(person=person, monthly_limit=Decimal("0.005"))
    start = threading.Barrier(10)
    outcomes: list[str] = []

    def click(n: int) -> None:
        try:
            start.wait()
            enhancement_create(owner=person, project=None, text=f"idea {n}", style="default")
            outcomes.append("held")
        except EnhancementRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["held"] * 5 + ["refused"] * 5
    assert PromptEnhancement.objects.filter(owner=person).count() == 5
    assert spent(period=month_of(timezone.now()), person_id=person.pk) == Decimal("0.005")


def test_an_entry_is_for_exactly_one_thing(user, sim, pipeline) -> None:
    enhancement = enhanced(user, pipeline)
    generation = spend_run(user)
    period = month_of(timezone.now())
    for subject in ({}, {"enhancement": enhancement, "generation": generation}):
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                person=user, kind=EntryKind.HOLD, amount=1, period=period, **subject
            )
    with pytest.raises(IntegrityError), transaction.atomic():  # one charge per use
        LedgerEntry.objects.create(
            enhancement=enhancement, person=user, kind=EntryKind.CHARGE, amount=1, period=period
        )


# --- the spend pages ---------------------------------------------------------------------------
def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_my_spend_shows_the_enhancer_as_its_own_line(client, user, sim, pipeline) -> None:
    project = make_project(user)
    spend_run(user, charge="0.028")
    enhanced(user, pipeline)
    enhanced(user, pipeline, project=project)
    client.force_login(user)

    html = client.get(reverse("spend:mine")).content.decode()

    assert 'id="month-total">$0.03<' in html
    line = html.split('id="enhancer-spend"', 1)[1].split("</tr>", 1)[0]
    assert "Prompt enhancer" in line and "2 uses" in line and "$0.0020" in line
    # Not a resolution: its own line under "Other paid calls".
    by_resolution = html.split('id="by-resolution"', 1)[1].split("</table>", 1)[0]
    assert "Prompt enhancer" not in by_resolution and "$0.0280" in by_resolution
    other = html.split('id="other-calls"', 1)[1].split("</table>", 1)[0]
    assert "Prompt enhancer" in other and "$0.0020" in other
    by_project = html.split('id="by-project"', 1)[1].split("</table>", 1)[0]
    assert "Harbour" in by_project and "$0.0010" in by_project and "$0.0290" in by_project


def test_project_spend_counts_the_enhancer(client, user, sim, pipeline) -> None:
    project = make_project(user)
    spend_run(user, project=project, charge="0.056")
    enhanced(user, pipeline, project=project)
    client.force_login(user)
    html = client.get(reverse("spend:project", args=[project.uuid])).content.decode()
    assert "$0.0570" in html


def test_the_cost_review_and_its_csv_count_the_enhancer(client, staff, user, sim, pipeline):
    spend_run(user, charge="0.028")
    use = enhanced(user, pipeline)
    client.force_login(staff)
    start = timezone.localdate().replace(day=1)
    query = {"start": start.isoformat(), "end": timezone.localdate().isoformat()}

    html = client.get(reverse("spend:review"), query).content.decode()
    assert 'id="review-total">$0.03<' in html
    runs = html.split('id="runs"', 1)[1].split("</table>", 1)[0]
    assert "Prompt enhancer" in runs

    rows = _csv(client.get(reverse("spend:review"), {**query, "format": "csv", "table": "runs"}))
    header, *body = rows
    by_uuid = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    assert by_uuid[str(use.uuid)]["what"] == "prompt enhancer"
    assert by_uuid[str(use.uuid)]["spend_usd"] == "0.0010"
    assert by_uuid[str(use.uuid)]["resolution"] == ""
    people = _csv(
        client.get(reverse("spend:review"), {**query, "format": "csv", "table": "people"})
    )
    assert people == [["person", "spend_usd"], ["ada", "0.0290"]]
    days = _csv(client.get(reverse("spend:review"), {**query, "format": "csv", "table": "days"}))
    assert days == [["day", "spend_usd"], [timezone.localdate().isoformat(), "0.0290"]]


def test_the_admin_lists_enhancer_entries(client, staff, user, sim, pipeline) -> None:
    enhanced(user, pipeline)
    client.force_login(staff)
    response = client.get(reverse("admin:spend_ledgerentry_changelist"))
    assert response.status_code == 200
    assert "Prompt enhancer" in response.content.decode()
    search = client.get(reverse("admin:spend_ledgerentry_changelist"), {"q": "kite over"})
    assert search.status_code == 200 and "Prompt enhancer" in search.content.decode()
