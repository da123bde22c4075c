"""Queueing the next step of a generation: always after the surrounding transaction commits
(through `wavespeed.timing.after_commit`, which holds the schedule every provider job shares).

Tasks are imported lazily: services schedule tasks and tasks call services.
"""

from __future__ import annotations

from typing import Any

from wavespeed import timing


def schedule_submit(generation_id: int, countdown: float = 0) -> None:
    from .tasks import submit_generation

    timing.after_commit(submit_generation, countdown, generation_id)


def schedule_reconcile(generation_id: int, countdown: float = 0) -> None:
    from .tasks import reconcile_submit

    timing.after_commit(reconcile_submit, countdown, generation_id)


def schedule_record(generation_id: int, prediction_id: str, countdown: float) -> None:
    from .tasks import record_submitted_prediction

    timing.after_commit(record_submitted_prediction, countdown, generation_id, prediction_id)


def schedule_follow(generation_id: int, seq: int, countdown: float) -> None:
    from .tasks import follow_generation

    timing.after_commit(follow_generation, countdown, generation_id, seq)


def schedule_save(generation_id: int, countdown: float = 0) -> None:
    from .tasks import save_generation_outputs

    timing.after_commit(save_generation_outputs, countdown, generation_id)


def schedule_apply_webhook(generation_id: int, prediction: dict[str, Any]) -> None:
    from .tasks import apply_webhook_result

    timing.after_commit(apply_webhook_result, 0, generation_id, prediction)
