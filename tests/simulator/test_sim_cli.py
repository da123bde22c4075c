"""`python -m simulator`: flags over env vars, one log line per request, clean SIGTERM stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx
import pytest

from simulator.__main__ import build_config, listen_address, main, parse_args


def test_flags_override_env(monkeypatch) -> None:
    monkeypatch.setenv("SIM_LATENCY", "9")
    monkeypatch.setenv("SIM_CONCURRENCY", "2")
    monkeypatch.setenv("SIM_OUTPUT_FORMAT", "jpeg")
    config = build_config(parse_args(["--latency", "0.5", "--balance", "3"]))
    assert config.latency == 0.5  # flag wins
    assert config.concurrency == 2  # from env
    assert config.output_format == "jpeg"
    assert config.balance == 3
    assert config.queue_delay == 0.3  # default


def test_history_inputs_flag_and_env(monkeypatch) -> None:
    assert build_config(parse_args([])).history_inputs == "exact"
    monkeypatch.setenv("SIM_HISTORY_INPUTS", "none")
    assert build_config(parse_args([])).history_inputs == "none"
    config = build_config(parse_args(["--history-inputs", "normalised"]))
    assert config.history_inputs == "normalised"  # flag wins
    with pytest.raises(SystemExit):
        parse_args(["--history-inputs", "sometimes"])


def test_url_gives_the_host_and_port_and_flags_win() -> None:
    """The Procfile passes WAVESPEED_SIMULATOR_URL as --url: the simulator listens where the
    app is told to send its requests."""
    assert listen_address(parse_args([])) == ("127.0.0.1", 8765)
    assert listen_address(parse_args(["--url", "http://127.0.0.2:9911"])) == ("127.0.0.2", 9911)
    assert listen_address(parse_args(["--url", "http://localhost:9911/"])) == ("localhost", 9911)
    assert listen_address(parse_args(["--url", "http://127.0.0.1"])) == ("127.0.0.1", 80)
    both = parse_args(["--url", "http://127.0.0.2:9911", "--port", "0", "--host", "0.0.0.0"])
    assert listen_address(both) == ("0.0.0.0", 0)


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1:8765", "http://127.0.0.1:8765/api", "127.0.0.1:8765", "http://h:x"]
)
def test_a_url_the_simulator_cannot_serve_is_refused(url: str, capsys) -> None:
    assert main(["--url", url]) == 2
    assert f"--url {url!r}" in capsys.readouterr().err


def test_cli_serves_logs_and_stops_on_sigterm() -> None:
    env = {**os.environ, "SIM_BALANCE": "42"}
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--latency", "0.1"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        match = re.search(r"listening on (http://\S+)", banner)
        assert match, banner
        with httpx.Client(base_url=match.group(1), trust_env=False, timeout=5) as client:
            response = client.get("/api/v3/balance", headers={"Authorization": "Bearer k"})
        assert response.json()["data"] == {"balance": 42.0}
        assert "GET /api/v3/balance -> 200" in process.stderr.readline()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert "stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_simulator_imports_no_django_or_app_code() -> None:
    code = (
        "import sys, simulator.server, simulator.__main__; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'config', 'generations')); print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
