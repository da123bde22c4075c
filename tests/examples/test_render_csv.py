"""examples/render_csv.py end to end: the script in its own process against the site served by
live_server, a real Celery worker and the simulator. Two rows both finish, their originals land
in the folder byte for byte as the simulator served them, and a second run submits nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from accounts.services import token_create
from generations.models import Generation
from tests.factories import image_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "render_csv.py"


def run(live_server, token: str, csv_path: Path, out: Path, *extra: str) -> str:
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), str(csv_path), "--out", str(out), "--poll", "0.3", *extra],
        env={"DARKROOM_URL": live_server.url, "DARKROOM_TOKEN": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        input="",
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


def test_two_rows_render_download_and_never_submit_twice(
    live_server, user, sim, start_worker, tmp_path
):
    start_worker()
    token = token_create(user=user, name="csv", scopes=["read", "generate"]).secret
    sheet = tmp_path / "prompts.csv"
    (tmp_path / "kite.png").write_bytes(image_bytes(size=(640, 480), color="red"))
    sheet.write_text(
        "prompt,aspect_ratio,resolution,num_images,references\n"
        "a lighthouse in a storm,16:9,1k,2,\n"
        "a kite over dunes,1:1,1k,1,kite.png\n",
        encoding="utf-8",
    )
    out = tmp_path / "renders"

    first = run(live_server, token, sheet, out, "--yes")
    assert "Total: $" in first and "2/2 finished" in first, first
    assert len(sim.submits()) == 2
    generations = list(Generation.objects.order_by("created_at"))
    assert [g.status for g in generations] == ["done", "done"]
    # The second row's reference file was uploaded with its run and sent on to the provider.
    assert [g.reference_links.count() for g in generations] == [0, 1]
    assert generations[1].reference_links.get().reference.original_name == "kite.png"
    assert sorted(len(s["json"].get("images") or []) for s in sim.submits()) == [0, 1]

    served = {}
    predictions = {p["id"]: p for p in sim.predictions()}
    for generation in generations:
        for index, url in enumerate(predictions[generation.provider_id]["outputs"]):
            image = generation.images.get(index=index)
            served[str(image.uuid)] = sim.http.get(url).raise_for_status().content
    files = sorted(out.iterdir())
    assert len(files) == 3
    for file in files:
        uuid = file.stem.split("-", 2)[2]
        assert file.read_bytes() == served[uuid], file.name

    again = run(live_server, token, sheet, out, "--yes")
    assert again.count("already submitted") == 2, again
    assert "Downloaded 0 new file(s)" in again
    assert len(sim.submits()) == 2
    assert Generation.objects.count() == 2


def test_without_yes_it_asks_and_a_no_submits_nothing(live_server, user, sim, tmp_path):
    token = token_create(user=user, name="csv", scopes=["read", "generate"]).secret
    sheet = tmp_path / "prompts.csv"
    sheet.write_text("prompt\na red kite\n", encoding="utf-8")
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), str(sheet)],
        env={"DARKROOM_URL": live_server.url, "DARKROOM_TOKEN": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        input="n\n",
    )
    assert finished.returncode == 1
    assert "Continue? [y/N]" in finished.stdout and "Nothing submitted." in finished.stdout
    assert not Generation.objects.exists()
    assert sim.submits() == []
