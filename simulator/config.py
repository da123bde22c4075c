"""Runtime settings of the simulated account, from defaults, env vars, flags or /_sim/config."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator import spec


def _new_webhook_secret() -> str:
    return spec.WEBHOOK_SECRET_PREFIX + secrets.token_hex(24)


@dataclass
class SimulatorConfig:
    latency: float = 3.0  # seconds a prediction spends in "processing"
    queue_delay: float = 0.3  # seconds in "created" before a free slot may pick it up
    concurrency: int = 0  # predictions processing at once; 0 = unlimited (a new account has 2)
    images_per_minute: int = 0  # 0 = no limit; over it a submit gets HTTP 429
    output_ttl: float = float(spec.RETENTION_SECONDS)  # seconds output URLs stay downloadable
    output_format: str = "png"  # png | jpeg
    balance: float = 1000.0  # USD; reduced by each completed prediction's cost
    rejected_keys: list[str] = field(default_factory=list)  # API keys answered with 401
    webhook_secret: str = field(default_factory=_new_webhook_secret)
    # how the history (POST /api/v3/predictions) echoes inputs: exact | normalised | none
    history_inputs: str = "exact"
    quiet: bool = False  # no per-request log lines on stderr

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        for name in ("latency", "queue_delay", "output_ttl", "balance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name}: must be a number >= 0")
            setattr(self, name, float(value))
        for name in ("concurrency", "images_per_minute"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: must be an integer >= 0")
        if self.output_format not in spec.OUTPUT_FORMATS:
            raise ValueError(f"output_format: must be one of {', '.join(spec.OUTPUT_FORMATS)}")
        if self.history_inputs not in spec.HISTORY_INPUTS:
            raise ValueError(f"history_inputs: must be one of {', '.join(spec.HISTORY_INPUTS)}")
        if not isinstance(self.rejected_keys, (list, tuple, set)) or not all(
            isinstance(k, str) for k in self.rejected_keys
        ):
            raise ValueError("rejected_keys: must be a list of strings")
        self.rejected_keys = list(self.rejected_keys)
        if not isinstance(self.webhook_secret, str) or not self.webhook_secret.startswith(
            spec.WEBHOOK_SECRET_PREFIX
        ):
            raise ValueError(f"webhook_secret: must start with {spec.WEBHOOK_SECRET_PREFIX!r}")

    def copy(self) -> SimulatorConfig:
        return dataclasses.replace(self, rejected_keys=list(self.rejected_keys))

    def updated(self, changes: Mapping[str, Any]) -> SimulatorConfig:
        """A validated copy with `changes` applied; unknown keys raise ValueError."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown setting")
        # int settings arrive as JSON numbers; accept 2.0 for 2 but not 2.5
        fixed = dict(changes)
        for name in ("concurrency", "images_per_minute"):
            value = fixed.get(name)
            if isinstance(value, float) and value.is_integer():
                fixed[name] = int(value)
        return dataclasses.replace(self.copy(), **fixed)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SimulatorConfig:
        """Defaults overridden by SIM_* environment variables."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, kind in ENV_SETTINGS.items():
            raw = env.get("SIM_" + name.upper())
            if raw is None or raw == "":
                continue
            try:
                values[name] = kind(raw)
            except ValueError as exc:
                raise ValueError(f"SIM_{name.upper()}: cannot read {raw!r}") from exc
        keys = env.get("SIM_REJECTED_KEYS")
        if keys:
            values["rejected_keys"] = [k.strip() for k in keys.split(",") if k.strip()]
        secret = env.get("SIM_WEBHOOK_SECRET")
        if secret:
            values["webhook_secret"] = secret
        return cls(**values)


# settings that env vars and CLI flags may set, with their parser
ENV_SETTINGS: dict[str, Any] = {
    "latency": float,
    "queue_delay": float,
    "concurrency": int,
    "images_per_minute": int,
    "output_ttl": float,
    "output_format": str,
    "balance": float,
    "history_inputs": str,
}
