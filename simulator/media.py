"""Reference-image uploads: the one-shot binary upload and the two-step presigned PUT."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import quote, urlsplit

from PIL import Image

from simulator import spec
from simulator.errors import ApiError, StorageError, access_denied
from simulator.timefmt import iso


@dataclass
class Upload:
    id: str
    filename: str
    content_type: str
    created_at: float
    declared_size: int | None = None  # two-step only: the size announced up front
    put_token: str | None = None  # two-step only: the presigned URL's signature
    put_expires_at: float | None = None
    data: bytes | None = None  # None until the PUT arrives
    headers_seen: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": None if self.data is None else len(self.data),
            "declared_size": self.declared_size,
            "uploaded": self.data is not None,
            "created_at": iso(self.created_at),
        }


def safe_filename(name: Any, fallback: str = "upload") -> str:
    """A filename that is safe in a URL path segment."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return name[:100] or fallback


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Fields of a multipart/form-data body: name -> (filename, bytes). Small and strict."""
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise ApiError(400, "Expected a multipart/form-data body with a 'file' field")
    fields: dict[str, tuple[str | None, bytes]] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # closing delimiter
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        part = Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                part[name.strip()] = value.strip()
        field_name = part.get_param("name", header="content-disposition")
        if isinstance(field_name, str):
            fields[field_name] = (part.get_filename(), content.removesuffix(b"\r\n"))
    return fields


def sniff_image(data: bytes) -> str:
    """The Pillow format of `data` if it is an accepted image; else ApiError 400."""
    try:
        with Image.open(io.BytesIO(data), formats=list(spec.UPLOAD_FORMATS)) as image:
            image_format = image.format or ""
            image.verify()  # catches truncated or corrupt files without decoding pixels
    except Exception as exc:  # Pillow raises many kinds; all mean "not an image we take"
        raise ApiError(
            400,
            f"Invalid parameter 'file': not a supported image ({', '.join(spec.UPLOAD_FORMATS)})",
        ) from exc
    return image_format


class MediaStore:
    """Uploaded files, served back (no auth) at their download URL for RETENTION_SECONDS."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._uploads: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._uploads.clear()

    def summaries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [upload.summary() for upload in self._uploads.values()]

    @staticmethod
    def download_url(base_url: str, upload: Upload) -> str:
        return f"{base_url}/media/{upload.id}/{quote(upload.filename)}"

    def store_binary(self, content_type: str, body: bytes, base_url: str) -> dict[str, Any]:
        """POST /api/v3/media/upload/binary: answer data {type, download_url, filename, size}."""
        fields = parse_multipart(content_type, body)
        if "file" not in fields:
            raise ApiError(400, "Invalid parameter 'file': is required (multipart field 'file')")
        filename, data = fields["file"]
        if not data:
            raise ApiError(400, "Invalid parameter 'file': is empty")
        if len(data) > spec.MAX_UPLOAD_BYTES:
            raise ApiError(
                400,
                f"Invalid parameter 'file': larger than {spec.MAX_UPLOAD_BYTES // 2**20} MB",
            )
        image_format = sniff_image(data)
        mime = Image.MIME.get(image_format, "application/octet-stream")
        upload = Upload(
            id=secrets.token_hex(16),
            filename=safe_filename(filename, f"upload{spec.UPLOAD_CONTENT_TYPES.get(mime, '')}"),
            content_type=mime,
            created_at=self._clock(),
            data=data,
        )
        with self._lock:
            self._uploads[upload.id] = upload
        return {
            "type": "image",
            "download_url": self.download_url(base_url, upload),
            "filename": upload.filename,
            "size": len(data),
        }

    def create_upload(self, body: Any, base_url: str) -> dict[str, Any]:
        """POST /api/v3/media/uploads: a presigned PUT URL plus the future download URL."""
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid parameter 'body': must be a JSON object")
        filename = body.get("filename")
        if not isinstance(filename, str) or not filename.strip():
            raise ApiError(400, "Invalid parameter 'filename': is required")
        size = body.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ApiError(400, "Invalid parameter 'size': must be a positive integer")
        if size > spec.MAX_UPLOAD_BYTES:
            raise ApiError(
                400,
                f"Invalid parameter 'size': larger than {spec.MAX_UPLOAD_BYTES // 2**20} MB",
            )
        content_type = body.get("content_type")
        if content_type not in spec.UPLOAD_CONTENT_TYPES:
            raise ApiError(
                400,
                "Invalid parameter 'content_type': must be one of "
                + ", ".join(spec.UPLOAD_CONTENT_TYPES),
            )
        now = self._clock()
        upload = Upload(
            id=secrets.token_hex(16),
            filename=safe_filename(filename),
            content_type=content_type,
            created_at=now,
            declared_size=size,
            put_token=secrets.token_hex(20),
            put_expires_at=now + spec.UPLOAD_URL_TTL,
        )
        with self._lock:
            self._uploads[upload.id] = upload
        # [inferred] an S3-style presigned URL; the real host is a storage bucket
        put_url = (
            f"{base_url}/upload/{upload.id}/{quote(upload.filename)}"
            f"?X-Amz-Expires={int(spec.UPLOAD_URL_TTL)}&X-Amz-Signature={upload.put_token}"
        )
        return {
            "upload": {
                "method": "PUT",
                "url": put_url,
                "headers": {"Content-Type": content_type},
                "expires_at": iso(upload.put_expires_at),
            },
            "download_url": self.download_url(base_url, upload),
        }

    def put(
        self, upload_id: str, signature: str | None, headers: Mapping[str, str], data: bytes
    ) -> str:
        """The PUT to a presigned URL. Returns the ETag; raises StorageError like S3 would."""
        with self._lock:
            upload = self._uploads.get(upload_id)
            if upload is None or upload.put_token is None:
                raise access_denied()
            if not signature or not secrets.compare_digest(signature, upload.put_token):
                raise StorageError(403, "SignatureDoesNotMatch", "The signature does not match")
            if upload.put_expires_at is not None and self._clock() > upload.put_expires_at:
                raise access_denied("Request has expired")
            if headers.get("authorization") is not None:
                # the docs say: PUT with upload.headers only, and no Authorization header
                raise StorageError(
                    400,
                    "InvalidArgument",
                    "Only one auth mechanism allowed: do not send an Authorization header "
                    "with a presigned URL",
                )
            if headers.get("content-type") != upload.content_type:
                raise StorageError(
                    403,
                    "SignatureDoesNotMatch",
                    f"Content-Type must be exactly {upload.content_type!r} as signed",
                )
            if len(data) != upload.declared_size:
                raise StorageError(
                    400,
                    "InvalidRequest",
                    f"Body is {len(data)} bytes but {upload.declared_size} were declared",
                )
            upload.data = data
            upload.headers_seen = dict(headers)
        return hashlib.md5(data, usedforsecurity=False).hexdigest()  # S3-style ETag

    def get(self, upload_id: str) -> Upload:
        """An uploaded file still within retention; StorageError 403 otherwise."""
        with self._lock:
            upload = self._uploads.get(upload_id)
        if (
            upload is None
            or upload.data is None
            or self._clock() > upload.created_at + spec.RETENTION_SECONDS
        ):
            raise access_denied()
        return upload

    def is_missing_local(self, url: str, base_url: str) -> bool:
        """True when `url` points at this simulator's /media/ but no such file is there."""
        ours, theirs = urlsplit(base_url), urlsplit(url)
        if theirs.netloc != ours.netloc or not theirs.path.startswith("/media/"):
            return False
        upload_id = theirs.path.split("/")[2] if theirs.path.count("/") >= 2 else ""
        try:
            self.get(upload_id)
        except StorageError:
            return True
        return False
