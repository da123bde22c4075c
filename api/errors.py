"""One error shape for every answer that is not a success:

    {"error": {"code": "not_found", "message": "No such project.", "field_errors": {}}}

`code` is stable (clients branch on it), `message` is for a person, `field_errors` maps a
request field to its messages (a 422, or a 409 over one field). Statuses as their RFCs mean
them: 400 a request that cannot be read, 401 no usable token (with `WWW-Authenticate: Bearer`,
RFC 6750), 403 a token or a person without the right, 404 nothing the caller may see, 409 a
conflict with the current state (a retry of a run that did not fail, an element name already
taken in its library), 413 a body over what Django reads (DATA_UPLOAD_MAX_MEMORY_SIZE; 25 MB
for a create, which may carry its references: api/endpoints.py), 422 a readable request with
invalid values (including a budget refusal and an Idempotency-Key reused for another request),
429 over a rate limit (with `Retry-After`, RFC 6585).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

logger = logging.getLogger("django.request")

# The code each status has when nothing more precise is said.
CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}


class ApiError(Exception):
    """An answer other than success, raised anywhere below an operation."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        field_errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")
        self.field_errors = {k: list(v) for k, v in (field_errors or {}).items()}
        self.headers = dict(headers or {})


class Unauthenticated(ApiError):
    def __init__(self, message: str, *, code: str = "unauthenticated") -> None:
        # RFC 6750: a request without a token gets the bare challenge, a bad token its error.
        challenge = 'Bearer realm="darkroom"'
        if code != "unauthenticated":
            challenge += ', error="invalid_token"'
        super().__init__(401, message, code=code, headers={"WWW-Authenticate": challenge})


def body(
    code: str, message: str, field_errors: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field_errors": dict(field_errors or {})}}


def _answer(api: NinjaAPI, request: HttpRequest, exc: ApiError) -> HttpResponse:
    response = api.create_response(
        request, body(exc.code, exc.message, exc.field_errors), status=exc.status
    )
    for name, value in exc.headers.items():
        response[name] = value
    return response


def _field_errors(errors: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """pydantic's errors by field: the location without where it came from (body, query)."""
    found: dict[str, list[str]] = {}
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in {"body", "query", "path", "header", "form", "file"}:
            location = location[1:]
        if location and location[0] == "payload":  # the body parameter's own name
            location = location[1:]
        found.setdefault(".".join(location) or "__all__", []).append(str(error.get("msg", "")))
    return found


def install(api: NinjaAPI) -> None:
    """Every exception an operation can meet, answered in the one shape."""

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return _answer(api, request, exc)

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return _answer(
            api,
            request,
            ApiError(422, "Some values are not valid.", field_errors=_field_errors(exc.errors)),
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return _answer(api, request, Unauthenticated("Send a token: Authorization: Bearer drk_…"))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _answer(api, request, ApiError(404, str(exc) or "Not found."))

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return _answer(api, request, ApiError(403, str(exc) or "You may not do that."))

    @api.exception_handler(RequestDataTooBig)
    def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        # A JSON body over Django's DATA_UPLOAD_MAX_MEMORY_SIZE (files go as multipart).
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
        return _answer(api, request, ApiError(413, f"The request body is over {limit:g} MB."))

    @api.exception_handler(MultiPartParserError)
    @api.exception_handler(BadRequest)
    @api.exception_handler(SuspiciousOperation)
    def unreadable(request: HttpRequest, exc: Exception) -> HttpResponse:
        # As Django answers them on a page (a multipart body it cannot read, too many fields or
        # files): 400, its message saying what it could not read.
        return _answer(api, request, ApiError(400, f"The request cannot be read: {exc}"))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return _answer(api, request, ApiError(exc.status_code, str(exc)))

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A bug: reported as Django reports one (the `django.request` log, with the traceback,
        # and got_request_exception), answered in the one shape without the details.
        logger.error(
            "Internal Server Error: %s", request.path, exc_info=exc, extra={"request": request}
        )
        got_request_exception.send(sender=None, request=request)
        return _answer(
            api, request, ApiError(500, "Something went wrong on our side.", code="server_error")
        )
