"""The writes of the generation pipeline, one module per step (the provider steps are the job
runner's: `wavespeed.runner`, with `generations/jobs.py`)."""

from .saving import generation_save_outputs
from .submission import generation_create
from .thumbnailing import image_make_renditions

__all__ = [
    "generation_create",
    "generation_save_outputs",
    "image_make_renditions",
]
