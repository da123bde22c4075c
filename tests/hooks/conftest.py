from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hooks.receiver import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The delivery ids queued (instead of publishing them to the broker)."""
    from hooks import services

    ids: list[int] = []
    monkeypatch.setattr(services, "_queue", ids.append)
    return ids
