"""Elements for tests: made through the services, as the pages make them."""

from __future__ import annotations

import io

import pytest
from PIL import Image


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, fmt, **save)
    return buffer.getvalue()


@pytest.fixture
def make_element():
    from elements import services

    counter = iter(range(10**6))

    def make(created_by, *, project=None, name: str | None = None, preview: bool = False, **kw):
        n = next(counter)
        return services.element_create(
            created_by=created_by,
            project=project,
            name=name or f"Element {n}",
            kling_element_id=kw.pop("kling_element_id", f"80000000000000000{n:02d}"),
            preview=services.preview_from_upload(io.BytesIO(image_bytes())) if preview else None,
            **kw,
        )

    return make
