"""Errors that map straight onto an HTTP answer."""

from __future__ import annotations


class ApiError(Exception):
    """Answered as the JSON envelope {"code": status, "message": message, "data": null}."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class StorageError(Exception):
    """Answered like S3/CloudFront: an XML <Error> body (for PUT uploads, media, CDN)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def access_denied(message: str = "Access Denied") -> StorageError:
    # what CloudFront/S3 answer for a missing, expired or deleted object
    return StorageError(403, "AccessDenied", message)
