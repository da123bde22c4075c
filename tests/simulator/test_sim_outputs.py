"""Output images: documented pixel sizes, PNG by default, JPEG when configured, expiry."""

from __future__ import annotations

import io
import time

import pytest
from conftest import Api, FakeClock
from PIL import Image

from simulator.images import render


def _open(api: Api, url: str) -> Image.Image:
    response = api.bare.get(url)  # no Authorization, like a CDN
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    assert response.headers["content-type"] == Image.MIME[image.format or ""]
    return image


@pytest.mark.parametrize(
    ("aspect_ratio", "resolution", "size"),
    [
        ("16:9", "1k", (1360, 768)),
        ("3:4", "2k", (1760, 2336)),
        ("21:9", "4k", (6272, 2688)),
        ("auto", "1k", (1024, 1024)),
        (None, None, (1024, 1024)),  # defaults: auto, 1k
    ],
)
def test_output_has_documented_pixel_size_and_is_png(
    api: Api, aspect_ratio: str | None, resolution: str | None, size: tuple[int, int]
) -> None:
    body = {"prompt": "a red fox"}
    if aspect_ratio:
        body |= {"aspect_ratio": aspect_ratio, "resolution": resolution}
    done = api.wait(api.submit_ok(body)["id"])
    (url,) = done["outputs"]
    assert url.startswith(f"{api.base_url}/cdn/")
    image = _open(api, url)
    assert image.format == "PNG"
    assert image.size == size


def test_series_delivers_four_images_and_num_images_many(api: Api) -> None:
    series = api.submit_ok({"prompt": "p", "result_type": "series", "num_images": 9})
    several = api.submit_ok({"prompt": "p", "num_images": 3, "aspect_ratio": "9:16"})
    assert len(api.wait(series["id"])["outputs"]) == 4
    outputs = api.wait(several["id"])["outputs"]
    assert len(outputs) == 3
    images = [_open(api, url) for url in outputs]
    assert {image.size for image in images} == {(768, 1360)}
    assert len({image.tobytes() for image in images}) == 3  # each output differs


def test_jpeg_when_configured(api: Api) -> None:
    api.control("config", {"output_format": "jpeg"})
    done = api.wait(api.submit_ok({"prompt": "p", "aspect_ratio": "4:3"})["id"])
    image = _open(api, done["outputs"][0])
    assert image.format == "JPEG"
    assert image.size == (1168, 880)


def test_output_expires_after_ttl_with_403(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    api.control("config", {"output_ttl": 60})
    prediction_id = api.submit_ok()["id"]
    clock.advance(2)
    (url,) = api.get(prediction_id)["outputs"]
    assert api.bare.get(url).status_code == 200
    clock.advance(59)
    assert api.bare.get(url).status_code == 200
    clock.advance(2)
    expired = api.bare.get(url)
    assert expired.status_code == 403
    assert "<Error><Code>AccessDenied</Code>" in expired.text


def test_unknown_or_unfinished_outputs_are_403(api: Api) -> None:
    created = api.submit_ok()
    assert api.bare.get(f"/cdn/{created['id']}/0.png").status_code == 403  # not done yet
    done = api.wait(created["id"])
    assert api.bare.get(done["outputs"][0]).status_code == 200
    assert api.bare.get(f"/cdn/{created['id']}/1.png").status_code == 403
    assert api.bare.get(f"/cdn/{created['id']}/0.jpg").status_code == 403
    assert api.bare.get("/cdn/nope/0.png").status_code == 403


def test_head_gives_length_without_body(api: Api) -> None:
    done = api.wait(api.submit_ok()["id"])
    full = api.bare.get(done["outputs"][0])
    head = api.bare.head(done["outputs"][0])
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(full.content))


def test_biggest_image_renders_fast() -> None:
    started = time.perf_counter()
    data = render(6272, 2688, "seed/0", ["a prompt", "1/1"], "png")
    elapsed = time.perf_counter() - started
    assert Image.open(io.BytesIO(data)).size == (6272, 2688)
    assert elapsed < 2.0  # ~0.4 s here; generous for a loaded CI box


def test_outputs_are_rendered_ahead_so_a_download_only_sends_bytes(clocked_api: Api) -> None:
    """Like a CDN holding finished files: a prediction's images are rendered in the background
    once it is submitted (while it runs, on a clock that does not move here), not when they are
    first downloaded; the download then sends exactly those bytes."""
    renders = clocked_api.sim.server.renders
    created = clocked_api.submit_ok({"prompt": "a fox", "num_images": 2, "aspect_ratio": "4:3"})
    keys = [(created["id"], 0), (created["id"], 1)]
    deadline = time.monotonic() + 10
    while not all(renders.ready(key) for key in keys):
        assert time.monotonic() < deadline, "the outputs were not rendered ahead"
        time.sleep(0.02)
    assert clocked_api.get(created["id"])["status"] == "created"  # nothing has run yet


def test_a_prediction_set_to_fail_is_not_rendered(clocked_api: Api) -> None:
    clocked_api.fault(kind="fail_prediction", code=1400)
    created = clocked_api.submit_ok({"prompt": "p"})
    time.sleep(0.3)
    assert not clocked_api.sim.server.renders.ready((created["id"], 0))


def test_a_download_before_the_render_ahead_renders_it_once(api: Api) -> None:
    """A download that comes first renders the file itself (as before) and the background
    render of it is skipped; the bytes are the same either way."""
    first = api.wait(api.submit_ok({"prompt": "same"})["id"])
    data = api.bare.get(first["outputs"][0]).content
    api.sim.server.renders.clear()
    again = api.bare.get(first["outputs"][0]).content
    assert data == again
