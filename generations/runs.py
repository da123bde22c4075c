"""A run as the studio shows it: its phase in plain words with a timer, placeholder tiles in the
real aspect ratio, its images as they are saved, and what went wrong in a person's words.

Presentation only: everything is read from a Generation whose images (with thumbnails) were
prefetched, so building a card makes no query.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from .models import ErrorKind, Generation, OutputImage, ResultType, Status

# A prediction still in WaveSpeed's `created` after this long waits behind the account's limit
# of tasks at once (docs/wavespeed.md, "Rate limits and concurrency"), not for a free machine.
WAITING_AFTER_SECONDS = 5
# A series makes as many images as the model chooses (up to 9): a few placeholders stand in.
SERIES_PLACEHOLDERS = 3
SERIES_MOST = 9

# Aspect ratios as CSS classes (`r-16-9`): placeholders take their shape from the stylesheet, no
# inline style needed. "auto" is square until an image says otherwise.
RATIOS: dict[str, tuple[int, int]] = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:3": (4, 3),
    "3:4": (3, 4),
    "3:2": (3, 2),
    "2:3": (2, 3),
    "21:9": (21, 9),
}


@dataclass(frozen=True)
class Failure:
    """What happened and what the person can do, in their words; `detail` is the raw message."""

    title: str
    advice: str
    detail: str
    retry: bool


# What each kind of error means to the person who ran it. "Nothing was charged" holds for every
# kind where the provider made nothing (a failed prediction is refunded, and the hold released).
_FAILURES: dict[str, tuple[str, str]] = {
    ErrorKind.AUTH: (
        "WaveSpeed refused Darkroom's API key.",
        "Nothing was charged. An admin needs to check the key; then Retry.",
    ),
    ErrorKind.BALANCE: (
        "The WaveSpeed account is out of credit.",
        "Nothing was charged. Ask an admin to top it up, then Retry.",
    ),
    ErrorKind.INVALID: (
        "WaveSpeed refused these settings.",
        "Nothing was charged. Change the prompt or the settings (Reuse settings puts them back "
        "in the form), then generate.",
    ),
    ErrorKind.NOT_FOUND: (
        "WaveSpeed lost track of this run.",
        "Nothing was charged. Retry.",
    ),
    ErrorKind.RATE_LIMIT: (
        "WaveSpeed was too busy to take this run.",
        "Nothing was charged. Retry in a few minutes.",
    ),
    ErrorKind.PROVIDER: (
        "WaveSpeed had a problem on its side.",
        "Nothing was charged. Retry; if it keeps failing, WaveSpeed may be down for a while.",
    ),
    ErrorKind.NETWORK: (
        "Darkroom could not reach WaveSpeed.",
        "Nothing was charged. Retry in a few minutes.",
    ),
    ErrorKind.PREDICTION: (
        "The model could not make these images.",
        "Nothing was charged. A prompt or reference that trips the model's safety check often "
        "does this: reword it, or Retry.",
    ),
    ErrorKind.DOWNLOAD: (
        "The images were made but could not be downloaded.",
        "They were paid for. An admin can retry saving them while WaveSpeed keeps the files "
        "(7 days); Retry makes and charges a new run.",
    ),
    ErrorKind.TIMEOUT: (
        "WaveSpeed did not finish this run in time.",
        "Retry; if WaveSpeed is very busy, try again later.",
    ),
}
_UNKNOWN_FAILURE = (
    "This run failed.",
    "Retry; if it fails again, the details below say what WaveSpeed answered.",
)


def failure_of(generation: Generation) -> Failure | None:
    if generation.status == Status.NEEDS_ATTENTION:
        return Failure(
            title="Darkroom could not tell whether WaveSpeed received this run.",
            advice="Nothing is sent twice: an admin checks WaveSpeed's dashboard, then finishes "
            "or cancels it. Its price stays held until then.",
            detail=generation.error_message,
            retry=False,
        )
    if generation.status != Status.FAILED:
        return None
    title, advice = _FAILURES.get(generation.error_kind, _UNKNOWN_FAILURE)
    return Failure(title=title, advice=advice, detail=generation.error_message, retry=True)


def clock(seconds: float) -> str:
    """0:07, 1:05, 1:02:03."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _images(count: int) -> str:
    return f"{count} image{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class Run:
    generation: Generation
    state: str  # active, done, failed (failed also for needs attention)
    phase: str  # in plain words
    detail: str  # what the pipeline says while waiting or saving
    elapsed: float  # seconds since Generate (final: how long it took)
    images: list[OutputImage]
    placeholders: int
    ratio: tuple[int, int]
    failure: Failure | None
    token: str  # changes whenever the card would look different
    starred: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_active(self) -> bool:
        return self.state == "active"

    @property
    def ratio_class(self) -> str:
        return f"r-{self.ratio[0]}-{self.ratio[1]}"

    @property
    def clock(self) -> str:
        return clock(self.elapsed)

    @property
    def placeholder_range(self) -> range:
        return range(self.placeholders)

    @property
    def series_open(self) -> bool:
        """A series whose count is not known yet: the last placeholder says "up to 9"."""
        return self.generation.result_type == ResultType.SERIES and not self.generation.output_urls

    def tiles(self) -> list[tuple[OutputImage, bool]]:
        """Each image and whether the viewer starred it."""
        return [(image, image.pk in self.starred) for image in self.images]


def run_of(
    generation: Generation, *, starred: frozenset[int] = frozenset(), now: datetime | None = None
) -> Run:
    """The card of one run, from its prefetched images (trashed ones are left out)."""
    now = now or timezone.now()
    images = [image for image in generation.images.all() if image.deleted_at is None]
    status = generation.status
    series = generation.result_type == ResultType.SERIES
    expected = len(generation.output_urls) or (
        SERIES_PLACEHOLDERS if series else generation.num_images
    )
    phase, detail = _phase(generation, now, images, expected)
    if generation.is_active:
        state, placeholders = "active", max(expected - len(images), 0)
        elapsed = (now - generation.created_at).total_seconds()
    else:
        state, placeholders = ("done" if status == Status.DONE else "failed"), 0
        end = generation.finished_at or generation.updated_at
        elapsed = (end - generation.created_at).total_seconds()
    ratio = _ratio(generation, images)
    # The card changes when its words do (the poll answers with the new one).
    signature = f"{status}|{len(images)}|{phase}|{generation.error_message}"
    return Run(
        generation=generation,
        state=state,
        phase=phase,
        detail=detail,
        elapsed=elapsed,
        images=images,
        placeholders=placeholders,
        ratio=ratio,
        failure=failure_of(generation),
        token=f"{zlib.crc32(signature.encode()):08x}",
        starred=starred,
    )


def _phase(
    generation: Generation, now: datetime, images: list[OutputImage], expected: int
) -> tuple[str, str]:
    """(what is happening, the pipeline's own message)."""
    status = generation.status
    series = generation.result_type == ResultType.SERIES
    what = f"a series of up to {SERIES_MOST} images" if series else _images(expected)
    message = generation.error_message
    if status == Status.QUEUED:
        # "Waiting for WaveSpeed, which is not taking requests…" while submits are retried.
        return ("Waiting for WaveSpeed" if message else "Sending to WaveSpeed"), message
    if status == Status.SUBMITTED:
        since = generation.submitted_at or generation.created_at
        if (now - since).total_seconds() <= WAITING_AFTER_SECONDS:
            return "Queued at WaveSpeed", message
        if not generation.poll_count:
            # Not asked since the submit (its webhook is awaited, or the first poll waits for
            # most of a typical run): it is most likely painting, and nothing says it waits.
            return f"At WaveSpeed: {what}", message
        # A later look still found it in `created`: it waits behind the account's limit.
        at_once = settings.WAVESPEED_TASKS_AT_ONCE
        return f"Waiting for WaveSpeed (your account runs {at_once} at a time)", message
    if status == Status.PROCESSING:
        return f"Painting {what}", message
    if status == Status.SAVING:
        total = len(generation.output_urls) or expected
        return f"Saving {len(images)} of {total}", message
    if status == Status.DONE:
        return _images(len(images)), ""
    return "Failed" if status == Status.FAILED else "Needs attention", ""


def _ratio(generation: Generation, images: list[OutputImage]) -> tuple[int, int]:
    if generation.aspect_ratio in RATIOS:
        return RATIOS[generation.aspect_ratio]
    if images:  # "auto": the model chose; the nearest named ratio to the first image's
        shape = images[0].width / max(images[0].height, 1)
        return min(RATIOS.values(), key=lambda r: abs(r[0] / r[1] - shape))
    return 1, 1
