"""Image work on its own queue (issue 13, item 4), through the Procfile's workers: while a burst
of slow 4k saves holds every process of the images worker, a new run is still submitted and
followed at once, and the saves all complete afterwards; their thumbnails are made by the
thumbnails worker after that."""

from __future__ import annotations

import re
import time

import pytest

from generations.models import Generation, OutputImage, Renditions, Status
from imaging.images import THUMBNAIL_SIZES
from tests.e2e.test_outages import all_final, generate, statuses
from tests.processes import PROCFILE_LAYOUT, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BURST = 6
# Seconds the "CDN" holds each download of the burst: each save holds an images process that
# long, so the burst keeps the images worker's two processes busy for three rounds.
HELD = 10.0
SAVE_RECEIVED = re.compile(r"Task generations\.tasks\.save_generation_outputs\[[^\]]+\] received")
THUMBNAILS_RECEIVED = re.compile(
    r"Task generations\.tasks\.make_image_renditions\[[^\]]+\] received"
)


def saves_claimed(generations: list[Generation]) -> int:
    return Generation.objects.filter(
        pk__in=[g.pk for g in generations], status=Status.SAVING, save_claimed_at__isnull=False
    ).count()


def test_a_burst_of_slow_saves_never_delays_a_new_runs_submit_and_polls(
    client, user, sim, redis_server, celery_broker, start_worker
) -> None:
    # Redis, as in production: the filesystem broker's workers pick messages up only every
    # second or two, which would blur the timings this test is about.
    redis = redis_server()
    celery_broker(redis.url)
    sim.configure(latency=1.0)
    workers = {
        name: start_worker(options=options, REDIS_URL=redis.url, CELERY_BROKER_URL=redis.url)
        for name, options in PROCFILE_LAYOUT.items()
    }
    client.force_login(user)
    sim.fault("slow", endpoint="output", seconds=HELD, count=BURST)
    burst = [generate(client, f"4k burst {i}", resolution="4k") for i in range(BURST)]
    wait_for(lambda: saves_claimed(burst) >= 2, timeout=60, what="both images processes saving")

    started = time.monotonic()
    new = generate(client, "a new run behind the burst")
    wait_for(lambda: statuses([new]) != ["queued"], timeout=15, what="the new run submitted")
    submitted_after = time.monotonic() - started
    wait_for(
        lambda: statuses([new])[0] in ("saving", "done"),
        timeout=30,
        what="the new run followed to its end",
    )
    followed_after = time.monotonic() - started
    waiting = statuses(burst).count("saving")
    print(
        f"new run submitted after {submitted_after:.1f} s, followed to its end after "
        f"{followed_after:.1f} s, with {waiting} of {BURST} saves of the burst waiting"
    )
    assert submitted_after < 5, workers["submitter"].log()[-3000:]
    # WaveSpeed's time (1 s) and a poll or two, not the saves ahead in the queue (HELD s each).
    assert followed_after < 10, workers["worker"].log()[-3000:]
    # Only the first round of the burst can have been saved by then: the rest still waits.
    assert waiting >= BURST - 2, statuses(burst)

    # Once the images processes are free, every save completes, the new run's too.
    everything = [*burst, new]
    wait_for(lambda: all_final(everything), timeout=120, what="every run final")
    assert statuses(everything) == ["done"] * (BURST + 1)
    # Their thumbnails come after, from the thumbnails worker.
    wait_for(
        lambda: not OutputImage.objects.exclude(renditions=Renditions.READY).exists(),
        timeout=120,
        what="every image's thumbnails made",
    )
    for generation in burst:
        [image] = OutputImage.objects.filter(generation=generation)
        assert (image.width, image.height) == (4096, 4096)  # 1:1 at 4k, read from the file
        assert image.thumbnails.count() == len(THUMBNAIL_SIZES) and image.placeholder
    assert len(THUMBNAILS_RECEIVED.findall(workers["thumbnails"].log())) >= BURST + 1
    for name in ("worker", "submitter", "images"):
        assert not THUMBNAILS_RECEIVED.search(workers[name].log()), name
    assert len(sim.submits()) == BURST + 1
    # Saved by the images worker, and only there.
    assert len(SAVE_RECEIVED.findall(workers["images"].log())) >= BURST + 1
    for name in ("worker", "submitter"):
        assert not SAVE_RECEIVED.search(workers[name].log()), name
