"""Faults queued by tests through POST /_sim/faults, consumed one per matching event, in order.

A fault is normally used up by `count` matching events. A request fault (http, slow,
drop_connection) may instead be timed: with `for_seconds` it matches every request to its
endpoint until that many seconds of the simulator's clock have passed since it was queued
(`count` is then ignored), and is dropped after that: an outage, e.g.
`{"kind": "http", "endpoint": "output", "status": 503, "for_seconds": 90}`.
Faults are looked at in the order they were queued, one per request, so a timed fault shadows
faults queued after it for the same endpoint until it expires.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any

from simulator import spec

# faults that change how one HTTP request is answered
REQUEST_KINDS = ("http", "slow", "drop_connection")
# faults that change the next submitted prediction(s)
# lose_webhook: the prediction runs as usual, but its webhook is never sent
PREDICTION_KINDS = ("fail_prediction", "nsfw", "expire_outputs", "lose_webhook")
KINDS = REQUEST_KINDS + PREDICTION_KINDS

# Request classes a request fault can target. "submit" is any model submit; "upload" covers
# both upload flows including the PUT; "media" is downloading an upload; "output" the CDN.
ENDPOINTS = (
    "submit",
    "result",
    "upload",
    "history",
    "delete",
    "balance",
    "webhook_secret",
    "media",
    "output",
    "any",
)


@dataclass
class Fault:
    id: int
    kind: str
    remaining: int | None  # None for a timed fault: `count` does not apply
    queued_at: float = 0.0  # simulator clock (Unix seconds) when it was queued
    for_seconds: float | None = None  # request kinds: timed fault, active this long
    expires_at: float | None = None  # queued_at + for_seconds; it matches while clock < this
    hits: int = 0  # events it has matched so far
    endpoint: str = "any"  # request kinds
    status: int = 500  # http
    retry_after: float | None = None  # http 429: sent as Retry-After only when given
    message: str | None = None  # http
    seconds: float = 0.0  # slow
    code: int = spec.DEFAULT_FAILURE_CODE  # fail_prediction
    error: str = ""  # fail_prediction
    model: str = "any"  # prediction kinds: only predictions of this model consume it

    def http_message(self) -> str:
        if self.message:
            return self.message
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return f"Error {self.status}"

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def as_dict(self, now: float | None = None) -> dict[str, Any]:
        """Its fields, plus seconds_left (None unless timed) when `now` is given."""
        data = asdict(self)
        if now is not None:
            data["seconds_left"] = (
                None if self.expires_at is None else max(0.0, self.expires_at - now)
            )
        return data


def _number(payload: dict[str, Any], key: str, default: float) -> float:
    value = payload.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{key}: must be a number >= 0")
    return float(value)


def _integer(payload: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = payload.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key}: must be an integer from {low} to {high}")
    return value


def _duration(payload: dict[str, Any], key: str) -> float | None:
    """An optional number > 0 (JSON null or absent: None)."""
    value = payload.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{key}: must be a number > 0")
    return float(value)


def parse_fault(payload: Any, fault_id: int, now: float) -> Fault:
    """Build a Fault from a /_sim/faults body; raise ValueError naming the bad field."""
    if not isinstance(payload, dict):
        raise ValueError("body: must be a JSON object")
    kind = payload.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind: must be one of {', '.join(KINDS)}")
    count = _integer(payload, "count", 1, 1, 1_000_000)  # checked even when a timer overrides it
    fault = Fault(id=fault_id, kind=kind, remaining=count, queued_at=now)
    for_seconds = _duration(payload, "for_seconds")
    if for_seconds is not None:
        if kind not in REQUEST_KINDS:
            raise ValueError(f"for_seconds: only for request faults ({', '.join(REQUEST_KINDS)})")
        fault.remaining = None
        fault.for_seconds = for_seconds
        fault.expires_at = now + for_seconds
    if kind in REQUEST_KINDS:
        endpoint = payload.get("endpoint", "any")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint: must be one of {', '.join(ENDPOINTS)}")
        fault.endpoint = endpoint
    else:
        model = payload.get("model", "any")
        if model != "any" and model not in spec.MODELS:
            raise ValueError(f"model: must be 'any' or one of {', '.join(spec.MODELS)}")
        fault.model = model
    if kind == "http":
        fault.status = _integer(payload, "status", 500, 400, 599)
        if payload.get("retry_after") is not None:
            fault.retry_after = _number(payload, "retry_after", 0)
        message = payload.get("message")
        if message is not None and not isinstance(message, str):
            raise ValueError("message: must be a string")
        fault.message = message
    elif kind == "slow":
        fault.seconds = _number(payload, "seconds", 1.0)
    elif kind == "fail_prediction":
        fault.code = _integer(payload, "code", spec.DEFAULT_FAILURE_CODE, 1, 99999)
        error = payload.get("error")
        if error is not None and not isinstance(error, str):
            raise ValueError("error: must be a string")
        fault.error = error or spec.FAILURE_MESSAGES.get(fault.code, "Task failed")
    return fault


class FaultQueue:
    """Pending faults in the order they were queued. Not thread-safe: State guards it.

    `clock` is the simulator's clock (State.clock): timed faults expire by it."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, payload: Any) -> Fault:
        fault = parse_fault(payload, self._next_id, self._clock())
        self._next_id += 1
        self._faults.append(fault)
        return fault

    def _drop_expired(self) -> float:
        now = self._clock()
        self._faults = [fault for fault in self._faults if not fault.expired(now)]
        return now

    def take_request_fault(self, endpoint: str) -> Fault | None:
        """Consume the first request fault aimed at `endpoint` (one fault per request)."""
        self._drop_expired()
        for fault in self._faults:
            if fault.kind in REQUEST_KINDS and fault.endpoint in (endpoint, "any"):
                return self._consume(fault)
        return None

    def take_prediction_fault(self, kind: str, model: str) -> Fault | None:
        self._drop_expired()
        for fault in self._faults:
            if fault.kind == kind and fault.model in (model, "any"):
                return self._consume(fault)
        return None

    def _consume(self, fault: Fault) -> Fault:
        fault.hits += 1
        if fault.remaining is not None:  # a timed fault stays until it expires
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
        return fault

    def pending(self) -> list[dict[str, Any]]:
        """Faults still waiting (expired timed ones are dropped first), with seconds_left."""
        now = self._drop_expired()
        return [fault.as_dict(now) for fault in self._faults]

    def clear(self) -> None:
        self._faults.clear()
