"""Both upload flows: multipart binary, and the two-step presigned PUT (without auth)."""

from __future__ import annotations

import io

import pytest
from conftest import Api, FakeClock
from PIL import Image

from simulator import spec


def _image_bytes(fmt: str, size: tuple[int, int] = (320, 320)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_binary_upload_accepts_images_and_serves_them(api: Api, fmt: str) -> None:
    data = _image_bytes(fmt)
    response = api.http.post(
        "/api/v3/media/upload/binary",
        files={"file": ("my ref.bin", data, "application/octet-stream")},  # name is ignored
    )
    assert response.status_code == 200, response.text
    uploaded = response.json()["data"]
    assert uploaded["type"] == "image"
    assert uploaded["size"] == len(data)
    assert uploaded["filename"] == "my_ref.bin"
    assert uploaded["download_url"].startswith(f"{api.base_url}/media/")

    served = api.bare.get(uploaded["download_url"])  # no auth needed
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == Image.MIME[fmt]


@pytest.mark.parametrize(
    "content",
    [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 50, b"%PDF-1.4 fake"],
)
def test_binary_upload_rejects_non_images(api: Api, content: bytes) -> None:
    response = api.http.post(
        "/api/v3/media/upload/binary", files={"file": ("photo.png", content, "image/png")}
    )
    assert response.status_code == 400
    assert "'file'" in response.json()["message"]


def test_binary_upload_rejects_more_than_20_mb(api: Api) -> None:
    data = _image_bytes("PNG")
    data += b"\0" * (spec.MAX_UPLOAD_BYTES + 1 - len(data))
    response = api.http.post(
        "/api/v3/media/upload/binary", files={"file": ("big.png", data, "image/png")}
    )
    assert response.status_code == 400
    assert "20 MB" in response.json()["message"]


def test_binary_upload_needs_the_file_field_and_auth(api: Api) -> None:
    wrong_field = api.http.post(
        "/api/v3/media/upload/binary", files={"image": ("a.png", _image_bytes("PNG"))}
    )
    assert wrong_field.status_code == 400
    assert "'file'" in wrong_field.json()["message"]
    no_auth = api.bare.post(
        "/api/v3/media/upload/binary", files={"file": ("a.png", _image_bytes("PNG"))}
    )
    assert no_auth.status_code == 401


def _start_upload(api: Api, data: bytes, content_type: str = "image/png") -> dict[str, object]:
    response = api.http.post(
        "/api/v3/media/uploads",
        json={"filename": "ref.png", "size": len(data), "content_type": content_type},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_two_step_upload(api: Api) -> None:
    data = _image_bytes("PNG")
    started = _start_upload(api, data)
    upload = started["upload"]
    assert upload["method"] == "PUT"
    assert upload["headers"] == {"Content-Type": "image/png"}
    assert upload["expires_at"].endswith("Z")
    download_url = started["download_url"]
    assert api.bare.get(download_url).status_code == 403  # nothing there before the PUT

    put = api.bare.put(upload["url"], content=data, headers=upload["headers"])
    assert put.status_code == 200, put.text
    assert put.headers["etag"]
    served = api.bare.get(download_url)
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "image/png"
    log = api.control("requests")
    assert [(e["method"], e["has_authorization"]) for e in log[-3:]] == [
        ("GET", False),
        ("PUT", False),
        ("GET", False),
    ]


def test_two_step_put_with_authorization_is_refused(api: Api) -> None:
    data = _image_bytes("PNG")
    upload = _start_upload(api, data)["upload"]
    put = api.http.put(upload["url"], content=data, headers=upload["headers"])  # has the key
    assert put.status_code == 400
    assert "Authorization" in put.text
    assert "<Error>" in put.text


def test_two_step_put_needs_exact_headers_and_size(api: Api) -> None:
    data = _image_bytes("PNG")
    upload = _start_upload(api, data)["upload"]
    wrong_type = api.bare.put(upload["url"], content=data, headers={"Content-Type": "image/jpeg"})
    assert wrong_type.status_code == 403
    assert "SignatureDoesNotMatch" in wrong_type.text
    no_type = api.bare.put(upload["url"], content=data)
    assert no_type.status_code == 403
    short = api.bare.put(upload["url"], content=data[:-1], headers=upload["headers"])
    assert short.status_code == 400
    forged = api.bare.put(
        upload["url"].replace("Signature=", "Signature=0"), content=data, headers=upload["headers"]
    )
    assert forged.status_code == 403
    ok = api.bare.put(upload["url"], content=data, headers=upload["headers"])
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"size": 10, "content_type": "image/png"}, "filename"),
        ({"filename": "a.png", "content_type": "image/png"}, "size"),
        ({"filename": "a.png", "size": 0, "content_type": "image/png"}, "size"),
        (
            {"filename": "a.png", "size": spec.MAX_UPLOAD_BYTES + 1, "content_type": "image/png"},
            "size",
        ),
        ({"filename": "a.svg", "size": 10, "content_type": "image/svg+xml"}, "content_type"),
    ],
)
def test_two_step_upload_validation(api: Api, body: dict[str, object], field: str) -> None:
    response = api.http.post("/api/v3/media/uploads", json=body)
    assert response.status_code == 400
    assert f"'{field}'" in response.json()["message"]


def test_uploads_expire_after_7_days(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    data = _image_bytes("JPEG")
    response = api.http.post("/api/v3/media/upload/binary", files={"file": ("a.jpg", data)})
    url = response.json()["data"]["download_url"]
    clock.advance(7 * 24 * 3600 - 1)
    assert api.bare.get(url).status_code == 200
    clock.advance(2)
    assert api.bare.get(url).status_code == 403


def test_presigned_url_expires(clocked_api: Api, clock: FakeClock) -> None:
    data = _image_bytes("PNG")
    upload = _start_upload(clocked_api, data)["upload"]
    clock.advance(spec.UPLOAD_URL_TTL + 1)
    put = clocked_api.bare.put(upload["url"], content=data, headers=upload["headers"])
    assert put.status_code == 403


def test_reference_to_a_missing_local_upload_fails_with_1402(api: Api) -> None:
    good = api.http.post(
        "/api/v3/media/upload/binary", files={"file": ("a.png", _image_bytes("PNG"))}
    ).json()["data"]["download_url"]
    ok = api.submit_ok({"prompt": "p", "images": [good, "https://elsewhere.example/x.png"]})
    assert api.wait(ok["id"])["status"] == "completed"

    missing = f"{api.base_url}/media/0123456789abcdef/gone.png"
    failed = api.wait(api.submit_ok({"prompt": "p", "images": [good, missing]})["id"])
    assert failed["status"] == "failed"
    assert failed["code"] == 1402
    assert missing in failed["error"]
