"""Finding 7 of issue 12: exact versions, locked with hashes, installed the same way everywhere.

requirements/base.txt (the app: the Docker image), requirements/dev.txt (the app and its test
tools: `make install`, so `make test` and CI) and requirements/tools.txt (uv and pip-audit for
`make lock` and `make audit`) are written by `make lock` from pyproject.toml and
requirements/tools.in. These tests read them as pip's `--require-hashes` mode does, check that
they cover what pyproject.toml asks for, and check `make audit`'s report.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
BASE, DEV, TOOLS = (REQUIREMENTS / f"{name}.txt" for name in ("base", "dev", "tools"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SHA256 = re.compile(r"--hash=sha256:[0-9a-f]{64}")


@dataclass
class Pin:
    name: str  # canonical
    version: str
    marker: Marker | None
    hashes: list[str]
    via: list[str] = field(default_factory=list)  # uv's annotations: who asked for it


def read_lock(path: Path) -> dict[str, list[Pin]]:
    """A lock file's entries by name (a universal lock may pin a name twice, under markers that
    exclude each other). Fails on anything `pip install --require-hashes` would refuse."""
    pins: dict[str, list[Pin]] = {}
    current: Pin | None = None
    for number, line in enumerate(path.read_text().replace("\\\n", " ").splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            via = stripped.lstrip("#").strip().removeprefix("via").strip()
            if current is not None and via:
                current.via.append(via)
            continue
        assert not stripped.startswith("-"), f"{path.name}:{number}: an option line: {line!r}"
        requirement_text, *options = re.split(r"\s+(?=--)", stripped)
        hashes = [option for option in options if SHA256.fullmatch(option)]
        assert hashes == options, f"{path.name}:{number}: options besides hashes: {options}"
        assert hashes, f"{path.name}:{number}: no hash (--require-hashes refuses it)"
        requirement = Requirement(requirement_text)
        assert not requirement.url, f"{path.name}:{number}: a URL requirement"
        (spec,) = requirement.specifier  # exactly one specifier: pinned
        assert spec.operator == "==" and "*" not in spec.version, f"{path.name}:{number}"
        current = Pin(canonicalize_name(requirement.name), spec.version, requirement.marker, hashes)
        pins.setdefault(current.name, []).append(current)
    return pins


def applies(pin: Pin, extra: str = "") -> bool:
    return pin.marker is None or pin.marker.evaluate({"extra": extra})


def pinned_here(lock: dict[str, list[Pin]], name: str) -> Pin:
    """The entry of `name` that applies on this machine."""
    found = [pin for pin in lock.get(canonicalize_name(name), []) if applies(pin)]
    assert len(found) == 1, f"{name}: {len(found)} entries apply here"
    return found[0]


@pytest.fixture(scope="module")
def base() -> dict[str, list[Pin]]:
    return read_lock(BASE)


@pytest.fixture(scope="module")
def dev() -> dict[str, list[Pin]]:
    return read_lock(DEV)


def declared(requirements: list[str]) -> list[Requirement]:
    return [Requirement(text) for text in requirements]


def extras_of(requirement: Requirement) -> set[str]:
    """What the requirement's extras add (`celery[redis]` → redis), from the installed
    distribution's metadata."""
    names = set()
    for text in importlib.metadata.requires(requirement.name) or []:
        needed = Requirement(text)
        if needed.marker and any(
            needed.marker.evaluate({"extra": extra}) for extra in requirement.extras
        ):
            names.add(canonicalize_name(needed.name))
    return names


# --- Pinned, hashed -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [BASE, DEV, TOOLS], ids=lambda path: path.name)
def test_finding7_pip_require_hashes_accepts_the_lock(path: Path) -> None:
    pins = read_lock(path)  # fails on an unpinned or unhashed line
    assert pins
    header = path.read_text().splitlines()[:2]
    assert header[1].strip("# ") == "make lock", "written by `make lock`, not by hand"


def test_finding7_the_lock_covers_every_dependency_in_pyproject(base, dev) -> None:
    runtime = declared(PYPROJECT["dependencies"])
    tools = declared(PYPROJECT["optional-dependencies"]["dev"])
    for lock, wanted in ((base, runtime), (dev, runtime + tools)):
        for requirement in wanted:
            pin = pinned_here(lock, requirement.name)
            assert requirement.specifier.contains(pin.version, prereleases=True), (
                f"{requirement} is locked at {pin.version}: run `make lock`"
            )
            for name in extras_of(requirement):
                assert name in lock, f"{name} (from {requirement}) is not locked"
        # The names match both ways: nothing is locked as ours that pyproject no longer asks for.
        direct = {
            name
            for name, pins in lock.items()
            for pin in pins
            if any("pyproject" in v for v in pin.via)
        }
        assert direct == {canonicalize_name(r.name) for r in wanted}
    assert set(base) <= set(dev)


def test_finding7_the_dev_lock_holds_the_images_versions(base, dev) -> None:
    """`make test` tests exactly the versions the Docker image ships."""
    for name, pins in base.items():
        assert [(p.version, str(p.marker)) for p in dev[name]] == [
            (p.version, str(p.marker)) for p in pins
        ], name


def test_finding7_celery_and_kombu_stay_exactly_pinned(base, dev) -> None:
    wanted = {r.name: str(r.specifier) for r in declared(PYPROJECT["dependencies"])}
    assert (wanted["celery"], wanted["kombu"]) == ("==5.6.3", "==5.6.2")
    for lock in (base, dev):
        assert pinned_here(lock, "celery").version == "5.6.3"
        assert pinned_here(lock, "kombu").version == "5.6.2"


def test_finding7_this_environment_is_installed_from_the_lock(dev) -> None:
    wrong = {}
    for name, pins in dev.items():
        for pin in pins:
            if not applies(pin):
                continue
            try:
                installed = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                installed = None
            if installed != pin.version:
                wrong[name] = (pin.version, installed)
    assert not wrong, f"locked vs installed (run `make install`): {wrong}"


def test_finding7_tools_lock_pins_what_tools_in_asks_for() -> None:
    tools = read_lock(TOOLS)
    for line in (REQUIREMENTS / "tools.in").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "=="
            assert pinned_here(tools, requirement.name).version == spec.version


# --- Installed from the lock everywhere ---------------------------------------------------------


def dry_run(target: str, *variables: str) -> str:
    """The commands `make TARGET` would run (as if nothing were installed yet)."""
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "--no-print-directory", target, *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.replace("\\\n", " ")


def test_finding7_make_install_installs_from_the_lock(tmp_path: Path) -> None:
    commands = dry_run("install", f"VENV={tmp_path / 'venv'}").splitlines()
    pip = [c for c in commands if " pip install" in c]
    assert len(pip) == 2, commands
    assert pip[0].endswith("--require-hashes --requirement requirements/dev.txt")
    assert pip[1].endswith("--no-deps --editable .")
    # make test, make lint (CI: .ci/run) and make run depend on it.
    makefile = (ROOT / "Makefile").read_text()
    for target in ("test", "lint", "run"):
        assert re.search(rf"^{target}: install\b", makefile, re.MULTILINE), target
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "pip install" not in ci


def test_finding7_the_image_installs_from_the_lock() -> None:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    runs = [line for line in text.splitlines() if "pip install" in line]
    assert len(runs) == 2, runs
    assert "pip install --require-hashes --requirement requirements/base.txt" in runs[0]
    assert "pip install --no-deps --editable ." in runs[1]
    copies = [line.split() for line in text.splitlines() if line.startswith("COPY ")]
    assert copies[0][1:] == ["requirements/base.txt", "requirements/base.txt"]


def test_finding7_make_lock_writes_every_lock_with_hashes() -> None:
    commands = dry_run("lock").splitlines()
    compiles = [c for c in commands if "uv pip compile" in c]
    outputs = [c.split("--output-file ")[1].split()[0] for c in compiles]
    assert outputs == ["requirements/base.txt", "requirements/dev.txt", "requirements/tools.txt"]
    for command in compiles:
        assert "--generate-hashes" in command and "--universal" in command
    assert "--constraint requirements/base.txt" in compiles[1]


# --- Upper bounds where a private API is used ---------------------------------------------------


def test_finding7_private_apis_have_an_upper_bound() -> None:
    specifiers = {r.name: r.specifier for r in declared(PYPROJECT["dependencies"])}
    # config/fs_broker.py (kombu's filesystem Channel._put); config/media.py
    # (S3Storage._normalize_name); the Makefile and tests rely on honcho 2's .env handling.
    for name in ("kombu", "django-storages", "honcho", "Pillow", "blurhash-python"):
        assert any(spec.operator in {"<", "==", "~="} for spec in specifiers[name]), name


def test_the_private_django_storages_api_media_uses_is_there() -> None:
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name

    storage = S3Storage(bucket_name="b", location="media", access_key="a", secret_key="s")
    assert storage._normalize_name(clean_name("ab/../cd/e.png")) == "media/cd/e.png"


# --- make audit -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audit() -> Iterator[ModuleType]:
    """scripts/audit.py, which `make audit` runs with the tools virtualenv's Python."""
    name = "darkroom_audit_script"
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look themselves up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


def skipped(name: str, version: str) -> dict:
    return {
        "name": name,
        "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} ({version})",
    }


def no_network(url: str) -> str:
    return "HTTP 404"


def test_make_audit_says_plainly_when_no_database_answers(audit) -> None:
    outcomes = [
        audit.Outcome("pypi", skipped=[skipped("django", "5.2.19"), skipped("amqp", "5.4.2")]),
        audit.read_report("osv", 1, "", "Traceback...\nConnectionError: Failed to resolve x"),
    ]
    text, status = audit.report(outcomes, ["requirements/dev.txt"], probe_url=no_network)
    assert status == 0  # a report, not a gate
    assert text.startswith("make audit: NOT CHECKED.")
    assert "https://pypi.org/pypi/django/5.2.19/json answers HTTP 404" in text
    assert "OSV (api.osv.dev): its host name does not resolve" in text
    assert "No known vulnerabilities" not in text


def test_make_audit_lists_vulnerabilities_and_fails(audit) -> None:
    vulnerable = {
        "name": "django",
        "version": "5.2.1",
        "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.2"], "aliases": ["CVE-1"]}],
    }
    clean = {"name": "amqp", "version": "5", "vulns": []}
    report = audit.read_report("osv", 1, json.dumps({"dependencies": [vulnerable, clean]}), "")
    pypi_down = audit.Outcome("pypi", error="ConnectionError: no route")
    text, status = audit.report([pypi_down, report], ["l.txt"], probe_url=no_network)
    assert status == 1
    assert "2 locked releases checked against OSV" in text
    assert "django 5.2.1: PYSEC-1 (CVE-1); fixed in 5.2.2" in text


def test_make_audit_names_what_it_could_not_check(audit) -> None:
    outcome = audit.Outcome(
        "pypi",
        audited=[{"name": "django", "version": "5.2.19", "vulns": []}],
        skipped=[skipped("private-thing", "1.0")],
    )
    text, status = audit.report([outcome], ["l.txt"], probe_url=no_network)
    assert status == 0
    assert "NOT CHECKED (1, the service had no answer): private-thing" in text
    assert "No known vulnerabilities in the releases checked." in text
