"""examples/render_csv.py's Idempotency-Keys: a CSV without reference files keeps the keys the
script gave it before it could upload references (so a re-run after an upgrade submits, and
pays, nothing twice); a row's reference files are part of its key."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.factories import image_bytes

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "render_csv.py"

# What the script before references (commit ae0cc6d) made of this file, named prompts.csv.
SHEET = (
    "prompt,aspect_ratio,resolution,num_images\n"
    "a lighthouse in a storm,16:9,1k,2\n"
    "a kite over dunes,1:1,1k,1\n"
)
KEYS_BEFORE = [
    "csv-7a3970192dc608e0785dcf4f16f2bf165f2ce46a",
    "csv-643e45965e23a9141439648218b3c045bad2e0ce",
]


@pytest.fixture(scope="module")
def render_csv():
    spec = importlib.util.spec_from_file_location("render_csv", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_csv"] = module  # for its dataclasses
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["render_csv"]


def test_a_csv_without_references_keeps_its_keys(render_csv, tmp_path):
    sheet = tmp_path / "prompts.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    assert [row.key for row in render_csv.read_rows(sheet)] == KEYS_BEFORE


def test_a_rows_reference_files_are_part_of_its_key(render_csv, tmp_path):
    sheet = tmp_path / "prompts.csv"
    sheet.write_text("prompt,references\na kite,kite.png\n", encoding="utf-8")
    kite = tmp_path / "kite.png"
    kite.write_bytes(image_bytes(size=(640, 480), color="red"))
    [before] = render_csv.read_rows(sheet)
    kite.write_bytes(image_bytes(size=(640, 480), color="blue"))
    [after] = render_csv.read_rows(sheet)
    assert before.key != after.key  # another picture: another request
