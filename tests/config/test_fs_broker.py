"""The embedded broker: messages appear whole, and kombu's consumer still finds them."""

from __future__ import annotations

import json

from kombu import Connection

import config.fs_broker  # noqa: F401 - registers the transport


def connect(folder) -> Connection:
    (folder / "control").mkdir(exist_ok=True)
    return Connection(
        "filesystem://",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
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
