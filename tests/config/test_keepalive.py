"""config.keepalive: a command that exits is started again; SIGTERM stops both."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import wait_for

ROOT = Path(__file__).resolve().parent.parent.parent


def keepalive(*command: str, stderr_to: Path) -> subprocess.Popen[bytes]:
    with open(stderr_to, "wb") as stderr:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "config.keepalive",
                "--first-delay",
                "0.1",
                "--max-delay",
                "0.2",
                "--",
                *command,
            ],
            cwd=ROOT,
            stderr=stderr,
        )


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def alive(pid: int) -> bool:
    """Running: a zombie (dead, not yet reaped by whoever inherited it) does not count."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    return True


def test_a_command_that_exits_is_started_again(tmp_path) -> None:
    runs = tmp_path / "runs"
    log = tmp_path / "stderr"
    child = f"open({str(runs)!r}, 'a').write('ran\\n'); raise SystemExit(3)"
    supervisor = keepalive(sys.executable, "-c", child, stderr_to=log)
    try:
        wait_for(lambda: len(lines(runs)) >= 3, timeout=15, what="three runs")
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=10)
    restarts = [line for line in lines(log) if line.startswith("keepalive: ")]
    assert len(restarts) >= 2
    assert "exited with status 3" in restarts[0] and "starting it again in 0.1 s" in restarts[0]
    assert "starting it again in 0.2 s" in restarts[-1]  # the backoff grows, up to its cap


def test_sigterm_stops_the_supervisor_and_its_command(tmp_path) -> None:
    pid_file = tmp_path / "pid"
    events = tmp_path / "events"
    child = (
        "import os, signal, sys, time\n"
        "def stop(signum, frame):\n"
        f"    open({str(events)!r}, 'a').write(signal.Signals(signum).name + '\\n')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    )
    supervisor = keepalive(sys.executable, "-c", child, stderr_to=tmp_path / "stderr")
    wait_for(lambda: bool(lines(pid_file)), timeout=15, what="the command to start")
    child_pid = int(lines(pid_file)[0])

    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=10) == 0  # the command's own status: it stopped cleanly
    wait_for(lambda: not alive(child_pid), timeout=5, what="the command to end")
    assert lines(events) == ["SIGTERM"]  # passed on once, and not started again
    assert lines(tmp_path / "stderr") == []


def test_a_command_that_cannot_start_is_not_retried(tmp_path) -> None:
    supervisor = keepalive(str(tmp_path / "missing"), stderr_to=tmp_path / "stderr")
    assert supervisor.wait(timeout=10) == 127
    assert lines(tmp_path / "stderr")[0].startswith("keepalive: cannot start")


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_the_command_dies_with_a_killed_supervisor(tmp_path) -> None:
    """honcho SIGKILLs what has not stopped after its grace: nothing may be left behind."""
    pid_file = tmp_path / "pid"
    child = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    supervisor = keepalive(sys.executable, "-c", child, stderr_to=tmp_path / "stderr")
    wait_for(lambda: bool(lines(pid_file)), timeout=15, what="the command to start")
    supervisor.kill()
    supervisor.wait(timeout=10)
    wait_for(lambda: not alive(int(lines(pid_file)[0])), timeout=5, what="the command to die")
