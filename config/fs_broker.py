"""kombu's filesystem broker, with messages written atomically.

The stock transport writes each message file in place while consumers list the same folder,
so a consumer can read a half-written (empty) file and the worker dies with a JSONDecodeError
(kombu issue #1551; seen twice in ~17 runs of bench/jobs_in_flight.py). Here a message is
written beside the folder and renamed into it, so it appears whole or not at all.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from time import monotonic

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


# `filesystem://` means this transport in every process that imports the Celery app.
TRANSPORT_ALIASES["filesystem"] = "config.fs_broker:Transport"
