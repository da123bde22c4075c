"""No request body answers 500: each field of each POST operation's JSON body (and the
references upload's files) given values a client should never send, and bodies that are not the
object asked for. Each answer is a success or a refusal in the API's one error shape."""

from __future__ import annotations

import base64
import io

import pytest

from tests.factories import image_bytes

V1 = "/api/v1"

# Strings a form would not expect (a NUL, a lone surrogate, a right-to-left override, very
# long), numbers out of every range, and each wrong JSON type.
HOSTILE = [
    "é",
    "\x00",
    "a\x00b",
    "\ud800",
    "\u202e",
    "x" * 5000,
    10**30,
    -(10**30),
    1.5,
    True,
    None,
    [],
    {},
]
# Bodies that are not a JSON object, or not JSON at all.
RAW_BODIES = [
    b"",
    b"\xff\xfe",
    b"null",
    b"[]",
    b'"text"',
    b"1e999",
    b'{"a": 1e999}',
    b"[" * 100_000 + b"]" * 100_000,
]


def _png() -> str:
    return base64.b64encode(image_bytes(size=(640, 480), color="teal")).decode()


def _generation_bodies() -> list[dict]:
    base = {"prompt": "a kite over dunes"}
    fields = [
        "prompt",
        "prompt_original",
        "project",
        "aspect_ratio",
        "resolution",
        "result_type",
        "num_images",
        "references",
        "reference_uploads",
        "elements",
    ]
    bodies = [{**base, name: value} for name in fields for value in HOSTILE]
    for value in HOSTILE:
        bodies += [
            {**base, "references": [value]},
            {**base, "elements": [value]},
            {**base, "reference_uploads": [value]},
            {**base, "reference_uploads": [{"filename": value, "content_base64": _png()}]},
            {**base, "reference_uploads": [{"filename": "a.png", "content_base64": value}]},
        ]
    return bodies


def _element_bodies() -> list[dict]:
    base = {"name": "Mira2", "kling_element_id": "8123"}
    fields = ["name", "kling_element_id", "note", "project", "preview"]
    return [{**base, name: value} for name in fields for value in HOSTILE]


def _answered(response) -> str | None:
    """What is wrong with `response`, if anything: a 500, or a refusal in another shape."""
    if response.status_code >= 500:
        return f"{response.status_code}: {response.content[:200]!r}"
    if response.status_code >= 400:
        error = response.json().get("error", {})
        if not {"code", "message", "field_errors"} <= set(error):
            return f"{response.status_code} not in the one shape: {response.content[:200]!r}"
    return None


def _raw(api, path: str, content: bytes):
    return api.client.post(
        path, content, content_type="application/json", headers=api._headers("alice", None)
    )


@pytest.fixture
def unlimited(settings):
    settings.DARKROOM_API_GENERATIONS_PER_MINUTE = 10_000
    settings.DARKROOM_API_REQUESTS_PER_MINUTE = 10_000


@pytest.mark.parametrize("operation", ["generations", "elements", "move"])
def test_no_json_body_answers_500(api, world, pipeline, unlimited, operation):
    api.client.raise_request_exception = False  # answer as a server would
    path, bodies = {
        "generations": (f"{V1}/generations", _generation_bodies()),
        "elements": (f"{V1}/elements", _element_bodies()),
        "move": (
            f"{V1}/images/{world.project_image.uuid}/move",
            [{"project": value} for value in HOSTILE],
        ),
    }[operation]
    wrong = {}
    for body in bodies:
        if (problem := _answered(api.post(path, body))) is not None:
            wrong[repr(body)[:120]] = problem
    for content in RAW_BODIES:
        if (problem := _answered(_raw(api, path, content))) is not None:
            wrong[repr(content)[:120]] = problem
    assert not wrong, "\n".join(f"{body} -> {problem}" for body, problem in wrong.items())


def test_no_references_upload_answers_500(api, world, unlimited):
    api.client.raise_request_exception = False
    picture = image_bytes(size=(640, 480), color="olive")
    names = ["é.png", "a\x00.png", "\x00", "\u202e.png", "x" * 5000 + ".png", "../../a.png"]
    cases: list[dict] = []
    for name in names:
        file = io.BytesIO(picture)
        file.name = name
        cases.append({"files": [file]})
    cases += [{"files": "not a file"}, {"files": ""}, {}, {"other": io.BytesIO(picture)}]
    wrong = {}
    for data in cases:
        response = api.client.post(f"{V1}/references", data, headers=api._headers("alice", None))
        if (problem := _answered(response)) is not None:
            wrong[repr(data)[:120]] = problem
    for content in RAW_BODIES:
        if (problem := _answered(_raw(api, f"{V1}/references", content))) is not None:
            wrong[repr(content)[:120]] = problem
    assert not wrong, "\n".join(f"{body} -> {problem}" for body, problem in wrong.items())
