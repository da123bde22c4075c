"""The repository explains itself: what the code relies on is written down in its own docs/.

No tracked file outside docs/ may cite the notes it was built from, which live outside the
repository; docs/wavespeed.md must exist and name every WaveSpeed model the code calls.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from wavespeed.specs import KLING_ELEMENTS, KLING_IMAGE_O3, PROMPT_OPTIMIZER

ROOT = Path(__file__).resolve().parent.parent
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()

# Paths of notes outside the repository that a file might cite, assembled so that this file
# does not cite them itself.
_NOTES = "shared"
OUTSIDE_PATHS = (
    f"{_NOTES}/wavespeed-api.md",
    f"{_NOTES}/seed-kling",
    "seed-kling-" + "image-o3",
    f"/work/{_NOTES}",
    "MEASURED" + ".md",
    "CONVENTIONS" + ".md",
)
MODEL_IDS = ("kwaivgi/kling-image-o3", "wavespeed-ai/prompt-optimizer", "kwaivgi/kling-elements")


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no tracked files to check")
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [name for name in listing.decode().split("\0") if name]


def text_of(path: Path) -> str | None:
    """The file's text, or None for a binary file (or one deleted but still tracked)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def test_no_tracked_file_outside_docs_cites_notes_outside_the_repository() -> None:
    citations = []
    for name in tracked_files():
        if name.startswith("docs/") or name == THIS_FILE:
            continue
        text = text_of(ROOT / name)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for outside in OUTSIDE_PATHS:
                if outside in line:
                    citations.append(f"{name}:{number}: {outside}")
    assert not citations, (
        "These lines cite notes outside the repository; cite docs/wavespeed.md or "
        "docs/measured.md instead:\n" + "\n".join(citations)
    )


def test_docs_wavespeed_names_every_model_the_code_calls() -> None:
    doc = ROOT / "docs" / "wavespeed.md"
    assert doc.is_file(), "docs/wavespeed.md is missing"
    text = doc.read_text(encoding="utf-8")
    assert set(MODEL_IDS) == {KLING_IMAGE_O3, PROMPT_OPTIMIZER, KLING_ELEMENTS}
    missing = [model for model in MODEL_IDS if model not in text]
    assert not missing, f"docs/wavespeed.md does not mention {missing}"


def test_docs_measured_and_the_index_exist() -> None:
    for name in ("measured.md", "README.md"):
        assert (ROOT / "docs" / name).is_file(), f"docs/{name} is missing"


# A file of the repository as the docs write it: `wavespeed/client.py`.
CITED_PATH = re.compile(r"`((?:[\w.-]+/)+[\w.-]+\.(?:py|md|html|js|css|txt|in|toml|yml|conf))`")


def test_paths_the_docs_and_readme_name_exist() -> None:
    """The provider notes and the README's code map point at the code as it is: a module that
    moves takes its mentions with it."""
    named = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    missing = []
    for doc in named:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
            for path in CITED_PATH.findall(line):
                if not (ROOT / path).exists():
                    missing.append(f"{doc.relative_to(ROOT)}:{number}: {path}")
    assert not missing, "These mentions name paths that do not exist:\n" + "\n".join(missing)
