"""The simulated account: predictions and their clock-driven progress, faults, request log.

No background threads move predictions along: every read first calls `_advance(now)`, which
replays, in time order, the starts and finishes that should have happened by `now`. So the
answers depend only on the clock, and tests can use tiny latencies without races.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator import spec
from simulator.config import SimulatorConfig
from simulator.errors import ApiError, access_denied
from simulator.faults import Fault, FaultQueue
from simulator.images import pixel_size
from simulator.media import MediaStore
from simulator.optimizer import enhance_prompt
from simulator.timefmt import iso, parse_iso
from simulator.validation import InvalidInput, Plan, is_http_url, validate, without_defaults

Clock = Callable[[], float]
MAX_LOGGED_REQUESTS = 10_000


@dataclass
class Prediction:
    id: str
    seq: int  # submit order: free slots pick predictions up in this order
    plan: Plan
    input: dict[str, Any]
    base_url: str  # scheme://host:port the submit came to; all its URLs use it
    created_at: float
    eligible_at: float  # created_at + queue delay (as configured at submit time)
    latency: float  # seconds of processing (as configured at submit time)
    output_format: str  # png | jpeg (as configured at submit time)
    webhook_url: str | None = None
    status: str = "created"
    started_at: float | None = None
    finished_at: float | None = None
    outputs: list[Any] = field(default_factory=list)
    error: str = ""
    # faults and checks decided at submit time, applied when processing ends
    fail_code: int | None = None
    fail_error: str = ""
    nsfw: bool = False
    expired: bool = False
    deleted: bool = False
    webhook_id: str = ""
    webhook_lost: bool = False  # the lose_webhook fault: finishes without a delivery
    webhook_attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def model(self) -> str:
        return self.plan.model

    @property
    def finish_due(self) -> float:
        assert self.started_at is not None
        return self.started_at + self.latency

    @property
    def output_ext(self) -> str:
        return "jpg" if self.output_format == "jpeg" else "png"

    def public(self, inputs: str = "exact") -> dict[str, Any]:
        """The Prediction object exactly as the API shows it.

        `inputs` is how `input` is echoed (spec.HISTORY_INPUTS): as submitted, without the
        fields equal to documented defaults, or not at all; only the history varies it."""
        final = self.status in spec.FINAL_STATUSES
        inference_ms = (
            round((self.finished_at - self.started_at) * 1000)
            if final and self.finished_at is not None and self.started_at is not None
            else 0
        )
        # [inferred] executionTime: from submit to the final status, in ms (0 until then)
        execution_ms = (
            round((self.finished_at - self.created_at) * 1000)
            if final and self.finished_at is not None
            else 0
        )
        data: dict[str, Any] = {
            "id": self.id,
            "model": self.model,
            "outputs": list(self.outputs),
            "urls": {"get": f"{self.base_url}/api/v3/predictions/{self.id}/result"},
            "has_nsfw_contents": [self.nsfw] * len(self.outputs),
            "status": self.status,
            "created_at": iso(self.created_at),
            "error": self.error,
            "timings": {"inference": inference_ms},
            "input": self.input,
            "executionTime": execution_ms,
        }
        if inputs == "normalised":
            data["input"] = without_defaults(self.model, self.input)
        elif inputs == "none":
            del data["input"]
        if self.status == "failed":
            data["code"] = self.fail_code
        return data

    def internal(self) -> dict[str, Any]:
        """For GET /_sim/predictions: the public object plus what drives it."""
        return {
            **self.public(),
            "_sim": {
                "seq": self.seq,
                "cost": self.plan.cost,
                "image_count": self.plan.image_count,
                "created_at": self.created_at,
                "eligible_at": self.eligible_at,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "latency": self.latency,
                "output_format": self.output_format,
                "fail_code": self.fail_code,
                "nsfw": self.nsfw,
                "expired": self.expired,
                "deleted": self.deleted,
                "webhook_url": self.webhook_url,
                "webhook_lost": self.webhook_lost,
                "webhook_attempts": list(self.webhook_attempts),
            },
        }


@dataclass(frozen=True)
class OutputSpec:
    """What the CDN should render for one output URL."""

    width: int
    height: int
    lines: list[str]
    output_format: str


@dataclass(frozen=True)
class WebhookJob:
    prediction_id: str
    url: str
    webhook_id: str
    body: bytes


class State:
    """Everything the simulator remembers; one lock guards it all."""

    def __init__(self, config: SimulatorConfig, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or time.time
        self.lock = threading.RLock()
        self._startup_config = config.copy()
        self.media = MediaStore(self.clock)
        self.reset()

    # --- lifecycle ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget predictions, uploads, faults and the request log; restore start-up config."""
        with self.lock:
            self.config = self._startup_config.copy()
            self.faults = FaultQueue(self.clock)
            self._predictions: dict[str, Prediction] = {}
            self._active: list[Prediction] = []  # not final yet, in submit order
            self._cursor = 0.0  # time of the last start/finish replayed by _advance
            self._seq = 0
            self._image_window: deque[tuple[float, int]] = deque()
            self._webhook_outbox: list[str] = []
            self._requests: list[dict[str, Any]] = []
            self.media.clear()

    def update_config(self, changes: Any) -> dict[str, Any]:
        if not isinstance(changes, dict):
            raise ApiError(400, "body: must be a JSON object")
        with self.lock:
            self._advance(self.clock())  # settle progress under the old settings first
            try:
                self.config = self.config.updated(changes)
            except (TypeError, ValueError) as exc:
                raise ApiError(400, str(exc)) from exc
            return self.config.as_dict()

    # --- faults and request log ---------------------------------------------------------------
    def add_fault(self, payload: Any) -> dict[str, Any]:
        with self.lock:
            try:
                return self.faults.add(payload).as_dict(self.clock())
            except ValueError as exc:
                raise ApiError(400, str(exc)) from exc

    def take_request_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            return self.faults.take_request_fault(endpoint)

    def log_request(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Remember an API request; the caller may fill in entry["status"] later."""
        with self.lock:
            entry = {**entry, "at": iso(self.clock()), "status": None}
            self._requests.append(entry)
            if len(self._requests) > MAX_LOGGED_REQUESTS:
                del self._requests[: len(self._requests) - MAX_LOGGED_REQUESTS]
            return entry

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(entry) for entry in self._requests]

    # --- auth ---------------------------------------------------------------------------------
    def check_auth(self, header: str | None) -> None:
        scheme, _, key = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiError(401, "Unauthorized: send 'Authorization: Bearer <your API key>'")
        with self.lock:
            if key.strip() in self.config.rejected_keys:
                raise ApiError(401, "Invalid API key")

    # --- submit -------------------------------------------------------------------------------
    def submit(
        self, model: str, body: Any, base_url: str, webhook_url: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Create a prediction; returns (its public snapshot in "created", has a webhook)."""
        if model not in spec.MODELS:
            raise ApiError(spec.UNKNOWN_MODEL_STATUS, f"Model not found: {model}")
        try:
            plan = validate(model, body)
        except InvalidInput as exc:
            raise ApiError(400, str(exc)) from exc
        if webhook_url is not None and not is_http_url(webhook_url):
            # [inferred] the real API wants public HTTPS; the simulator also takes http
            raise ApiError(400, "Invalid parameter 'webhook': must be an http(s) URL")
        with self.lock:
            now = self.clock()
            self._advance(now)
            self._check_image_rate(plan.image_count, now)
            if plan.cost > self.config.balance + 1e-9:
                raise ApiError(spec.INSUFFICIENT_BALANCE_STATUS, spec.INSUFFICIENT_BALANCE_MESSAGE)
            self._seq += 1
            prediction = Prediction(
                id=uuid.uuid4().hex,
                seq=self._seq,
                plan=plan,
                input=body,
                base_url=base_url,
                created_at=parse_iso(iso(now)),  # to the ms, as shown: filters compare exactly
                eligible_at=now + self.config.queue_delay,
                latency=(
                    min(self.config.latency, spec.FAST_MODEL_MAX_LATENCY)
                    if plan.fast
                    else self.config.latency
                ),
                output_format=self.config.output_format,
                webhook_url=webhook_url,
                webhook_id="msg_" + uuid.uuid4().hex,
            )
            self._apply_prediction_faults(prediction)
            if prediction.fail_code is None:
                for url in plan.media_urls:
                    if self.media.is_missing_local(url, base_url):
                        # [inferred] only our own /media/ URLs can be checked from here
                        prediction.fail_code = 1402
                        prediction.fail_error = f"{spec.FAILURE_MESSAGES[1402]}: {url}"
                        break
            if plan.image_count and self.config.images_per_minute:
                self._image_window.append((now, plan.image_count))
            self._predictions[prediction.id] = prediction
            self._active.append(prediction)
            return prediction.public(), webhook_url is not None

    def _apply_prediction_faults(self, prediction: Prediction) -> None:
        fail = self.faults.take_prediction_fault("fail_prediction", prediction.model)
        if fail is not None:
            prediction.fail_code, prediction.fail_error = fail.code, fail.error
        if self.faults.take_prediction_fault("nsfw", prediction.model):
            prediction.nsfw = True
        if self.faults.take_prediction_fault("expire_outputs", prediction.model):
            prediction.expired = True
        if prediction.webhook_url and self.faults.take_prediction_fault(
            "lose_webhook", prediction.model
        ):
            prediction.webhook_lost = True

    def _check_image_rate(self, count: int, now: float) -> None:
        """HTTP 429 with Retry-After when this submit would exceed the images-per-minute."""
        limit = self.config.images_per_minute
        window = self._image_window
        while window and window[0][0] <= now - spec.IMAGE_RATE_WINDOW:
            window.popleft()
        if not limit or not count:
            return
        used = sum(n for _, n in window)
        if used == 0 or used + count <= limit:
            return
        wait = spec.IMAGE_RATE_WINDOW
        for at, n in window:  # oldest first: when enough has left the window, it fits
            used -= n
            if used == 0 or used + count <= limit:
                wait = at + spec.IMAGE_RATE_WINDOW - now
                break
        retry_after = max(1, math.ceil(wait))
        raise ApiError(
            429,
            f"Too many requests: over the limit of {limit} images per minute",
            headers={"Retry-After": str(retry_after)},
        )

    # --- progress -----------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        """Replay every start and finish due by `now`, in time order (caller holds the lock)."""
        while self._active:
            running = [p for p in self._active if p.status == "processing"]
            waiting = [p for p in self._active if p.status == "created"]
            limit = self.config.concurrency
            next_finish = min(running, key=lambda p: (p.finish_due, p.seq), default=None)
            finish_at = next_finish.finish_due if next_finish else math.inf
            next_start, start_at = None, math.inf
            if waiting and (limit == 0 or len(running) < limit):
                # a slot free since the last event takes the earliest eligible, by submit order
                next_start = min(waiting, key=lambda p: (max(p.eligible_at, self._cursor), p.seq))
                start_at = max(next_start.eligible_at, self._cursor)
            if next_start is not None and start_at <= now and start_at < finish_at:
                next_start.status, next_start.started_at = "processing", start_at
                self._cursor = start_at
            elif next_finish is not None and finish_at <= now:
                self._finish(next_finish, finish_at)
                self._cursor = finish_at
            else:
                return

    def _finish(self, prediction: Prediction, at: float) -> None:
        prediction.finished_at = at
        self._active.remove(prediction)
        if prediction.fail_code is not None:
            prediction.status = "failed"
            prediction.error = prediction.fail_error
        else:
            prediction.status = "completed"
            prediction.outputs = self._make_outputs(prediction)
            # failed tasks are refunded, so only completed ones cost anything [doc]
            self.config.balance = round(self.config.balance - prediction.plan.cost, 6)
        if prediction.webhook_url and not prediction.webhook_lost:
            self._webhook_outbox.append(prediction.id)

    def _make_outputs(self, prediction: Prediction) -> list[Any]:
        if prediction.model == spec.PROMPT_OPTIMIZER:
            text = prediction.input["text"]
            return [enhance_prompt(text, prediction.input.get("style") or "default")]
        if prediction.model == spec.KLING_ELEMENTS:
            # [inferred] Kling element ids are long numeric strings
            return [{"element_id": str(10**18 + secrets.randbelow(9 * 10**18))}]
        return [
            f"{prediction.base_url}/cdn/{prediction.id}/{index}.{prediction.output_ext}"
            for index in range(prediction.plan.image_count)
        ]

    # --- reading ------------------------------------------------------------------------------
    def _visible(self, prediction: Prediction, now: float) -> bool:
        return not prediction.deleted and now - prediction.created_at < spec.RETENTION_SECONDS

    def get(self, prediction_id: str) -> dict[str, Any]:
        with self.lock:
            now = self.clock()
            self._advance(now)
            prediction = self._predictions.get(prediction_id)
            if prediction is None or not self._visible(prediction, now):
                raise ApiError(404, f"Prediction not found: {prediction_id}")
            return prediction.public()

    def history(self, body: Any) -> dict[str, Any]:
        body = {} if body is None else body
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid parameter 'body': must be a JSON object")
        page = _int_param(body, "page", 1, 1, 1_000_000)
        page_size = _int_param(body, "page_size", 20, 1, 100)
        model = body.get("model")
        if model is not None and not isinstance(model, str):
            raise ApiError(400, "Invalid parameter 'model': must be a string")
        status = body.get("status")
        if status is not None and status not in spec.STATUSES:
            raise ApiError(
                400, f"Invalid parameter 'status': must be one of {', '.join(spec.STATUSES)}"
            )
        after = _time_param(body, "created_after")
        before = _time_param(body, "created_before")
        with self.lock:
            now = self.clock()
            self._advance(now)
            matches = [
                p
                for p in self._predictions.values()
                if self._visible(p, now)
                and (model is None or p.model == model)
                and (status is None or p.status == status)
                and (after is None or p.created_at >= after)  # [inferred] bounds inclusive
                and (before is None or p.created_at <= before)
            ]
            matches.sort(key=lambda p: (p.created_at, p.seq), reverse=True)
            start = (page - 1) * page_size
            inputs = self.config.history_inputs
            items = [p.public(inputs) for p in matches[start : start + page_size]]
            return {"page": page, "total": len(matches), "items": items}

    def delete(self, body: Any) -> dict[str, Any]:
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "Invalid parameter 'ids': must be a list of prediction ids")
        with self.lock:
            now = self.clock()
            self._advance(now)
            deleted = 0
            for prediction_id in dict.fromkeys(ids):
                prediction = self._predictions.get(prediction_id)
                if prediction is None or not self._visible(prediction, now):
                    continue
                prediction.deleted = True
                if prediction in self._active:  # [inferred] deleting stops it, uncharged
                    self._active.remove(prediction)
                deleted += 1
            return {"deleted_count": deleted}

    def balance(self) -> float:
        with self.lock:
            self._advance(self.clock())
            return self.config.balance

    def webhook_secret(self) -> str:
        with self.lock:
            return self.config.webhook_secret

    def all_predictions(self) -> list[dict[str, Any]]:
        with self.lock:
            self._advance(self.clock())
            return [p.internal() for p in self._predictions.values()]

    def output(self, prediction_id: str, index: int, ext: str) -> OutputSpec:
        """What to render for a CDN URL; StorageError 403 when it is gone or never existed."""
        with self.lock:
            now = self.clock()
            self._advance(now)
            prediction = self._predictions.get(prediction_id)
            if (
                prediction is None
                or prediction.status != "completed"
                or prediction.model != spec.KLING_IMAGE_O3
                or not 0 <= index < len(prediction.outputs)
                or ext != prediction.output_ext
            ):
                raise access_denied()
            if (
                prediction.deleted
                or prediction.expired
                or now > (prediction.finished_at or 0) + self.config.output_ttl
            ):
                raise access_denied("Request has expired")
            return _output_spec(prediction, index, len(prediction.outputs))

    def outputs_ahead(self, prediction_id: str) -> list[tuple[int, OutputSpec]]:
        """The images a just-submitted prediction will have, for rendering them ahead (as a
        CDN would hold them when it finishes); none for one that is set to fail."""
        with self.lock:
            prediction = self._predictions.get(prediction_id)
            if (
                prediction is None
                or prediction.model != spec.KLING_IMAGE_O3
                or prediction.fail_code is not None
            ):
                return []
            count = prediction.plan.image_count
            return [(index, _output_spec(prediction, index, count)) for index in range(count)]

    # --- webhooks -----------------------------------------------------------------------------
    def webhooks_pending(self) -> bool:
        """True while some prediction with a webhook has yet to be delivered."""
        with self.lock:
            return bool(self._webhook_outbox) or any(p.webhook_url for p in self._active)

    def due_webhooks(self) -> list[WebhookJob]:
        """Advance, then hand out the deliveries that became due (each once)."""
        with self.lock:
            self._advance(self.clock())
            jobs = []
            for prediction_id in self._webhook_outbox:
                prediction = self._predictions[prediction_id]
                body = json.dumps(prediction.public(), separators=(",", ":")).encode()
                assert prediction.webhook_url is not None
                jobs.append(
                    WebhookJob(prediction.id, prediction.webhook_url, prediction.webhook_id, body)
                )
            self._webhook_outbox.clear()
            return jobs

    def record_webhook_attempt(self, prediction_id: str, result: dict[str, Any]) -> None:
        with self.lock:
            prediction = self._predictions.get(prediction_id)
            if prediction is not None:
                prediction.webhook_attempts.append({"at": iso(self.clock()), **result})


def _output_spec(prediction: Prediction, index: int, count: int) -> OutputSpec:
    body = prediction.input
    defaults = spec.KLING_IMAGE_O3_DEFAULTS
    aspect_ratio = str(body.get("aspect_ratio") or defaults["aspect_ratio"])
    resolution = str(body.get("resolution") or defaults["resolution"])
    width, height = pixel_size(aspect_ratio, resolution)
    words = " ".join(str(body.get("prompt", "")).split()[:8])
    label = f"{index + 1}/{count} · {resolution} · {aspect_ratio} · {width}x{height}"
    return OutputSpec(width, height, [words[:48], label], prediction.output_format)


def _int_param(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(400, f"Invalid parameter '{key}': must be an integer from {low} to {high}")
    return value


def _time_param(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_iso(value)
    except ValueError as exc:
        raise ApiError(400, f"Invalid parameter '{key}': must be an ISO 8601 time") from exc
