"""A curl example for every operation, added to the OpenAPI document (to each operation's
description, which the reference page shows, and as `x-codeSamples` for tools that read it).
tests/api/test_schema.py checks that no operation is without one."""

from __future__ import annotations

from typing import Any

AUTH = '-H "Authorization: Bearer $DARKROOM_TOKEN"'
JSON = '-H "Content-Type: application/json"'

# (method, path under /api/v1) → what the call adds: a query string, curl options, or a command
# whose output curl sends (`before`, piped into it).
EXTRAS: dict[tuple[str, str], dict[str, str]] = {
    ("get", "/quote"): {"query": "?resolution=2k&num_images=4"},
    ("get", "/projects"): {},
    ("get", "/projects/{uuid}"): {},
    ("get", "/projects/{uuid}/members"): {},
    ("get", "/projects/{uuid}/spend"): {"query": "?month=2026-11"},
    ("get", "/spend/me"): {"query": "?month=2026-11"},
    ("get", "/spend/review"): {"query": "?start=2026-11-01&end=2026-11-30"},
    ("get", "/elements"): {},
    ("post", "/elements"): {
        "options": f"{JSON} \\\n     "
        '-d \'{"name": "Mira", "kling_element_id": "860123456789", "project": "\'$PROJECT\'"}\''
    },
    ("get", "/generations"): {"query": "?q=lighthouse&status=done&from=2026-11-01&limit=20"},
    # A reference by uuid and one uploaded with the run: the body built by jq, since a picture in
    # base64 is longer than a shell argument may be.
    ("post", "/generations"): {
        "before": 'jq -n --arg ref "$REFERENCE" --rawfile kite <(base64 < kite.png) \\\n   '
        '\'{prompt: "a kite over the dunes at dusk", resolution: "2k", num_images: 2,\n'
        "     references: [$ref],\n"
        '     reference_uploads: [{filename: "kite.png", content_base64: $kite}]}\' |',
        "options": f'{JSON} \\\n     -H "Idempotency-Key: prompts.csv-row-17" --data-binary @-',
    },
    ("get", "/generations/{uuid}"): {},
    ("post", "/generations/{uuid}/retry"): {},
    ("post", "/generations/{uuid}/cancel"): {},
    ("get", "/images"): {"query": "?q=lighthouse&starred=1&limit=48"},
    ("get", "/images/{uuid}"): {},
    ("get", "/images/{uuid}/original"): {"options": "-L -o original.png"},
    ("get", "/images/{uuid}/thumbnails/{size}"): {"options": "-L -o thumbnail.webp"},
    ("put", "/images/{uuid}/star"): {},
    ("delete", "/images/{uuid}/star"): {},
    ("post", "/images/{uuid}/move"): {"options": f"{JSON} -d '{{\"project\": \"'$PROJECT'\"}}'"},
    ("post", "/images/{uuid}/trash"): {},
    ("post", "/images/{uuid}/restore"): {},
    ("get", "/references"): {"query": "?limit=20"},
    ("post", "/references"): {"options": "-F files=@kite.png -F files=@dune.jpg"},
}

# What each path parameter stands for in the examples.
PLACEHOLDERS = {
    "/projects/{uuid}": "$PROJECT",
    "/generations/{uuid}": "$GENERATION",
    "/images/{uuid}": "$IMAGE",
}


def curl(method: str, path: str) -> str:
    extras = EXTRAS[(method, path)]
    url = path
    for prefix, placeholder in PLACEHOLDERS.items():
        if url.startswith(prefix):
            url = url.replace("{uuid}", placeholder)
    url = url.replace("{size}", "512")
    parts = ["curl -s"]
    if method != "get":
        parts.append(f"-X {method.upper()}")
    parts.append(AUTH)
    if extras.get("options"):
        parts.append(extras["options"])
    command = " ".join(parts)
    if extras.get("before"):
        command = f"{extras['before']}\n{command}"
    return f'{command} \\\n     "$DARKROOM_URL/api/v1{url}{extras.get("query", "")}"'


def add_examples(document: dict[str, Any], *, path_prefix: str) -> None:
    """Each operation's curl example, in place; a KeyError for an operation without one."""
    for full_path, operations in document["paths"].items():
        path = "/" + full_path.removeprefix(path_prefix.rstrip("/")).lstrip("/")
        for method, operation in operations.items():
            example = curl(method, path)
            description = operation.get("description", "")
            operation["description"] = f"{description}\n\n```sh\n{example}\n```".lstrip()
            operation["x-codeSamples"] = [{"lang": "Shell", "label": "curl", "source": example}]
