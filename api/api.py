"""The JSON API, version 1: `/api/v1/`, its schema at `/api/v1/openapi.json` and its
interactive reference at `/api/v1/docs` (swagger-ui from our own static files: "ninja" is in
INSTALLED_APPS, so django-ninja serves its bundled copy instead of a CDN's)."""

from __future__ import annotations

import json
import re
from typing import Any, cast

from django.http import HttpRequest
from ninja import NinjaAPI, Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from . import errors
from .endpoints import router
from .examples import add_examples
from .images import router as images_router
from .references import router as references_router

DESCRIPTION = """\
Darkroom's JSON API: the same rules as its pages, for scripts. [Back to the studio](/) ·
[your tokens](/accounts/profile/)

**Authentication.** Make a personal access token on your profile page and send it as
`Authorization: Bearer drk_…`. A token acts as you, with your rights at the time of each call,
narrowed to its scopes (`read`, `generate`, `manage`) and, if you chose one, to one project.

**Errors** all have one shape: `{"error": {"code", "message", "field_errors"}}`; 401 no usable
token, 403 no right (or scope), 404 nothing you may see, 409/422 a request that cannot be done as
sent (422: invalid values, a budget refusal, an Idempotency-Key reused), 413 a body over its
limit, 429 over a rate limit (see `Retry-After`).

**Example**: `curl -H "Authorization: Bearer $DARKROOM_TOKEN" https://darkroom.example/api/v1/projects`
"""


class DarkroomSwagger(Swagger):
    """ninja's swagger-ui page in the site's light or dark theme (templates/api/docs.html)."""

    template = "api/docs.html"


# A JSON escape of a UTF-16 surrogate (\ud800-\udfff): Python decodes a lone one into a string
# that cannot be written as UTF-8 (to the database, to a file's name).
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class JsonParser(Parser):
    """ninja's JSON body parser, refusing a string that is not text: a lone surrogate, which
    only a JSON escape can make (a form's body is decoded with replacement characters). Any
    exception here is ninja's 400 "Cannot parse request body"."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body)
        if SURROGATE_ESCAPE.search(request.body):
            # Raises UnicodeEncodeError where a surrogate is not half of a pair.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        return cast(dict[str, Any], data)


class DarkroomAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """ninja's document, with a curl example on every operation (api/examples.py)."""
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        add_examples(document, path_prefix=path_prefix)
        return document


api = DarkroomAPI(
    title="Darkroom API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-1",
    parser=JsonParser(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=DarkroomSwagger(settings={"persistAuthorization": False, "tryItOutEnabled": False}),
)
errors.install(api)
api.add_router("/", router)
api.add_router("/", images_router)
api.add_router("/", references_router)
