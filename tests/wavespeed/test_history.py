"""search_history against the simulator's real history: what it says of a lost submit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from wavespeed.client import WaveSpeedClient
from wavespeed.history import search_history
from wavespeed.specs import KLING_IMAGE_O3

OURS = {"prompt": "a lighthouse", "aspect_ratio": "auto", "resolution": "1k", "num_images": 1}


@pytest.fixture
def client(sim):
    client = WaveSpeedClient(base_url=sim.base_url, api_key="test-key")
    yield client
    client.close()


def search(client: WaveSpeedClient, taken: frozenset[str] | set[str] = frozenset(), **kwargs):
    return search_history(
        client,
        model=KLING_IMAGE_O3,
        payload=OURS,
        since=timezone.now() - timedelta(minutes=2),
        taken=lambda ids: taken & set(ids),
        **kwargs,
    )


def test_an_empty_history_says_the_request_is_certainly_absent(client) -> None:
    verdict = search(client)
    assert verdict.absent and verdict.found is None and not verdict.why


def test_the_oldest_match_no_other_request_owns_is_found(client, sim) -> None:
    sim.configure(history_inputs="normalised")  # defaults left out of the echo: still ours
    first = client.submit(KLING_IMAGE_O3, OURS)
    second = client.submit(KLING_IMAGE_O3, OURS)
    # Two submits can share a timestamp: either is "the oldest", and then the other is next.
    oldest = search(client).found.id
    assert oldest in {first.id, second.id}
    other = ({first.id, second.id} - {oldest}).pop()
    assert search(client, taken={oldest}).found.id == other
    assert search(client, taken={first.id, second.id}).absent


def test_our_prompt_with_other_settings_settles_nothing(client) -> None:
    client.submit(KLING_IMAGE_O3, {**OURS, "resolution": "2k"})
    verdict = search(client)
    assert verdict.found is None and not verdict.absent
    assert "other settings" in verdict.why


def test_a_history_without_inputs_settles_nothing(client, sim) -> None:
    sim.configure(history_inputs="none")
    client.submit(KLING_IMAGE_O3, {"prompt": "someone else's"})
    verdict = search(client)
    assert verdict.found is None and not verdict.absent
    assert "does not show the inputs of 1" in verdict.why


def test_more_history_than_it_reads_settles_nothing(client) -> None:
    for n in range(3):
        client.submit(KLING_IMAGE_O3, {"prompt": f"other {n}"})
    client.history = _pages_of_one(client.history)  # the simulator's pages, one item each
    verdict = search(client, max_pages=2)
    assert verdict.found is None and not verdict.absent
    assert "more predictions from that time than the 2 pages read" in verdict.why


def _pages_of_one(history):
    def one_per_page(**kwargs):
        return history(**{**kwargs, "page_size": 1})

    return one_per_page
