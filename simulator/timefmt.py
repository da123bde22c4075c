"""Timestamps the way WaveSpeed writes them: ISO 8601, UTC, milliseconds, "Z"."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(timestamp: float) -> str:
    """E.g. "2023-04-01T12:34:56.789Z"."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """A Unix timestamp from ISO 8601; naive times are taken as UTC [inferred]."""
    moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
