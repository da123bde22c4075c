"""A keyset cursor: an opaque, url-safe position (created_at, id) in a list read newest first.

The gallery pages with it, and so do the staff trail and a project's trail: a page is the rows
after the cursor, never an OFFSET, so it costs the same at any depth.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A cursor longer than this was not made by us; refuse it before decoding anything.
CURSOR_MAX_LENGTH = 64


class InvalidCursor(ValueError):
    """The message is for the person whose link is broken."""


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    pk: int


def encode_cursor(created_at: datetime, pk: int) -> str:
    """An opaque, url-safe position: the last tile's creation time (µs, UTC) and id."""
    delta = created_at - EPOCH  # whole numbers only (a tile carries one: keep it cheap)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raw = f"{micros}.{pk}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(value: str) -> Cursor:
    """The position `encode_cursor` wrote; InvalidCursor for anything else."""
    if not value or len(value) > CURSOR_MAX_LENGTH:
        raise InvalidCursor("This page link is broken.")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        micros_text, pk_text = raw.split(".")
        micros, pk = int(micros_text), int(pk_text)
        if micros < 0 or pk <= 0:
            raise ValueError(raw)
        created_at = EPOCH + timedelta(microseconds=micros)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise InvalidCursor("This page link is broken.") from exc
    return Cursor(created_at=created_at, pk=pk)
