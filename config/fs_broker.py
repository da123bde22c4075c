"""kombu's filesystem broker, with messages written atomically and consumed without stalls.

The stock transport writes each message file in place while consumers list the same folder,
so a consumer can read a half-written (empty) file and the worker dies with a JSONDecodeError
(kombu issue #1551; seen twice in ~17 runs of bench/jobs_in_flight.py). Here a message is
written beside the folder and renamed into it, so it appears whole or not at all.

The stock transport also keeps polling until the caller's timeout while a consumer's prefetch
limit forbids taking another message. Celery's worker loop for a broker like this one (no event
loop) acknowledges the messages its pool took only between two calls, each with a 2 s timeout,
so a worker took at most its prefetch count (its concurrency) of messages every 2 s: one a
second for `make run`'s worker, less than the sweeps alone when they run every second, and every
follow or save waited behind a growing backlog. Here a consumer at its limit hands control back
after one polling interval, so the worker acknowledges what it took and goes on.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from queue import Empty
from time import monotonic, sleep

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs) -> None:
        # Same name scheme as kombu's, so its consumer finds and orders the files as usual.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = os.path.join(self.data_folder_out, ".staging")
        try:
            os.makedirs(staging, exist_ok=True)
            fd, temp_path = tempfile.mkstemp(dir=staging)
            with os.fdopen(fd, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(temp_path, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to the broker folder") from exc


class Transport(filesystem.Transport):
    Channel = Channel

    def drain_events(self, connection, timeout: float | None = None) -> None:
        """Deliver one message, as kombu's does; but with nothing deliverable and a consumer at
        its prefetch limit, time out (`socket.timeout`) after one polling interval instead of
        polling until `timeout`: only the caller's acknowledgements can free the limit."""
        started = monotonic()
        interval = self.polling_interval or 0.0
        if timeout is not None:
            interval = min(interval, timeout)
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                if timeout is not None and monotonic() - started >= timeout:
                    raise TimeoutError from None
                sleep(interval)
                if self._at_prefetch_limit():
                    raise TimeoutError from None

    def _at_prefetch_limit(self) -> bool:
        return any(
            channel._consumers and not channel.qos.can_consume() for channel in self.channels
        )


# `filesystem://` means this transport in every process that imports the Celery app.
TRANSPORT_ALIASES["filesystem"] = "config.fs_broker:Transport"
