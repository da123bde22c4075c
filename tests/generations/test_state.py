"""Every move of the state machine: the legal ones happen, the rest are refused."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from generations import state
from generations.models import FINAL_STATUSES, TRANSITIONS, Generation, Status

pytestmark = pytest.mark.django_db


def make(user, status: str) -> Generation:
    return Generation.objects.create(
        owner=user,
        prompt="p",
        status=status,
        price_per_image=Decimal("0.028"),
        quoted_cost=Decimal("0.028"),
    )


@pytest.mark.parametrize(("source", "target"), list(itertools.product(Status.values, repeat=2)))
def test_each_move_happens_only_if_the_table_allows_it(user, source: str, target: str) -> None:
    generation = make(user, source)
    legal = target in TRANSITIONS[source]
    if not state.sources_of(target):
        with pytest.raises(state.IllegalTransition):
            state.move(generation.pk, target)
        return
    moved = state.move(generation.pk, target)
    generation.refresh_from_db()
    assert moved is legal
    assert generation.status == (target if legal else source)


def test_nothing_leaves_a_final_state(user) -> None:
    for final in FINAL_STATUSES:
        generation = make(user, final)
        for target in Status.values:
            if state.sources_of(target):
                assert not state.move(generation.pk, target)
        generation.refresh_from_db()
        assert generation.status == final


def test_an_explicit_illegal_move_raises(user) -> None:
    generation = make(user, Status.DONE)
    with pytest.raises(state.IllegalTransition):
        state.move(generation.pk, Status.PROCESSING, source=Status.DONE)


def test_nothing_goes_backwards(user) -> None:
    generation = make(user, Status.SAVING)
    assert not state.move(generation.pk, Status.PROCESSING)
    assert not state.move(generation.pk, Status.SUBMITTED)


def test_a_move_is_claimed_once_when_two_race(user) -> None:
    generation = make(user, Status.PROCESSING)
    assert state.move(generation.pk, Status.SAVING)
    assert not state.move(generation.pk, Status.SAVING)


def test_failing_records_the_reason_and_the_end(user) -> None:
    generation = make(user, Status.PROCESSING)
    assert state.fail(generation.pk, kind="prediction", message="boom", code=5000)
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert generation.error_message == "boom"
    assert generation.error_code == 5000
    assert generation.finished_at is not None
