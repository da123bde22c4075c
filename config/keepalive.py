"""Keep a command running: `python -m config.keepalive -- CMD ARGS...`.

honcho (`make run`, the Procfile) stops every process as soon as one of them exits, so a Celery
worker that dies (a broker restart it cannot survive, an out-of-memory kill) would otherwise
take the whole studio down with it, or, run alone, stay down until someone notices. This starts
the command again after a short, capped backoff, as `restart: unless-stopped` does under
docker compose. SIGINT and SIGTERM are passed on to the command, and then this exits with it.

The command runs in its own process group, so a signal sent to our group (Ctrl-C in a terminal,
honcho stopping us) reaches it once, through us: a second SIGINT tells Celery to stop at once.
On Linux the command is also killed when this process dies (honcho's SIGKILL after its 5 s
grace), as it would be in our group; elsewhere it is left to finish the stop it was told.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from functools import partial
from types import FrameType

FIRST_DELAY = 1.0
MAX_DELAY = 15.0
# A run this long was healthy: the next failure starts the backoff from the beginning.
HEALTHY_RUN = 60.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with(parent: int) -> None:
    """In the child, before exec (Linux): receive SIGKILL when `parent` dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def log(message: str) -> None:
    print(f"keepalive: {message}", file=sys.stderr, flush=True)


def exit_status(returncode: int) -> int:
    """A shell's exit status for a child's return code (-N: killed by signal N)."""
    return 128 - returncode if returncode < 0 else returncode


def describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Keepalive:
    def __init__(
        self,
        command: Sequence[str],
        *,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
        healthy_run: float = HEALTHY_RUN,
    ) -> None:
        self.command = list(command)
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.healthy_run = healthy_run
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()
        child = self.child
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    def run(self) -> int:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.on_signal)
        delay = self.first_delay
        while True:
            started = time.monotonic()
            try:
                self.child = subprocess.Popen(
                    self.command,
                    process_group=0,
                    preexec_fn=partial(die_with, os.getpid()) if sys.platform == "linux" else None,
                )
            except OSError as exc:  # not found, not executable: starting again cannot help
                log(f"cannot start `{shlex.join(self.command)}`: {exc}")
                return 127
            if self.stopping.is_set():  # told to stop while it was starting
                self.child.send_signal(signal.SIGTERM)
            returncode = self.child.wait()
            if self.stopping.is_set():
                return exit_status(returncode)
            ran = time.monotonic() - started
            if ran >= self.healthy_run:
                delay = self.first_delay
            log(
                f"`{shlex.join(self.command)}` {describe(returncode)} after {ran:.1f} s; "
                f"starting it again in {delay:g} s"
            )
            if self.stopping.wait(delay):
                return exit_status(returncode)
            delay = min(self.max_delay, delay * 2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m config.keepalive",
        description="Run a command, and start it again whenever it exits without being told to.",
    )
    parser.add_argument("--first-delay", type=float, default=FIRST_DELAY, metavar="SECONDS")
    parser.add_argument("--max-delay", type=float, default=MAX_DELAY, metavar="SECONDS")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (python -m config.keepalive -- CMD ARGS...)")
    keepalive = Keepalive(command, first_delay=args.first_delay, max_delay=args.max_delay)
    return keepalive.run()


if __name__ == "__main__":
    sys.exit(main())
