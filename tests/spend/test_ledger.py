"""Prices by date, and the ledger through every way a generation ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from generations import services
from generations.models import Generation, Status
from generations.services.submission import GenerationParams
from spend.models import EntryKind, LedgerEntry, Price
from spend.services import month_of, price_for, spent
from wavespeed import runner

pytestmark = pytest.mark.django_db
KLING = "kwaivgi/kling-image-o3"


def entries(generation: Generation) -> list[tuple[str, Decimal]]:
    return sorted((e.kind, e.amount) for e in LedgerEntry.objects.filter(generation=generation))


def run(pipeline, generation: Generation) -> Generation:
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    generation.refresh_from_db()
    return generation


def test_the_seeded_prices_are_the_published_ones() -> None:
    assert price_for(model=KLING, resolution="1k") == Decimal("0.028")
    assert price_for(model=KLING, resolution="2k") == Decimal("0.028")
    assert price_for(model=KLING, resolution="4k") == Decimal("0.056")


def test_a_price_change_applies_from_its_date_only() -> None:
    change = timezone.now() + timedelta(days=10)
    Price.objects.create(model=KLING, resolution="4k", per_image=Decimal("0.05"), valid_from=change)
    assert price_for(model=KLING, resolution="4k") == Decimal("0.056")
    assert price_for(model=KLING, resolution="4k", at=change) == Decimal("0.05")
    assert price_for(model=KLING, resolution="4k", at=change - timedelta(seconds=1)) == Decimal(
        "0.056"
    )


def test_a_completed_generation_holds_then_is_charged(user, sim, pipeline) -> None:
    generation = services.generation_create(
        owner=user, params=GenerationParams(prompt="x", resolution="4k", num_images=3)
    )
    assert entries(generation) == [(EntryKind.HOLD, Decimal("0.168"))]
    period = month_of(generation.created_at)
    assert spent(period=period, person_id=user.pk) == Decimal("0.168")
    generation = run(pipeline, generation)
    assert generation.status == Status.DONE
    assert entries(generation) == [
        (EntryKind.CHARGE, Decimal("0.168")),
        (EntryKind.HOLD, Decimal("0.168")),
        (EntryKind.RELEASE, Decimal("0.168")),
    ]
    assert spent(period=period, person_id=user.pk) == Decimal("0.168")


def test_a_failed_prediction_releases_everything(user, sim, pipeline) -> None:
    sim.fault("fail_prediction", code=1200, error="flagged")
    generation = run(
        pipeline, services.generation_create(owner=user, params=GenerationParams(prompt="x"))
    )
    assert generation.status == Status.FAILED
    assert entries(generation) == [
        (EntryKind.HOLD, Decimal("0.028")),
        (EntryKind.RELEASE, Decimal("0.028")),
    ]
    assert spent(period=month_of(generation.created_at), person_id=user.pk) == 0


def test_a_refused_submit_releases_its_hold(user, sim, pipeline, settings) -> None:
    sim.configure(rejected_keys=[settings.WAVESPEED_API_KEY])
    generation = run(
        pipeline, services.generation_create(owner=user, params=GenerationParams(prompt="x"))
    )
    assert generation.error_kind == "auth"
    assert spent(period=month_of(generation.created_at), person_id=user.pk) == 0


def test_a_download_failure_after_completion_keeps_the_charge(user, sim, pipeline) -> None:
    sim.fault("expire_outputs")
    generation = run(
        pipeline, services.generation_create(owner=user, params=GenerationParams(prompt="x"))
    )
    assert generation.error_kind == "download"
    assert spent(period=month_of(generation.created_at), person_id=user.pk) == Decimal("0.028")


def test_a_series_holds_the_most_and_is_charged_what_it_delivers(user, sim, pipeline) -> None:
    generation = services.generation_create(
        owner=user, params=GenerationParams(prompt="x", result_type="series")
    )
    assert entries(generation) == [(EntryKind.HOLD, Decimal("0.028") * 9)]
    generation = run(pipeline, generation)
    delivered = generation.images.count()
    assert (
        spent(period=month_of(generation.created_at), person_id=user.pk)
        == Decimal("0.028") * delivered
    )


def test_a_crashed_and_resumed_generation_is_charged_once(user, sim, pipeline, settings) -> None:
    settings.STALE_AFTER_SECONDS = 0
    generation = services.generation_create(owner=user, params=GenerationParams(prompt="x"))
    pipeline.run_next()
    pipeline.queued.clear()  # the worker died
    Generation.objects.filter(pk=generation.pk).update(next_step_at=generation.created_at)
    runner.sweep()
    generation = run(pipeline, generation)
    assert generation.status == Status.DONE
    assert LedgerEntry.objects.filter(generation=generation, kind=EntryKind.CHARGE).count() == 1


def test_ledger_entries_are_never_edited(user, sim, pipeline) -> None:
    generation = services.generation_create(owner=user, params=GenerationParams(prompt="x"))
    entry = LedgerEntry.objects.get(generation=generation)
    entry.amount = Decimal("0")
    with pytest.raises(ValueError, match="never edited"):
        entry.save()


def test_months_follow_the_sites_time_zone(settings) -> None:
    settings.TIME_ZONE = "America/New_York"
    # 03:00 UTC on 1 March is still 28 February in New York.
    assert month_of(datetime(2026, 3, 1, 3, 0, tzinfo=UTC)).isoformat() == "2026-02-01"
    assert month_of(datetime(2026, 3, 1, 6, 0, tzinfo=UTC)).isoformat() == "2026-03-01"


def test_a_prediction_cancelled_at_the_provider_releases_its_hold(user, sim, pipeline) -> None:
    generation = services.generation_create(owner=user, params=GenerationParams(prompt="x"))
    pipeline.run_next()
    generation.refresh_from_db()
    sim.delete_prediction(generation.provider_id)
    generation = run(pipeline, generation)
    assert generation.status == Status.FAILED
    assert spent(period=month_of(generation.created_at), person_id=user.pk) == 0
    assert entries(generation) == [
        (EntryKind.HOLD, Decimal("0.028")),
        (EntryKind.RELEASE, Decimal("0.028")),
    ]


def _moved_while_running(user, pipeline, sim=None) -> tuple[Generation, object, object]:
    """A run held in Harbour, moved to Dunes once WaveSpeed has it, then run to its end."""
    from gallery.services.moving import generation_move
    from tests.factories import make_project

    harbour, dunes = make_project(user, "Harbour"), make_project(user, "Dunes")
    generation = services.generation_create(
        owner=user, params=GenerationParams(prompt="x", num_images=2), project=harbour
    )
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).provider_id is not None)
    generation.refresh_from_db()
    assert not generation.is_final
    generation_move(user=user, generation=generation, target=dunes)
    return run(pipeline, generation), harbour, dunes


def test_a_run_moved_while_it_runs_is_paid_where_its_hold_was(user, sim, pipeline) -> None:
    generation, harbour, dunes = _moved_while_running(user, pipeline)
    assert generation.status == Status.DONE and generation.project_id == dunes.pk
    period = month_of(generation.created_at)
    # Hold, release and charge all in Harbour: its month says what it paid, Dunes' nothing.
    assert set(
        LedgerEntry.objects.filter(generation=generation).values_list("project_id", flat=True)
    ) == {harbour.pk}
    assert spent(period=period, project_id=harbour.pk) == Decimal("0.056")
    assert spent(period=period, project_id=dunes.pk) == 0


def test_a_run_moved_while_it_runs_and_failing_frees_its_hold_where_it_was(
    user, sim, pipeline
) -> None:
    sim.fault("fail_prediction", code=1200, error="flagged")
    generation, harbour, dunes = _moved_while_running(user, pipeline)
    assert generation.status == Status.FAILED
    period = month_of(generation.created_at)
    assert spent(period=period, project_id=harbour.pk) == 0
    assert spent(period=period, project_id=dunes.pk) == 0
