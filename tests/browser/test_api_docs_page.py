"""The API's reference page (/api/v1/docs, django-ninja's swagger-ui) in Chromium, under the
site's Content-Security-Policy: it draws every operation from the schema, fetches nothing from
another origin, and the policy refuses nothing (it is not loosened for this page)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from api.schema import schema_text
from tests.browser.test_content_security_policy import Watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_reference_page_runs_from_our_own_files_under_the_policy(page, live_server) -> None:
    from playwright.sync_api import expect

    ours = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            urlsplit(request.url).netloc not in (ours, "")
            and urlsplit(request.url).scheme in ("http", "https")
            and elsewhere.append(request.url)
        ),
    )
    watch = Watch(page)
    response = page.goto("/api/v1/docs")
    assert response.status == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible()
    watch.settle()
    operations = sum(len(ops) for ops in json.loads(schema_text())["paths"].values())
    assert page.locator(".opblock").count() == operations  # every operation of the schema
    # An operation opened shows its curl example (api/examples.py).
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-description-wrapper").first).to_contain_text("curl -s")
    expect(page.get_by_text("Darkroom API").first).to_be_visible()
    assert watch.refusals() == []
    assert elsewhere == []
