"""The main pages under the real Content-Security-Policy, in Chromium: nothing is refused.

Chromium reports each refusal twice: a console message ("Refused to execute inline script…")
and a `securitypolicyviolation` event, which a script Playwright adds to every page (outside
the page's policy) records. Both are read after every page and every step.
"""

from __future__ import annotations

import pytest

from projects.models import Role
from tests.conftest import log_in
from tests.factories import add_member, make_image, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} refused ${event.blockedURI || "inline"}`);
});
"""


class Watch:
    """Console messages and violation events of one browser page, as it moves between URLs."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", lambda message: self.console.append(message.text))

    def refusals(self) -> list[str]:
        events = self.page.evaluate("window.__violations || []")
        said = [
            text
            for text in self.console
            if "Refused to" in text or "Content Security Policy" in text
        ]
        self.console.clear()
        return events + said

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.settle()
        assert self.refusals() == [], url

    def settle(self) -> None:
        # Deferred scripts have run and htmx has processed the page; a swap or two has landed.
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(300)


def test_the_main_pages_run_under_the_policy_without_a_refusal(page, django_user_model) -> None:
    from playwright.sync_api import expect

    owner = django_user_model.objects.create_superuser(
        "olga", "olga@example.com", password="pw-olga-123456"
    )
    project = make_project(owner, "Harbour")
    add_member(
        project, django_user_model.objects.create_user("ed", password="pw-ed-123456"), Role.EDITOR
    )
    image = make_image(owner, project=project, prompt="a lighthouse at dusk")
    watch = Watch(page)

    page.goto("/login/")
    assert watch.refusals() == []
    log_in(page, owner, "pw-olga-123456")
    watch.settle()
    assert watch.refusals() == []

    # The generate form: htmx follows the options with the quote (a swap, no inline style).
    page.get_by_label("Number of images").fill("3")
    expect(page.locator("#quote")).to_contain_text("3 × 1k")
    assert watch.refusals() == []

    # The gallery with its tiles and lightbox (the original loads over the thumbnail).
    watch.open("/gallery/")
    page.locator("[data-tile] a.thumb").first.click()
    expect(page.locator("[data-lightbox-full]")).to_be_visible()
    page.keyboard.press("Escape")
    assert watch.refusals() == []

    for url in (
        f"/images/{image.uuid}/",
        f"/generations/{image.generation.uuid}/",
        f"/projects/{project.uuid}/",
        f"/projects/{project.uuid}/settings/",
        "/elements/",
        "/spend/",
        "/spend/review/",
        "/accounts/profile/",
        # The Django admin: its index, a list with actions and filters, and a change form.
        "/admin/",
        "/admin/generations/generation/",
        f"/admin/generations/generation/{image.generation.pk}/change/",
        "/admin/auth/user/",
        f"/admin/auth/user/{owner.pk}/change/",
    ):
        watch.open(url)

    # The invitation link selects itself on focus (static/js/links.js, once an onfocus=).
    watch.open("/accounts/invite/")
    page.get_by_role("button", name="Create an invitation link").click()
    link = page.get_by_label("Invitation link")
    link.focus()
    assert link.evaluate("f => f.selectionStart === 0 && f.selectionEnd === f.value.length")
    assert watch.refusals() == []

    # The watch sees a refusal when there is one: an inline handler put in by hand is refused.
    page.evaluate(
        """document.body.insertAdjacentHTML("beforeend", '<img src="/nope.png" onerror="1">')"""
    )
    page.wait_for_timeout(300)
    assert any("script-src" in refusal for refusal in watch.refusals())
