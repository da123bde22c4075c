"""The periodic sweeper resumes or ends prompt-enhancer uses whose task was lost."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from generations.models import EnhancementStatus, PromptEnhancement
from generations.services.enhancing import (
    ENHANCEMENT,
    GIVE_UP_SECONDS,
    SWEEP_GRACE_SECONDS,
    enhancement_create,
)
from spend.models import EntryKind, LedgerEntry
from wavespeed import runner

from .test_enhancer import PROMPT, finish, ledger, optimizer_submits

pytestmark = pytest.mark.django_db


def overdue(enhancement: PromptEnhancement) -> None:
    """Its next step was due well before the sweeper's grace."""
    PromptEnhancement.objects.filter(pk=enhancement.pk).update(
        next_step_at=timezone.now() - timedelta(seconds=SWEEP_GRACE_SECONDS + 1)
    )


def test_a_use_records_when_its_next_step_is_due(user, pipeline) -> None:
    before = timezone.now()
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")
    enhancement.refresh_from_db()
    assert before <= enhancement.next_step_at <= timezone.now()


def test_a_lost_submit_is_queued_again_and_the_use_finishes(user, sim, pipeline) -> None:
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")
    pipeline.queued.clear()  # the message was lost
    overdue(enhancement)

    counts = runner.sweep()  # what the beat entry runs

    assert counts["enhancement_submit"] == 1
    assert pipeline.names() == ["submit_job"]
    assert finish(pipeline, enhancement).status == EnhancementStatus.DONE
    assert len(optimizer_submits(sim)) == 1


def test_a_lost_poll_is_queued_again_without_a_second_submit(user, sim, pipeline) -> None:
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")
    pipeline.run_next()  # submitted; the first poll is queued...
    pipeline.queued.clear()  # ...and lost with its worker
    overdue(enhancement)

    assert runner.sweep()["enhancement_follow"] == 1
    assert pipeline.names() == ["follow_job"]
    enhancement = finish(pipeline, enhancement)
    assert enhancement.status == EnhancementStatus.DONE
    assert len(optimizer_submits(sim)) == 1
    assert LedgerEntry.objects.filter(enhancement=enhancement, kind=EntryKind.CHARGE).count() == 1


def test_a_step_not_yet_overdue_is_left_alone(user, pipeline) -> None:
    enhancement_create(owner=user, project=None, text=PROMPT, style="default")
    pipeline.queued.clear()
    assert not any(runner.sweep_kind(ENHANCEMENT).values())
    assert pipeline.queued == []


def test_a_submit_whose_worker_died_is_failed_not_sent_again(user, sim, pipeline) -> None:
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")
    pipeline.queued.clear()
    # Claimed by a worker that died before WaveSpeed answered: it may have arrived.
    lease = ENHANCEMENT.timings().submit_lease
    PromptEnhancement.objects.filter(pk=enhancement.pk).update(
        submit_claimed_at=timezone.now() - timedelta(seconds=lease + 1)
    )
    overdue(enhancement)

    runner.sweep()

    enhancement.refresh_from_db()
    assert enhancement.status == EnhancementStatus.FAILED
    assert "lost track" in enhancement.error_message
    assert pipeline.queued == [] and optimizer_submits(sim) == []
    assert ledger(enhancement) == [
        (EntryKind.HOLD, Decimal("0.001")),
        (EntryKind.RELEASE, Decimal("0.001")),
    ]


def test_a_use_past_its_limit_is_failed_and_its_hold_released(user, pipeline) -> None:
    enhancement = enhancement_create(owner=user, project=None, text=PROMPT, style="default")
    pipeline.run_next()
    pipeline.queued.clear()
    PromptEnhancement.objects.filter(pk=enhancement.pk).update(
        created_at=timezone.now() - timedelta(seconds=GIVE_UP_SECONDS + SWEEP_GRACE_SECONDS + 1)
    )

    counts = runner.sweep_kind(ENHANCEMENT)
    assert counts.pop("enhancement_given_up") == 1 and not any(counts.values())
    assert runner.sweep_kind(ENHANCEMENT)["enhancement_given_up"] == 0  # once

    enhancement.refresh_from_db()
    assert enhancement.status == EnhancementStatus.FAILED
    assert "stopped waiting" in enhancement.error_message
    assert pipeline.queued == []
    assert ledger(enhancement) == [
        (EntryKind.HOLD, Decimal("0.001")),
        (EntryKind.RELEASE, Decimal("0.001")),
    ]
