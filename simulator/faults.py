"""Faults queued by tests through POST /_sim/faults, consumed one per matching event, in order."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any

from simulator import spec

# faults that change how one HTTP request is answered
REQUEST_KINDS = ("http", "slow", "drop_connection")
# faults that change the next submitted prediction(s)
PREDICTION_KINDS = ("fail_prediction", "nsfw", "expire_outputs")
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
    remaining: int
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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def parse_fault(payload: Any, fault_id: int) -> Fault:
    """Build a Fault from a /_sim/faults body; raise ValueError naming the bad field."""
    if not isinstance(payload, dict):
        raise ValueError("body: must be a JSON object")
    kind = payload.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind: must be one of {', '.join(KINDS)}")
    fault = Fault(id=fault_id, kind=kind, remaining=_integer(payload, "count", 1, 1, 1_000_000))
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
    """Pending faults in the order they were queued. Not thread-safe: State guards it."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, payload: Any) -> Fault:
        fault = parse_fault(payload, self._next_id)
        self._next_id += 1
        self._faults.append(fault)
        return fault

    def take_request_fault(self, endpoint: str) -> Fault | None:
        """Consume the first request fault aimed at `endpoint` (one fault per request)."""
        for fault in self._faults:
            if fault.kind in REQUEST_KINDS and fault.endpoint in (endpoint, "any"):
                return self._consume(fault)
        return None

    def take_prediction_fault(self, kind: str, model: str) -> Fault | None:
        for fault in self._faults:
            if fault.kind == kind and fault.model in (model, "any"):
                return self._consume(fault)
        return None

    def _consume(self, fault: Fault) -> Fault:
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._faults.remove(fault)
        return fault

    def pending(self) -> list[dict[str, Any]]:
        return [fault.as_dict() for fault in self._faults]

    def clear(self) -> None:
        self._faults.clear()
