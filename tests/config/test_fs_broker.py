"""The embedded broker: messages appear whole, kombu's consumer still finds them, and a consumer
at its prefetch limit is not held up."""

from __future__ import annotations

import contextlib
import json
import threading
from time import monotonic

from kombu import Connection, Consumer, Exchange, Queue

import config.fs_broker  # noqa: F401 - registers the transport


def connect(folder) -> Connection:
    (folder / "control").mkdir(exist_ok=True)
    return Connection(
        "filesystem://",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.1,  # as the settings have it
        },
    )


def test_a_message_is_renamed_into_the_folder_whole(tmp_path) -> None:
    with connect(tmp_path) as conn:
        queue = conn.SimpleQueue("jobs")
        queue.put({"generation_id": 7})
        messages = [p for p in tmp_path.iterdir() if p.name.endswith(".jobs.msg")]
        assert len(messages) == 1
        assert json.loads(messages[0].read_text())  # complete JSON, never an empty file
        assert list((tmp_path / ".staging").iterdir()) == []  # nothing left half-written
        queue.close()


def test_every_message_is_delivered_once(tmp_path) -> None:
    with connect(tmp_path) as conn:
        # kombu keeps exchange bindings per process: a queue name of its own for this test.
        queue = conn.SimpleQueue("delivery")
        for n in range(3):
            queue.put({"n": n})
        received = []
        for _ in range(3):
            message = queue.get(timeout=2)
            received.append(message.payload["n"])
            message.ack()
        # Like kombu's, files written in the same millisecond come in any order.
        assert sorted(received) == [0, 1, 2]
        assert queue.qsize() == 0
        queue.close()


def test_the_transport_behind_filesystem_urls_is_ours(tmp_path) -> None:
    with connect(tmp_path) as conn:
        assert type(conn.transport).__module__ == "config.fs_broker"


def test_a_consumer_at_its_prefetch_limit_gets_control_back_to_acknowledge(tmp_path) -> None:
    """As Celery's worker loop for this broker does: one message at a time (prefetch 1), each
    acknowledged a moment after delivery (when the pool takes it) but only between two calls of
    `drain_events(timeout=2.0)`. kombu's own transport waits out the 2 s for every message."""
    exchange = Exchange("prefetched", type="direct")
    queue = Queue("prefetched", exchange, routing_key="prefetched")
    taken: list[int] = []
    acks: list = []

    def on_message(body, message) -> None:
        taken.append(body["n"])
        threading.Timer(0.05, acks.append, args=(message.ack,)).start()

    with connect(tmp_path) as conn:
        producer = conn.Producer()
        for n in range(5):
            producer.publish({"n": n}, exchange=exchange, routing_key="prefetched", declare=[queue])
        with Consumer(conn.channel(), queues=[queue], callbacks=[on_message], prefetch_count=1):
            started = monotonic()
            while len(taken) < 5 and monotonic() - started < 30:
                while acks:
                    acks.pop()()
                with contextlib.suppress(TimeoutError):
                    conn.drain_events(timeout=2.0)
            took = monotonic() - started

    assert sorted(taken) == [0, 1, 2, 3, 4]
    assert took < 3.0, f"{took:.1f} s for 5 messages"  # kombu's transport: 2 s each after the 1st
