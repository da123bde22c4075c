"""`python -m simulator --host 127.0.0.1 --port 8765`: run the simulator in the foreground.

`python -m simulator --url http://127.0.0.1:8765` listens where that URL points (the Procfile
passes WAVESPEED_SIMULATOR_URL, the address the app is told to use).
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType
from urllib.parse import urlsplit

from simulator.config import ENV_SETTINGS, SimulatorConfig
from simulator.server import make_server
from simulator.spec import HISTORY_INPUTS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="A local stand-in for the WaveSpeed AI API (Kling Image O3). "
        "Each setting also reads SIM_<NAME> from the environment; a flag wins over the env var.",
    )
    parser.add_argument(
        "--url",
        help="listen at this http URL's host and port (default http://127.0.0.1:8765); "
        "--host and --port win over it",
    )
    parser.add_argument("--host", help="default 127.0.0.1")
    parser.add_argument("--port", type=int, help="default 8765; 0 picks a free port")
    parser.add_argument("--latency", type=float, help="seconds in 'processing' (default 3.0)")
    parser.add_argument("--queue-delay", type=float, help="seconds in 'created' (default 0.3)")
    parser.add_argument(
        "--concurrency", type=int, help="predictions processing at once, 0 = unlimited (default)"
    )
    parser.add_argument(
        "--images-per-minute", type=int, help="over it a submit gets 429; 0 = off (default)"
    )
    parser.add_argument(
        "--output-ttl", type=float, help="seconds output URLs stay downloadable (default 7 days)"
    )
    parser.add_argument("--output-format", choices=["png", "jpeg"], help="default png")
    parser.add_argument("--balance", type=float, help="account balance in USD (default 1000)")
    parser.add_argument(
        "--history-inputs",
        choices=list(HISTORY_INPUTS),
        help="how the history echoes each prediction's input: exact (default), normalised "
        "(documented defaults omitted) or none (no input)",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    return parser.parse_args(argv)


DEFAULT_URL = "http://127.0.0.1:8765"


def listen_address(args: argparse.Namespace) -> tuple[str, int]:
    """Where to listen: --host/--port, else the host and port of --url (or DEFAULT_URL)."""
    url = args.url or DEFAULT_URL
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"--url {url!r}: {exc}") from None
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"--url {url!r}: the simulator serves plain http://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"--url {url!r}: the simulator serves the API at the root, not a path")
    host = args.host if args.host is not None else parts.hostname
    return host, args.port if args.port is not None else (port or 80)


def build_config(args: argparse.Namespace) -> SimulatorConfig:
    config = SimulatorConfig.from_env()
    flags = {name: getattr(args, name) for name in ENV_SETTINGS if getattr(args, name) is not None}
    if args.quiet:
        flags["quiet"] = True
    return config.updated(flags)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds serve_forever like Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = build_config(args)
        host, port = listen_address(args)
    except ValueError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    server = make_server(host, port, config)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(
        f"[simulator] WaveSpeed simulator listening on {server.base_url} "
        f"(latency={config.latency}s queue_delay={config.queue_delay}s "
        f"concurrency={config.concurrency or 'unlimited'} "
        f"images_per_minute={config.images_per_minute or 'off'} "
        f"output_format={config.output_format} balance=${config.balance:g} "
        f"history_inputs={config.history_inputs})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        print("[simulator] stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
