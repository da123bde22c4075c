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


@pytest.mark.parametrize(
    ("theme", "system", "dark"),
    [
        ("dark", "light", True),
        ("light", "dark", False),
        ("auto", "dark", True),
        ("auto", "light", False),
    ],
)
def test_the_reference_page_wears_the_sites_theme(
    browser, live_server, theme, system, dark
) -> None:
    """The theme cookie (or, for "auto", the system's setting) turns on swagger-ui's own dark
    mode, on the site's dark background; under the policy, and without sideways scrolling on a
    phone (a long curl example scrolls inside its block)."""
    from playwright.sync_api import expect

    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, color_scheme=system
    )
    context.add_cookies([{"name": "theme", "value": theme, "url": live_server.url}])
    page = context.new_page()
    watch = Watch(page)
    page.goto("/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    html = page.locator("html")
    if dark:
        expect(html).to_have_class("dark-mode")
    else:
        expect(html).not_to_have_class("dark-mode")
    background = page.evaluate(
        "getComputedStyle(document.querySelector('.swagger-ui')).backgroundColor"
    )
    assert (background == "rgb(17, 18, 20)") == dark, background  # palette.css: dark --bg
    page.locator("#operations-generations-api_endpoints_create_generation .opblock-summary").click()
    expect(page.locator(".opblock-description-wrapper pre").first).to_be_visible()
    watch.settle()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert watch.refusals() == []
    context.close()
