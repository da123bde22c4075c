"""A local stand-in for the WaveSpeed AI REST API (Kling Image O3 and friends).

Only the standard library and Pillow: it must run without Django. See simulator.server for the
Python API (SimulatorConfig, make_server, start_in_thread) and `python -m simulator --help`.

Tests steer it through unauthenticated control routes:

- POST /_sim/reset; GET/POST /_sim/config (any SimulatorConfig field, see simulator.config);
  GET /_sim/requests; GET /_sim/predictions.
- POST /_sim/faults queues a fault, GET /_sim/faults lists the pending ones (simulator.faults).
  Request faults (`http`, `slow`, `drop_connection`, aimed at an `endpoint`) are used up by
  `count` requests, or, with `for_seconds` (a number > 0), are timed: they hit every request to
  their endpoint until that many seconds of the simulator's clock have passed since queuing,
  whatever `count` says, then vanish. E.g. a CDN outage:
  `{"kind": "http", "endpoint": "output", "status": 503, "for_seconds": 90}`.
- Config `history_inputs` (also SIM_HISTORY_INPUTS, --history-inputs) sets how the history,
  POST /api/v3/predictions, echoes each prediction's `input`: `exact` as submitted (default),
  `normalised` without the fields equal to the model's documented defaults
  (spec.INPUT_DEFAULTS), or `none` with no `input` at all. The /result endpoint always echoes
  the input exactly.
"""
