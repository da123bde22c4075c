"""The writes of the generation pipeline, one module per step."""

from .following import generation_apply_webhook, generation_follow
from .saving import generation_save_outputs
from .submission import (
    generation_create,
    generation_reconcile,
    generation_record_prediction,
    generation_submit,
)
from .sweeping import generations_sweep

__all__ = [
    "generation_apply_webhook",
    "generation_create",
    "generation_follow",
    "generation_reconcile",
    "generation_record_prediction",
    "generation_save_outputs",
    "generation_submit",
    "generations_sweep",
]
