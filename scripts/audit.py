"""`make audit`: known vulnerabilities in the locked versions, with pip-audit.

    python scripts/audit.py requirements/dev.txt requirements/tools.txt

Runs in the tools virtualenv (.venv-tools), where pip-audit is installed; it reads the lock
files only (`--disable-pip --require-hashes`): nothing is installed or resolved.

pip-audit asks a vulnerability service about each locked release: PyPI's JSON API first (its
per-release page, `/pypi/NAME/VERSION/json`, lists the release's known vulnerabilities), then
OSV. When the service cannot be reached, or answers "not found" for releases that are on PyPI
(as a registry mirror that serves only the package index does), pip-audit skips every package
and still prints "No known vulnerabilities found". This script says instead that nothing was
checked, and why.

Exit status: 1 when a vulnerability was found; otherwise 0, also when no service could be
reached (the output says so): `make audit` is a report, not a gate, and is not part of CI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("pypi", "osv")
SERVICE_NAMES = {
    "pypi": "PyPI's JSON API (pypi.org/pypi/NAME/VERSION/json)",
    "osv": "OSV (api.osv.dev)",
}


@dataclass
class Outcome:
    service: str
    audited: list[dict] = field(default_factory=list)  # dependencies the service answered for
    skipped: list[dict] = field(default_factory=list)  # with pip-audit's skip_reason
    error: str = ""  # pip-audit failed outright (no report)

    @property
    def vulnerable(self) -> list[dict]:
        return [dep for dep in self.audited if dep.get("vulns")]

    @property
    def reached(self) -> bool:
        """The service answered for at least one locked release."""
        return not self.error and bool(self.audited)


def read_report(service: str, returncode: int, stdout: str, stderr: str) -> Outcome:
    """pip-audit's JSON report (`--format json`), sorted into audited and skipped."""
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        return Outcome(service, error=lines[-1] if lines else f"pip-audit exited {returncode}")
    outcome = Outcome(service)
    for dependency in report.get("dependencies", []):
        (outcome.skipped if "skip_reason" in dependency else outcome.audited).append(dependency)
    return outcome


def run_pip_audit(service: str, locks: list[str]) -> Outcome:
    command = [
        str(Path(sys.executable).with_name("pip-audit")),
        "--disable-pip",
        "--require-hashes",
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--vulnerability-service",
        service,
        "--timeout",
        os.environ.get("AUDIT_TIMEOUT", "15"),
    ]
    for lock in locks:
        command += ["--requirement", lock]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return read_report(service, result.returncode, result.stdout, result.stderr)


def probe(url: str) -> str:
    """What `url` answers, in a few words."""
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"no answer ({getattr(exc, 'reason', exc)})"


def short_error(error: str) -> str:
    if "Failed to resolve" in error or "Name or service not known" in error:
        return "its host name does not resolve from here"
    if "ConnectionError" in error or "Timeout" in error:
        return "no connection: " + error[:160]
    return error[:200]


def why_not(outcome: Outcome, probe_url=probe) -> str:
    if outcome.error:
        return short_error(outcome.error)
    if not outcome.skipped:
        return "the lock lists no releases"
    first = outcome.skipped[0]
    why = f"answered for none of the {len(outcome.skipped)} locked releases"
    version = re.search(r"\(([^()\s]+)\)$", first["skip_reason"])
    if outcome.service == "pypi" and version:
        url = f"https://pypi.org/pypi/{first['name']}/{version.group(1)}/json"
        return (
            f"{why}: {url} answers {probe_url(url)}, though the lock was made from that "
            "release's files on PyPI"
        )
    return f"{why} ({first['skip_reason']})"


def report(outcomes: list[Outcome], locks: list[str], probe_url=probe) -> tuple[str, int]:
    """What to print, and the exit status, from the services tried in order."""
    used = next((outcome for outcome in outcomes if outcome.reached), None)
    if used is None:
        lines = [
            "make audit: NOT CHECKED. No vulnerability database could be reached, so the locked "
            f"versions ({', '.join(locks)}) were not audited:"
        ]
        lines += [f"  - {SERVICE_NAMES[o.service]}: {why_not(o, probe_url)}" for o in outcomes]
        lines.append(
            "Run `make audit` where one of them is reachable; nothing here says the locked "
            "versions are free of known vulnerabilities."
        )
        return "\n".join(lines), 0
    lines = [
        f"make audit: {len(used.audited)} locked releases checked against "
        f"{SERVICE_NAMES[used.service]}."
    ]
    if used.skipped:
        names = ", ".join(f"{dep['name']}" for dep in used.skipped)
        lines.append(f"NOT CHECKED ({len(used.skipped)}, the service had no answer): {names}")
    if not used.vulnerable:
        lines.append("No known vulnerabilities in the releases checked.")
        return "\n".join(lines), 0
    lines.append(f"KNOWN VULNERABILITIES in {len(used.vulnerable)} locked releases:")
    for dep in used.vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            also = f" ({aliases})" if aliases else ""
            lines.append(f"  {dep['name']} {dep['version']}: {vuln['id']}{also}; fixed in {fixed}")
    lines.append(
        "Raise the lower bound in pyproject.toml (or requirements/tools.in) where needed, then "
        "`make lock UPGRADE=1` and `make test`."
    )
    return "\n".join(lines), 1


def main(argv: list[str]) -> int:
    locks = argv or ["requirements/dev.txt"]
    outcomes = []
    for service in SERVICES:
        outcome = run_pip_audit(service, locks)
        outcomes.append(outcome)
        if outcome.reached:
            break
    text, status = report(outcomes, locks)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
