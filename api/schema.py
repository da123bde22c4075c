"""The API's OpenAPI document as JSON text, and the checked-in copy it must match
(docs/api/openapi.json: `manage.py api_schema` writes it; tests/api/test_schema.py compares)."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

SNAPSHOT = Path(settings.BASE_DIR) / "docs" / "api" / "openapi.json"


def schema_text() -> str:
    from .api import api

    document = api.get_openapi_schema(path_prefix="/api/v1/")
    # Through JSON and back: status codes become strings, as in the served document.
    return json.dumps(json.loads(json.dumps(document)), indent=2, sort_keys=True) + "\n"
