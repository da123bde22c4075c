"""What the prediction history says of a submit whose answer was lost.

WaveSpeed has no idempotency key (docs/wavespeed.md), so a submit that may have arrived is
never sent again blindly: the history is searched for it first. A match is a prediction whose
input, normalised (fields at the model's defaults and empty ones left out, fields we do not
send ignored), equals ours. Anything short of a clear match or a clear absence is not settled
here: an item without an input, one with our prompt but other settings, or more history than
we read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .client import Prediction, WaveSpeedClient
from .specs import MODEL_PARAMETERS, normalised_input

HISTORY_MAX_PAGES = 10


@dataclass(frozen=True)
class HistoryVerdict:
    """What the prediction history says of a submit whose answer was lost: `found` it, it is
    certainly `absent`, or neither (`why`)."""

    found: Prediction | None = None
    absent: bool = False
    why: str = ""


def request_identity(
    model: str, payload: dict[str, Any], *, like: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What identifies a request: its normalised input. With `like`, only the fields a request
    of ours can carry are kept (a provider may echo extra fields of its own)."""
    normalised = normalised_input(model, payload)
    if like is None:
        return normalised
    ours = set(like) | MODEL_PARAMETERS.get(model, frozenset())
    return {key: value for key, value in normalised.items() if key in ours}


def search_history(
    client: WaveSpeedClient,
    *,
    model: str,
    payload: dict[str, Any],
    since: datetime,
    taken: Callable[[list[str]], Collection[str]],
    max_pages: int = HISTORY_MAX_PAGES,
) -> HistoryVerdict:
    """Look for the request `payload` to `model` among the predictions created since `since`.

    `taken(ids)` says which of those prediction ids another request of ours already owns (two
    identical requests close together): they are skipped. Raises `WaveSpeedError` when the
    history cannot be read.
    """
    ours = request_identity(model, payload)
    matches: list[Prediction] = []
    similar: list[Prediction] = []
    without_input = 0
    page, seen, complete = 1, 0, False
    while True:
        history = client.history(page=page, page_size=100, model=model, created_after=since)
        for item in history.items:
            if item.created_at is not None and item.created_at < since:
                continue
            if item.input is None:
                without_input += 1
                continue
            theirs = request_identity(model, item.input, like=ours)
            if theirs == ours:
                matches.append(item)
            elif theirs.get("prompt") == ours.get("prompt"):
                similar.append(item)
        seen += len(history.items)
        if not history.items or seen >= history.total:
            complete = True
            break
        if page >= max_pages:
            break
        page += 1
    owned = set(taken([c.id for c in matches + similar]))
    matches = [c for c in matches if c.id not in owned]
    similar = [c for c in similar if c.id not in owned]
    if matches:
        oldest_first = sorted(matches, key=lambda c: c.created_at or since)
        return HistoryVerdict(found=oldest_first[0])
    if similar:
        return HistoryVerdict(
            why=f"WaveSpeed's history shows {len(similar)} prediction(s) with this prompt but "
            "other settings, which may or may not be this request"
        )
    if without_input:
        return HistoryVerdict(
            why=f"WaveSpeed's history does not show the inputs of {without_input} of its "
            "predictions, so it cannot tell whether this request arrived"
        )
    if not complete:
        return HistoryVerdict(
            why=f"WaveSpeed's history holds more predictions from that time than the "
            f"{max_pages} pages read"
        )
    return HistoryVerdict(absent=True)
