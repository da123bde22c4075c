"""Render a spreadsheet of prompts through Darkroom's JSON API.

    DARKROOM_URL=https://darkroom.example DARKROOM_TOKEN=drk_... \\
        python render_csv.py prompts.csv --out renders/

The CSV has a header row; `prompt` is required, every other column is optional and takes the
Generate form's values: aspect_ratio (auto, 1:1, 16:9, ...), resolution (1k, 2k, 4k),
num_images (1-9), result_type (single, series), project (a project's uuid; empty: personal),
references (image files for the row, separated by `;`, relative to the CSV's folder: each is
uploaded with the row's run, at most 10).

It quotes every row first and prints the total, asks before spending (`--yes` does not ask),
submits each row with an Idempotency-Key made from the file's name, the row's number and its
values (so running it again, after a crash or on purpose, never submits a row twice: Darkroom
answers the earlier generation), waits for every run, and downloads the originals into the
output folder (a file already there is not fetched again).

Needs Python 3.10+ and httpx; the token needs the `read` and `generate` scopes.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

COLUMNS = (
    "prompt",
    "aspect_ratio",
    "resolution",
    "num_images",
    "result_type",
    "project",
    "references",
)
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


@dataclass
class Row:
    number: int  # 1 for the first row under the header
    values: dict[str, str]
    references: list[Path] = field(default_factory=list)
    key: str = ""
    generation: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": self.values["prompt"]}
        for name in ("aspect_ratio", "resolution", "result_type", "project"):
            if self.values.get(name):
                body[name] = self.values[name]
        if self.values.get("num_images"):
            body["num_images"] = int(self.values["num_images"])
        if self.references:
            body["reference_uploads"] = [
                {"filename": p.name, "content_base64": base64.b64encode(p.read_bytes()).decode()}
                for p in self.references
            ]
        return body


def read_rows(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        if not reader.fieldnames or "prompt" not in reader.fieldnames:
            sys.exit(f"{path}: the header row needs a `prompt` column.")
        unknown = set(reader.fieldnames) - set(COLUMNS)
        if unknown:
            sys.exit(f"{path}: unknown columns {sorted(unknown)}; known: {', '.join(COLUMNS)}.")
        rows = []
        for number, values in enumerate(reader, start=1):
            clean = {k: (v or "").strip() for k, v in values.items() if k}
            if not clean.get("prompt"):
                continue
            references = [
                path.parent / name.strip()
                for name in clean.get("references", "").split(";")
                if name.strip()
            ]
            for reference in references:
                if not reference.is_file():
                    sys.exit(f"{path}: row {number}: no file {reference}.")
            row = Row(number=number, values=clean, references=references)
            row.key = idempotency_key(path, row)
            rows.append(row)
    return rows


def idempotency_key(path: Path, row: Row) -> str:
    """The same file name, row, values and reference files: the same key, on every run (a
    reference file changed since is another request, with another key)."""
    parts: list[Any] = [path.name, row.number, row.values]
    if row.references:
        # Only then: a row without files keeps the key the script gave it before it uploaded
        # references, so a re-run after an upgrade submits (and pays) nothing twice.
        parts.append([hashlib.sha256(p.read_bytes()).hexdigest() for p in row.references])
    text = json.dumps(parts, sort_keys=True)
    return f"csv-{hashlib.sha256(text.encode()).hexdigest()[:40]}"


class Darkroom:
    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            # On S3 an original is a redirect to a signed URL (httpx drops the token there).
            follow_redirects=True,
        )

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, waiting out a 429 (Retry-After) and stopping on any other error."""
        for _ in range(20):
            response = self.http.request(method, path, **kwargs)
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", "5")))
                continue
            if response.status_code >= 400:
                try:
                    error = response.json()["error"]
                    detail = f"{error['message']} {error.get('field_errors') or ''}".strip()
                except (ValueError, KeyError):
                    detail = response.text[:200]
                raise SystemExit(f"{method} {path}: {response.status_code} {detail}")
            return response
        raise SystemExit(f"{method} {path}: still rate limited, giving up.")


def quote(api: Darkroom, rows: list[Row]) -> Decimal:
    total = Decimal(0)
    for row in rows:
        body = row.body()
        params = {
            k: body[k] for k in ("resolution", "num_images", "result_type", "project") if k in body
        }
        found = api.call("GET", "/quote", params=params).json()
        total += Decimal(found["total"])
        note = f"  REFUSED: {found['refusal']}" if found["refusal"] else ""
        images = f"{found['num_images']} × {found['resolution']}"
        print(f"row {row.number}: {images} = ${found['total']}{note}")
    return total


def submit(api: Darkroom, rows: list[Row]) -> None:
    for row in rows:
        response = api.call(
            "POST", "/generations", json=row.body(), headers={"Idempotency-Key": row.key}
        )
        row.generation = response.json()
        again = response.headers.get("Idempotent-Replayed") == "true"
        what = "already submitted" if again else "submitted"
        print(f"row {row.number}: {what} as {row.generation['uuid']}")


def wait(api: Darkroom, rows: list[Row], poll: float) -> None:
    while True:
        for row in rows:
            if row.generation["state"] == "active":
                row.generation = api.call("GET", f"/generations/{row.generation['uuid']}").json()
        finished = sum(row.generation["state"] != "active" for row in rows)
        active = [r for r in rows if r.generation["state"] == "active"]
        phases = "; ".join(f"row {r.number}: {r.generation['phase']}" for r in active[:3])
        print(f"{finished}/{len(rows)} finished" + (f" ({phases})" if phases else ""), flush=True)
        if not active:
            return
        time.sleep(poll)


def download(api: Darkroom, rows: list[Row], out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    fetched = 0
    for row in rows:
        if row.generation["state"] == "failed":
            failure = row.generation["failure"] or {}
            print(f"row {row.number}: failed: {failure.get('message', '')}")
            continue
        for output in row.generation["outputs"]:
            if output["trashed"]:
                continue
            extension = EXTENSIONS.get(output["content_type"], "bin")
            target = out / f"row{row.number:03d}-{output['index'] + 1}-{output['uuid']}.{extension}"
            if target.exists() and target.stat().st_size == output["bytes"]:
                continue
            response = api.call("GET", f"/images/{output['uuid']}/original")
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(response.content)
            partial.replace(target)
            fetched += 1
    return fetched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--out", type=Path, help="Folder for the originals (default: CSV-images)")
    parser.add_argument("--url", default=os.environ.get("DARKROOM_URL", "http://localhost:8000"))
    parser.add_argument("--token", default=os.environ.get("DARKROOM_TOKEN", ""))
    parser.add_argument("--yes", action="store_true", help="Do not ask before submitting.")
    parser.add_argument("--poll", type=float, default=3.0, help="Seconds between status checks.")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give a token: --token or DARKROOM_TOKEN (make one on your profile page)")
    out = args.out or args.csv.with_name(f"{args.csv.stem}-images")
    rows = read_rows(args.csv)
    if not rows:
        print("No rows with a prompt.")
        return 0
    api = Darkroom(args.url, args.token)
    total = quote(api, rows)
    print(f"Total: ${total} for {len(rows)} rows (rows submitted before are not charged again).")
    if not args.yes and input("Continue? [y/N] ").strip().lower() not in {"y", "yes"}:
        print("Nothing submitted.")
        return 1
    submit(api, rows)
    wait(api, rows, args.poll)
    fetched = download(api, rows, out)
    failed = sum(row.generation["state"] == "failed" for row in rows)
    print(f"Downloaded {fetched} new file(s) into {out}; {failed} row(s) failed.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
