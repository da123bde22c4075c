"""A bug inside an operation answers 500 in the API's one error shape, with no details, and is
reported as Django reports one (the `django.request` log and got_request_exception)."""

from __future__ import annotations

import logging

from django.core.signals import got_request_exception

from generations import pricing


def test_an_unexpected_error_answers_500_as_json_and_is_reported(api, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug with a secret detail")

    monkeypatch.setattr(pricing, "quote", broken)
    api.client.raise_request_exception = False  # answer as a server would, not re-raise
    reported = []

    def on_exception(**kwargs):
        reported.append(kwargs["request"].path)

    got_request_exception.connect(on_exception)
    try:
        with caplog.at_level(logging.ERROR, logger="django.request"):
            response = api.get("/api/v1/quote", resolution="1k", num_images=1)
    finally:
        got_request_exception.disconnect(on_exception)

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Something went wrong on our side.",
            "field_errors": {},
        }
    }
    assert "secret detail" not in response.content.decode()
    assert reported == ["/api/v1/quote"]
    assert any("a bug with a secret detail" in str(r.exc_info[1]) for r in caplog.records)
